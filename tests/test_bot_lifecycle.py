"""The bot's lifecycle through the real discord.py and the fake Discord: slow work behind an
acknowledgement, the shutdown order and its deadline, and start-up problems that must be one
clear line instead of a traceback."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # registered as a plugin in conftest.py, so its asserts are rewritten
    from tests.bot_harness import BotHarness


async def test_unwatch_acknowledges_before_stopping_a_slow_recorder(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    h.kick.add_channel("slowstop", live=True, viewers=10)
    await h.answer(cast.reviewer, "watch", {"streamer": "slowstop"})
    feed: Any = h.services.hub.feeds["slowstop"]
    stop = feed.stop

    async def slow_stop() -> None:  # a recorder that takes its time to exit
        await asyncio.sleep(0.6)
        await stop()

    feed.stop = slow_stop
    rec = await h.fake.inject_slash(
        cast.guild,
        cast.general,
        cast.reviewer,
        "unwatch",
        {"streamer": "slowstop"},
        ack_timeout=0.4,
    )
    assert (await rec.response()).type == 5  # deferred before the slow part
    answer = await h.final_message(rec)
    assert answer.ephemeral and "Stopped watching `slowstop`" in answer.content
    assert "slowstop" not in h.services.hub.feeds


async def test_a_sync_guild_the_bot_is_not_in_is_one_line_not_a_crash(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    h, cast = harness, harness.cast
    stranger = 424242424242424242
    h.config = dataclasses.replace(
        h.config,
        discord=dataclasses.replace(h.config.discord, sync_guilds=(stranger, cast.guild.id)),
    )
    h.expect_error(rf"cannot register slash commands in guild {stranger} \(50001 ")
    syncs = len(h.fake.command_syncs)
    await h.restart()  # a traceback here would fail the start
    assert [s.guild_id for s in h.fake.command_syncs[syncs:]] == [cast.guild.id]
    assert [e.code for e in h.fake.errors] == [50001]
    lines = [r for r in caplog.records if "cannot register slash commands" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None
    answer = await h.answer(cast.plain, "stats")  # the bot works in the guild it is in
    assert "watches nobody yet" in answer.content
