"""Slash commands end to end: the real ClipBot and discord.py against FakeDiscord, with FakeKick
and FakePusher behind the engine. Each test reads what a member would see (ephemeral flags,
texts, embeds, files) and what the database and the running detectors hold afterwards."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from engine.events import ChatMessage
from tests.fakes.discord_server import InvalidInteraction
from tests.fakes.kick_api import ROUTE_CHANNEL
from tests.fakes.pusher_server import chat_topic

if TYPE_CHECKING:  # registered as a plugin in conftest.py, so its asserts are rewritten
    from tests.bot_harness import BotHarness



async def _watch_live(h: BotHarness, slug: str = "xqc", viewers: int = 12345) -> int:
    """A live fake streamer watched by the guild; returns its chatroom id once chat is up."""
    if (await h.app.settings.get(h.cast.guild.id)).reviewer_role_id is None:
        await h.setup_review()  # the reviewer role exists for the bot only after /setup
    ch = h.kick.add_channel(slug, live=True, viewers=viewers, title="Ranked grind")
    msg = await h.answer(h.cast.reviewer, "watch", {"streamer": slug})
    assert msg.ephemeral and f"Now watching `{slug}`" in msg.content, msg.content
    await h.pusher.wait_for_subscription(chat_topic(ch.chatroom_id))
    return ch.chatroom_id


async def test_setup_needs_manage_server(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    synced = {c["name"] for c in h.fake.commands_for(cast.guild)}
    assert {"setup", "watch", "unwatch", "thresholds", "stats", "alerts", "review"} <= synced
    settings = await h.app.settings.get(cast.guild.id)
    assert settings.review_channel_id == cast.review.id
    assert settings.reviewer_role_id == cast.reviewers.id
    assert settings.upload_limit == cast.guild.upload_limit  # learnt from the interaction

    # Discord hides /setup from members without Manage Server (default_permissions) ...
    with pytest.raises(InvalidInteraction, match="needs permissions"):
        await h.slash(cast.plain, "setup", {"channel": cast.general})
    # ... but an admin can grant it to anyone under Integrations: the run-time check holds.
    h.fake.commands.find(cast.guild.id, "setup")["default_member_permissions"] = None
    refused = await h.answer(cast.plain, "setup", {"channel": cast.general})
    assert refused.ephemeral and "Manage Server" in refused.content
    assert (await h.app.settings.get(cast.guild.id)).review_channel_id == cast.review.id


async def test_watch_persists_and_resubscribes_after_restart(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    chatroom = await _watch_live(h)
    rec = await h.slash(cast.reviewer, "watch", {"streamer": "XQC"})
    assert (await rec.response()).type == 5  # deferred first: Kick can be slow
    again = await h.final_message(rec)
    assert "already watches `xqc` (live now with 12,345 viewers" in again.content
    assert "Ranked grind" in again.content
    assert [w.streamer for w in await h.app.watches.all(cast.guild.id)] == ["xqc"]

    await h.restart()
    assert h.app.hub.get(cast.guild.id, "xqc") is not None
    await h.pusher.wait_for_subscription(chat_topic(chatroom), count=2)


async def test_watch_refusals(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    unknown = await h.answer(cast.reviewer, "watch", {"streamer": "nobody_here"})
    assert unknown.ephemeral and "no Kick channel called `nobody_here`" in unknown.content
    bad = await h.answer(cast.reviewer, "watch", {"streamer": "not a slug!"})
    assert "is not a Kick channel name" in bad.content
    refused = await h.answer(cast.plain, "watch", {"streamer": "xqc"})
    assert refused.ephemeral and "Only reviewers" in refused.content
    assert await h.app.streamers(cast.guild.id) == []


async def test_watch_when_kick_blocks_the_lookup_uses_the_cached_ids(harness: BotHarness) -> None:
    """A 403 from Kick's site endpoint does not stop a /watch of a channel seen before: the
    cached chatroom id is enough, and the answer says the live state is not known yet."""
    h, cast = harness, harness.cast
    await _watch_live(h)
    await h.answer(cast.reviewer, "unwatch", {"streamer": "xqc"})
    h.kick.fail_next(403, count=1000, route=ROUTE_CHANNEL)
    h.expect_error(r"Kick channel lookup for xqc failed after")
    msg = await h.answer(cast.reviewer, "watch", {"streamer": "xqc"})
    assert msg.ephemeral and "Now watching `xqc`" in msg.content, msg.content
    assert "unknown" in msg.content and "live now" not in msg.content
    assert h.app.hub.get(cast.guild.id, "xqc") is not None


async def test_unwatch_and_autocomplete(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await _watch_live(h, "xqc")
    h.kick.add_channel("adin", live=False)
    offline = await h.answer(cast.reviewer, "watch", {"streamer": "adin"})
    assert "offline" in offline.content

    async def choices(typed: str) -> list[str]:
        rec = await h.fake.inject_autocomplete(
            cast.guild, cast.general, cast.reviewer, "unwatch", {"streamer": typed}, "streamer"
        )
        return [c["value"] for c in (await rec.response()).choices]

    assert await choices("") == ["adin", "xqc"]
    assert await choices("xq") == ["xqc"]
    done = await h.answer(cast.reviewer, "unwatch", {"streamer": "xqc"})
    assert "Stopped watching `xqc`" in done.content
    assert h.app.hub.get(cast.guild.id, "xqc") is None
    assert await choices("") == ["adin"]
    twice = await h.answer(cast.reviewer, "unwatch", {"streamer": "xqc"})
    assert "does not watch `xqc`" in twice.content


async def test_thresholds_validate_apply_live_and_reset(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await _watch_live(h)
    detector = h.app.hub.get(cast.guild.id, "xqc").detector  # type: ignore[union-attr]
    assert detector.config.triggers.keyword.min_count == 8

    async def run(sub: str, **options: object) -> str:
        msg = await h.answer(
            cast.reviewer, "thresholds", {"streamer": "xqc", **options}, subcommand=sub
        )
        assert msg.ephemeral
        return msg.content

    low = await run("set", trigger="keyword", value=1)
    assert "keyword must be between 2 and 500" in low
    assert "whole number" in await run("set", trigger="keyword", value=2.5)
    assert "is now **5**" in await run("set", trigger="keyword", value=5)
    assert detector.config.triggers.keyword.min_count == 5  # the running detector, no restart
    assert await h.app.watches.thresholds(cast.guild.id, "xqc") == {"keyword": 5.0}

    shown = await h.answer(cast.plain, "thresholds", {"streamer": "xqc"}, subcommand="show")
    fields = {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}
    assert fields["keyword (changed)"].startswith("**5** (default 8, 2-500)")
    assert "refused" not in await run("reset", trigger="keyword")
    assert detector.config.triggers.keyword.min_count == 8
    assert "Nothing to reset" in await run("reset")

    plain = await h.answer(
        cast.plain,
        "thresholds",
        {"streamer": "xqc", "trigger": "keyword", "value": 9},
        subcommand="set",
    )
    assert "Only reviewers" in plain.content
    other = await h.answer(cast.plain, "thresholds", {"streamer": "adin"}, subcommand="show")
    assert "does not watch `adin`; use /watch first" in other.content


async def test_stats_chart_and_daily_limit(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    chatroom = await _watch_live(h)
    watch = h.app.hub.get(cast.guild.id, "xqc")
    assert watch is not None
    feed: Any = h.app.hub.feeds["xqc"]
    await h.fake.wait_for(lambda: feed.status.live)  # chat counts only while live

    first = await h.answer(cast.plain, "stats", {"streamer": "xqc"})
    (embed,) = first.embeds
    assert embed["title"] == "xqc: 🔴 live" and "description" not in embed
    assert embed["image"]["url"] == "attachment://chart-xqc.png"
    assert first.file("chart-xqc.png").startswith(b"\x89PNG\r\n\x1a\n")

    msg = await h.answer(
        cast.reviewer,
        "thresholds",
        {"streamer": "xqc", "trigger": "daily_max_clips", "value": 1},
        subcommand="set",
    )
    assert "is now **1**" in msg.content
    # A keyword burst through the fake Pusher: 8 distinct chatters saying "CLIP IT".
    await h.pusher.burst(chatroom, [(f"fan{i}", "CLIP IT") for i in range(8)], rate=0)
    await h.fake.wait_for(lambda: watch.detector.snapshot(time.time()).clips_today == 1)
    clips = await h.app.clips.status_counts(cast.guild.id, "xqc")
    assert sum(clips.values()) == 1

    # Later the same day (past every cooldown and the open clip), chat explodes again.
    later = time.time() + 200
    for i in range(8):
        watch.on_event(ChatMessage(later + i * 0.1, f"late{i}", "CLIP IT"))
    snap = watch.detector.snapshot(later + 1)
    assert snap.suppressed_today.get("daily_limit") == 1
    assert sum((await h.app.clips.status_counts(cast.guild.id, "xqc")).values()) == 1

    h.app.sample_history()  # what the scheduler does every 10 s
    series = h.app.chart_series("xqc")
    assert series.samples and [m.trigger for m in series.marks] == ["keyword"]
    limited = await h.answer(cast.plain, "stats")
    (embed,) = limited.embeds
    assert "daily limit reached: 1/1, no more clips until midnight UTC" in embed["description"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Clips today"] == "1/1"
    assert "keyword" in fields["Triggers fired today"]
    assert fields["Suppressed today"] == "daily limit 1"
    assert limited.file("chart-xqc.png").startswith(b"\x89PNG")


async def test_stats_without_watches(harness: BotHarness) -> None:
    msg = await harness.answer(harness.cast.plain, "stats")
    assert msg.ephemeral and "watches nobody yet" in msg.content


async def test_alerts_on_off(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    on = await h.answer(cast.plain, "alerts", subcommand="on")
    assert on.ephemeral and "You will get a DM" in on.content
    assert await h.app.settings.subscribers(cast.guild.id) == [cast.plain.id]
    again = await h.answer(cast.plain, "alerts", subcommand="on")
    assert again.content.startswith("Already on")
    off = await h.answer(cast.plain, "alerts", subcommand="off")
    assert off.content == "Super combo DMs are off."
    assert await h.app.settings.subscribers(cast.guild.id) == []


async def test_unexpected_error_shows_a_reference(harness: BotHarness) -> None:
    h = harness

    async def broken(*_args: object) -> list[str]:
        raise RuntimeError("database on fire")

    h.app.stats = broken  # type: ignore[method-assign, assignment]
    h.expect_error(r"unexpected error \(ref [0-9a-f]{8}\) in stats")
    msg = await h.answer(h.cast.plain, "stats")
    assert msg.ephemeral
    assert msg.content.startswith("Something went wrong (ref ")
    ref = msg.content.split("(ref ")[1][:8]
    assert int(ref, 16) >= 0
