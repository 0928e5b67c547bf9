"""Clip posts survive Discord's failures exactly once (issue 11, items 1-3): a 5xx after the
message was created, an outage, and crash recovery in a busy channel; with the real ClipBot
against the fake Discord, which implements `enforce_nonce` as Discord documents it.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord
import pytest

from engine.backoff import Backoff
from engine.core.daily import next_midnight
from tests.fakes.discord_server import Message, Perm

if TYPE_CHECKING:  # registered as a plugin in conftest.py, so its asserts are rewritten
    from tests.bot_harness import BotHarness


def posts_of(h: BotHarness, clip_id: int) -> list[Message]:
    return [m for m in h.review_messages() if f"clip:approve:{clip_id}" in m.custom_ids()]


async def wait_status(h: BotHarness, clip_id: int, status: str, limit_s: float = 5.0) -> Any:
    """The clip's row once it has `status` (the outbox works in the background)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while True:
        row = await h.app.clips.get(clip_id)
        if row is not None and row.status == status:
            return row
        if loop.time() > deadline:
            raise AssertionError(f"clip {clip_id} never became {status}: {row}")
        await asyncio.sleep(0.05)


def creates(h: BotHarness) -> list[Any]:
    path = f"/channels/{h.cast.review.id}/messages"
    return [r for r in h.fake.requests if r.method == "POST" and r.path.endswith(path)]


async def test_a_502_after_create_is_retried_into_the_same_message(harness: BotHarness) -> None:
    """discord.py retries a 502 itself with the same nonce: Discord hands back the message the
    first try created, and the clip is recorded with it."""
    h = harness
    await h.setup_review()
    clip_id = await h.ready_clip()
    h.fake.fail_after_next("POST", rf"/channels/{h.cast.review.id}/messages$")
    await h.post(clip_id)
    (msg,) = posts_of(h, clip_id)
    assert [r.status for r in creates(h)] == [502, 200]
    row = await h.app.clips.get(clip_id)
    assert row is not None and row.status == "posted" and row.message_id == msg.id


async def test_a_failed_post_is_sent_again_with_the_clips_own_nonce(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """A 503 (not retried by discord.py) after Discord created the message, and no Read Message
    History to look the post up: the next attempt must not make a second message. The clip's
    nonce is the same on every attempt (and after a restart), so Discord returns the first."""
    h, cast = harness, harness.cast
    await h.setup_review()
    bot_member = cast.guild.members[h.fake.bot_user.id]
    h.fake.set_overwrite(cast.review, bot_member, deny=Perm.READ_MESSAGE_HISTORY)
    clip_id = await h.ready_clip()
    h.fake.fail_after_next(
        "POST", rf"/channels/{cast.review.id}/messages$", 503, 0, "Service Unavailable"
    )
    with contextlib.suppress(discord.DiscordServerError):  # before the outbox, it raised
        await h.post(clip_id)
    assert len(posts_of(h, clip_id)) == 1  # Discord has it; the bot does not know
    assert (await h.app.clips.get(clip_id)).status == "posting"  # type: ignore[union-attr]
    await h.restart()  # a new process: a random per-send nonce would differ now
    row = await wait_status(h, clip_id, "posted")
    (msg,) = posts_of(h, clip_id)
    assert row.message_id == msg.id
    nonces = {r.json["nonce"] for r in creates(h)}
    assert len(nonces) == 1 and all(r.json["enforce_nonce"] for r in creates(h))


async def test_an_outage_ends_in_posted_clips_and_stats_shows_the_wait(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord refuses every message create (503, which discord.py does not retry) for a while:
    the clip waits in the outbox, /stats says so and why, and it is posted once Discord is back,
    without a restart or /setup."""
    h, cast = harness, harness.cast
    await h.setup_review()
    outbox = getattr(h.bot.get_cog("Review"), "outbox", None)
    if outbox is not None:  # fast retries for the test (5 s .. 5 min in production)
        outbox.backoff = Backoff(0.05, 0.2)
        outbox.min_delay_s = 0.05
    h.fake.fail_next(
        "POST", rf"/channels/{cast.review.id}/messages$", 503, 0, "Service Unavailable", count=10**6
    )
    clip_id = await h.ready_clip()
    with contextlib.suppress(discord.DiscordServerError):  # before the outbox, it raised
        await h.post(clip_id)
    await h.fake.wait_for(lambda: len(creates(h)) >= 3)  # retried in the background
    stats = await h.answer(cast.plain, "stats")
    assert "1 clip(s) waiting to post: Discord answered 503" in stats.content
    assert "the outbox retries it" in caplog.text and "stays ready" not in caplog.text
    assert "outbox: 1 clip(s) waiting to post (clip" in caplog.text

    h.fake.scripted_errors.clear()  # Discord is back
    row = await wait_status(h, clip_id, "posted")
    (msg,) = posts_of(h, clip_id)
    assert row.message_id == msg.id
    stats = await h.answer(cast.plain, "stats")
    assert "waiting to post" not in stats.content


async def test_crash_recovery_finds_the_post_behind_150_newer_messages(
    harness: BotHarness,
) -> None:
    """The bot died between Discord creating the review message and recording it; by the
    restart, 160 newer messages sit on top of it and Discord has forgotten the nonce. The post
    is found by searching forward from the clip's creation, not posted a second time."""
    h, cast = harness, harness.cast
    await h.setup_review()
    clip_id = await h.ready_clip()
    await h.post(clip_id)
    (msg,) = posts_of(h, clip_id)
    await h.services.db.execute("DELETE FROM posts WHERE clip_id = ?", (clip_id,))
    await h.app.clips.transition(clip_id, None, status="posting")
    chatty = h.fake.add_member(cast.guild, "chatty")
    for i in range(160):
        h.fake.inject_message(cast.review, chatty, f"hype {i}")
    h.fake.nonces.window_s = 0.0  # minutes later: only the search can find it now
    await h.restart()
    row = await wait_status(h, clip_id, "posted")
    assert row.message_id == msg.id and posts_of(h, clip_id) == [msg]
    searches = [
        r
        for r in h.fake.requests
        if r.method == "GET" and r.path.endswith(f"/channels/{cast.review.id}/messages")
    ]
    assert searches and all("after" in r.query for r in searches)


async def test_the_daily_summary_and_alert_dms_carry_their_own_nonce(
    harness: BotHarness,
) -> None:
    """The midnight job run twice (a restart at midnight, a retry) posts one summary; the
    super_combo DM is sent with a nonce of its own, so a retry returns the DM already sent."""
    h, cast = harness, harness.cast
    await h.setup_review()
    await h.answer(cast.reviewer, "alerts", subcommand="on")
    clip_id = await h.ready_clip(
        trigger="super_combo", triggers=("chat_velocity", "keyword", "emote_flood")
    )
    await h.post(clip_id)
    await h.fake.wait_for_message(lambda m: m.is_dm)
    (dm_create,) = [
        r
        for r in h.fake.requests
        if r.method == "POST" and "🔥 Super combo" in str((r.json or {}).get("content"))
    ]
    assert dm_create.json["nonce"].startswith("dm-") and dm_create.json["enforce_nonce"]

    cog: Any = h.bot.get_cog("Maintenance")
    midnight = next_midnight(datetime.now(UTC), "UTC").timestamp()
    cog.clock = lambda: midnight + 5
    before = len(h.review_messages())
    await cog.midnight()
    await cog.midnight()
    (summary,) = h.review_messages()[before:]
    assert "Daily clip summary for" in summary.content


async def test_the_daily_summary_survives_a_short_outage(harness: BotHarness) -> None:
    """Discord refuses the midnight summary twice (503): it is retried with backoff and posted
    once, instead of being dropped with a warning until the next midnight."""
    h, cast = harness, harness.cast
    await h.setup_review()
    await h.ready_clip()
    cog: Any = h.bot.get_cog("Maintenance")
    waited: list[float] = []

    async def no_wait(delay: float) -> None:
        waited.append(delay)

    cog.sleep = no_wait
    midnight = next_midnight(datetime.now(UTC), "UTC").timestamp()
    cog.clock = lambda: midnight + 5
    h.fake.fail_next(
        "POST", rf"/channels/{cast.review.id}/messages$", 503, 0, "Service Unavailable", count=2
    )
    before = len(h.review_messages())
    await cog.midnight()
    (summary,) = h.review_messages()[before:]
    assert "Daily clip summary for" in summary.content
    assert len(waited) == 2 and all(0 <= d <= 60 for d in waited)
