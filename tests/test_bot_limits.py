"""Discord's size limits on what the bot answers, through the real bot and the fake Discord
(which refuses what Discord refuses: 4096 per description, 6000 over all embeds of a message,
10 embeds). Each test builds the worst realistic case the audit found."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from engine.detection.thresholds import TUNABLES

if TYPE_CHECKING:  # registered as a plugin in conftest.py, so its asserts are rewritten
    from tests.bot_harness import BotHarness

LONG_SLUG = "a_very_long_streamer_name"  # 25 characters, Kick's maximum


def embed_chars(embed: dict[str, Any]) -> int:
    """What Discord counts towards the 6000: titles, descriptions, fields, footers, authors."""
    fields = embed.get("fields") or []
    return (
        len(embed.get("title") or "")
        + len(embed.get("description") or "")
        + sum(len(f["name"]) + len(f["value"]) for f in fields)
        + len((embed.get("footer") or {}).get("text") or "")
        + len((embed.get("author") or {}).get("name") or "")
    )


async def test_review_pending_fits_the_description_and_counts_the_rest(
    harness: BotHarness,
) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    ids = []
    for n in range(30):  # more than one answer lists, each with a long title and a jump link
        clip_id = await h.ready_clip(LONG_SLUG)
        await h.app.clips.transition(clip_id, None, title="T" * 100)
        await h.app.clips.record_post(
            clip_id, cast.guild.id, cast.review.id, 1_400_000_000_000_000_000 + n
        )
        ids.append(clip_id)
    listing = await h.answer(cast.reviewer, "review", subcommand="pending")
    (embed,) = listing.embeds
    text = embed["description"]
    assert len(text) <= 4096
    listed = [i for i in ids if f"#{i} " in text]
    assert listed == ids[: len(listed)] and 10 <= len(listed) < 25  # the oldest, in order
    assert f"… and {30 - len(listed)} more waiting" in text
    assert embed["footer"]["text"] == "30 clip(s) waiting in all"


async def test_stats_of_many_busy_streamers_splits_within_discords_limits(
    harness: BotHarness,
) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    slugs = [f"busy_streamer_number_{i:02d}" for i in range(12)]
    for slug in slugs:
        h.kick.add_channel(slug, live=False)
        answer = await h.answer(cast.reviewer, "watch", {"streamer": slug})
        assert "Now watching" in answer.content
    real = h.app.stats

    async def busy(guild_id: int, streamer: str | None) -> list[Any]:
        found = await real(guild_id, streamer)
        for item in found:  # a day with every trigger firing and being held back
            item.snapshot = dataclasses.replace(
                item.snapshot,
                fired_today={name: 12 for name in TUNABLES},
                suppressed_today={"cooldown": 40, "daily_limit": 9, "offline": 3},
                open_clip="super combo until 12:34:56, upgraded twice",
            )
            item.clip_counts = {"posted": 12, "approved": 30, "rejected": 7, "cutting": 2}
        return found

    h.app.stats = busy  # type: ignore[method-assign]
    rec = await h.slash(cast.plain, "stats")
    assert (await rec.response()).type == 5
    messages = await rec.wait_followups(2)
    shown = []
    for msg in messages:
        assert len(msg.embeds) <= 10
        assert sum(embed_chars(e) for e in msg.embeds) <= 6000
        for embed in msg.embeds:  # each chart is in the message of its embed
            name = embed["image"]["url"].removeprefix("attachment://")
            assert msg.file(name).startswith(b"\x89PNG")
            shown.append(embed["title"].split(":")[0])
    assert shown == sorted(slugs)
    assert all(m.ephemeral for m in messages)
