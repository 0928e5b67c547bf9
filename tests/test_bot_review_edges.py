"""Review edge cases through the real bot and the fake Discord: abandoned rename modals, bulk
actions whose message edits partly fail, and messages of clips the cleanup deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from cogs import review_view
from cogs.review_view import MODAL_TIMEOUT_S, RENAME_INPUT
from tests.bot_harness import updated
from tests.fakes.discord_server import InteractionFailed, Message

if TYPE_CHECKING:  # registered as a plugin in conftest.py, so its asserts are rewritten
    from tests.bot_harness import BotHarness


async def posted_clip(h: BotHarness, **kwargs: Any) -> tuple[int, Message]:
    clip_id = await h.ready_clip(**kwargs)
    await h.post(clip_id)
    msg = await h.fake.wait_for_message(
        lambda m: f"clip:approve:{clip_id}" in m.custom_ids(), channel=h.cast.review
    )
    return clip_id, msg


def open_modals(h: BotHarness) -> dict[str, Any]:
    return h.bot._connection._view_store._modals  # type: ignore[union-attr]


async def test_a_dismissed_rename_modal_times_out_with_its_token(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    clip_id, msg = await posted_clip(h)
    monkeypatch.setattr(review_view, "MODAL_TIMEOUT_S", 0.5)  # 15 minutes, compressed
    first = await h.fake.inject_button(msg, f"clip:rename:{clip_id}", cast.reviewer)
    assert (await first.response()).type == 9  # ... and the member closes it without a word
    monkeypatch.setattr(review_view, "MODAL_TIMEOUT_S", MODAL_TIMEOUT_S)
    second = await h.fake.inject_button(msg, f"clip:rename:{clip_id}", cast.reviewer)
    assert (await second.response()).type == 9
    modals = await h.fake.wait_for(lambda: len(open_modals(h)) == 2 and open_modals(h))
    assert sorted(m.timeout for m in modals.values()) == [0.5, 15 * 60]
    await h.fake.wait_for(lambda: len(open_modals(h)) == 1)  # the abandoned one is gone
    late = await h.fake.inject_modal_submit(first, {RENAME_INPUT: "too late"}, ack_timeout=0.3)
    with pytest.raises(InteractionFailed):
        await late.response()
    # The newer modal of the same member and clip survived the older one's timeout.
    submit = await h.fake.inject_modal_submit(second, {RENAME_INPUT: "Fresh title"})
    await updated(submit)
    assert (await h.app.clips.get(clip_id)).title == "Fresh title"  # type: ignore[union-attr]


def fields(msg: Message) -> dict[str, str]:
    return {f["name"]: f["value"] for f in msg.embeds[0]["fields"]}


async def test_bulk_review_counts_messages_it_could_not_update(harness: BotHarness) -> None:
    """The database changed for all three; one message was deleted, Discord refused the edit of
    another (30046): the reviewer reads the totals, not an error."""
    h, cast = harness, harness.cast
    await h.setup_review()
    posted = [await posted_clip(h) for _ in range(3)]
    (_, ok_msg), (_, deleted_msg), (_, refused_msg) = posted
    h.fake.delete_message(deleted_msg)
    h.fake.fail_next(
        "PATCH",
        rf"/messages/{refused_msg.id}$",
        400,
        30046,
        "Maximum number of edits to messages older than 1 hour reached. Try again later",
    )
    done = await h.answer(cast.reviewer, "review", subcommand="approve_all")
    assert done.ephemeral and done.content.startswith("Approved 3 clip(s).")
    assert "1 review message(s) could not be updated (deleted or hidden)" in done.content
    assert "1 review message(s) could not be updated because Discord refused" in done.content
    for clip_id, _msg in posted:
        assert (await h.app.clips.get(clip_id)).status == "approved"  # type: ignore[union-attr]
    assert fields(ok_msg)["Status"].startswith("✅ approved")
    assert fields(refused_msg)["Status"] == "waiting for review"
    assert [e.code for e in h.fake.errors if e.method == "PATCH"] == [30046]


async def test_every_command_is_guild_only(harness: BotHarness) -> None:
    synced = harness.fake.commands_for(harness.cast.guild)
    assert {c["name"] for c in synced} >= {"review", "stats", "watch", "thresholds", "alerts"}
    assert [c["name"] for c in synced if c.get("dm_permission") is not False] == []
    assert [c["name"] for c in synced if c.get("contexts") not in (None, [0])] == []


async def test_cleanup_of_rejected_clips_re_renders_their_messages(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    clip_id, msg = await posted_clip(h, preview=None)  # the thumbnail is the embed's image
    click = await h.fake.inject_button(msg, f"clip:reject:{clip_id}", cast.reviewer)
    await updated(click)
    long_ago = datetime.now(UTC) - timedelta(hours=h.config.scheduler.rejected_grace_h + 1)
    await h.app.clips.transition(clip_id, None, reviewed_at=long_ago.isoformat())
    cog: Any = h.bot.get_cog("Maintenance")  # type: ignore[union-attr]
    await cog.rejected()
    assert (await h.app.clips.get(clip_id)).status == "deleted"  # type: ignore[union-attr]
    assert fields(msg)["Status"].startswith("🗑️ deleted (files removed)")
    assert "files removed by the cleanup" in fields(msg)["Note"]
    assert {c["custom_id"] for r in msg.components for c in r["components"] if c["disabled"]} == {
        f"clip:{a}:{clip_id}" for a in ("approve", "reject", "favorite", "rename", "delete")
    }
    assert msg.embeds[0]["image"]["url"] == f"attachment://xqc-{clip_id}.jpg"
