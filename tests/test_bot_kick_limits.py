"""/watch against a hostile or rate-limiting Kick and past the per-server cap, end to end: the real
ClipBot and discord.py against FakeDiscord, FakeKick (serving hostile answers) and FakePusher."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

import pytest

from tests.fakes.kick_api import ROUTE_CHANNEL
from tests.fakes.pusher_server import chat_topic

if TYPE_CHECKING:
    from tests.bot_harness import BotHarness


async def test_watch_after_a_huge_retry_after_says_the_real_wait(harness: BotHarness) -> None:
    """Retry-After: 99999 used to answer "try again in a minute" and then silence Kick for
    ~28 h; the answer now gives the capped wait (kick.retry_after_max_s, 300 s)."""
    h = harness
    await h.setup_review()
    h.kick.add_channel("xqc", live=True)
    h.kick.fail_next(429, retry_after=99999, route=ROUTE_CHANNEL)
    h.expect_error(r"beyond the 60 s retry budget")
    msg = await h.answer(h.cast.reviewer, "watch", {"streamer": "xqc"})
    assert msg.ephemeral and "rate limiting" in msg.content, msg.content
    assert "possible in 5 min" in msg.content and "a minute" not in msg.content, msg.content
    again = await h.answer(h.cast.reviewer, "watch", {"streamer": "xqc"})
    assert "possible in 5 min" in again.content or "possible in 4 min" in again.content
    assert await h.app.streamers(h.cast.guild.id) == []


@pytest.mark.parametrize(
    ("patch", "reason"),
    [({"slug": "../../tmp/pwn"}, "not a Kick channel name"),
     ({"chatroom": {"id": -5}}, "chatroom id -5"),
     ({"id": 10**30}, "not an id")],
    ids=["path-slug", "negative-chatroom", "huge-id"],
)  # fmt: skip
async def test_a_hostile_lookup_is_refused_and_nothing_is_saved(
    harness: BotHarness, patch: dict[str, object], reason: str
) -> None:
    h = harness
    await h.setup_review()
    h.kick.add_channel("xqc", live=True)
    h.kick.tamper("xqc", site=patch)
    msg = await h.answer(h.cast.reviewer, "watch", {"streamer": "xqc"})
    assert msg.ephemeral and "was refused" in msg.content and reason in msg.content, msg.content
    assert "Nothing was saved" in msg.content
    assert await h.app.streamers(h.cast.guild.id) == []
    assert h.app.hub.feeds == {} and not h.pusher.subscriptions
    assert not (h.data_dir / "tmp").exists()


async def test_a_bad_name_saved_by_an_older_version_is_skipped_and_unwatchable(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """A row an older version saved from a hostile answer: a restart warns once (no ERROR
    traceback) and /unwatch removes it."""
    h, gid = harness, harness.cast.guild.id
    await h.setup_review()
    await h.app.watches.add(gid, "../../tmp/pwn", None)
    await h.restart()
    warned = [r for r in caplog.records if "not a Kick channel name" in r.getMessage()]
    assert warned and all(r.levelno == logging.WARNING for r in warned)
    assert h.app.hub.feeds == {}
    done = await h.answer(h.cast.reviewer, "unwatch", {"streamer": "../../tmp/pwn"})
    assert "Stopped watching `../../tmp/pwn`" in done.content, done.content
    assert await h.app.streamers(gid) == []


async def test_watches_per_server_are_capped_with_a_clear_refusal(harness: BotHarness) -> None:
    h, gid = harness, harness.cast.guild.id
    h.config = dataclasses.replace(
        h.config, limits=dataclasses.replace(h.config.limits, max_watches_per_guild=2)
    )
    await h.restart()
    await h.setup_review()
    for slug in ("aa", "bb", "cc"):
        h.kick.add_channel(slug, live=False)
    for slug in ("aa", "bb"):
        ok = await h.answer(h.cast.reviewer, "watch", {"streamer": slug})
        assert f"Now watching `{slug}`" in ok.content, ok.content
    refused = await h.answer(h.cast.reviewer, "watch", {"streamer": "cc"})
    assert refused.ephemeral and "already watches 2 streamers" in refused.content
    assert "limits.max_watches_per_guild = 2" in refused.content
    assert not [r for r in h.kick.requests if r.path.endswith("/cc")]  # before asking Kick
    again = await h.answer(h.cast.reviewer, "watch", {"streamer": "aa"})
    assert "already watches `aa`" in again.content  # a watched one is not a new one
    assert await h.app.streamers(gid) == ["aa", "bb"]
    assert sorted(h.app.hub.feeds) == ["aa", "bb"]
    for slug in ("aa", "bb"):
        await h.pusher.wait_for_subscription(chat_topic(h.kick.channels[slug].chatroom_id))
    assert h.pusher.connected == 1  # both streamers' chat rides one shared Pusher socket
