"""The bot's lifecycle through the real discord.py and the fake Discord: slow work behind an
acknowledgement, the shutdown order and its deadline, and start-up problems that must be one
clear line instead of a traceback."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import TYPE_CHECKING, Any

import pytest

from engine.events import Moment

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


async def test_moments_in_flight_at_shutdown_are_stored_before_the_pipeline_closes(
    harness: BotHarness,
) -> None:
    """A moment handed over just before SIGTERM: the hub drains it into a still-open pipeline,
    which then cancels the clip's job; the clip stays `detected` and resumes on the next start
    (before, the job started after the pipeline had closed and outlived the bot)."""
    h, cast = harness, harness.cast
    await h.setup_review()
    h.kick.add_channel("inflight", live=False)
    await h.answer(cast.reviewer, "watch", {"streamer": "inflight"})
    watch: Any = h.app.hub.get(cast.guild.id, "inflight")
    app = h.app
    on_moment = app.on_moment

    async def slow_on_moment(guild_id: int, moment: Moment) -> None:
        await asyncio.sleep(0.3)  # still on its way when the bot is told to stop
        await on_moment(guild_id, moment)

    app.on_moment = slow_on_moment  # type: ignore[method-assign]
    t = time.time()
    moment = Moment(t, "inflight", "keyword", ("keyword",), 0.9, t - 20, t + 60, {}, "late-1", 0)
    task = asyncio.get_running_loop().create_task(watch._deliver(moment))
    watch._pending.add(task)
    await h.stop()  # the harness fails the test on tasks left running
    await h.start()
    (row,) = await h.app.clips.with_status("detected", "cutting")
    assert row.moment_key == "late-1"


async def test_shutdown_has_a_deadline_and_says_what_was_still_running(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    h.kick.add_channel("stuck", live=False)
    await h.answer(cast.reviewer, "watch", {"streamer": "stuck"})
    feed: Any = h.services.hub.feeds["stuck"]
    really_stop = feed.stop

    async def never_stops() -> None:
        await asyncio.sleep(3600)

    feed.stop = never_stops
    h.bot.shutdown_deadline_s = 1.5  # type: ignore[union-attr]
    h.expect_error("shutdown: gave up after")
    # The abandoned feed may still poll once after the Kick client closed under it.
    h.expect_error("poller stuck: unexpected error while polling")
    db = h.services.db
    started = time.monotonic()
    await h.stop()
    assert time.monotonic() - started < 2.5
    (line,) = [r.getMessage() for r in caplog.records if "gave up" in r.getMessage()]
    assert "while stopping feeds, recorders and clip jobs" in line and "still running:" in line
    with pytest.raises(ValueError):  # closed even though the feed never stopped
        await db.fetchone("SELECT 1")
    await really_stop()  # what the end of the process does to it in production
