"""Clip review end to end: posting exactly once, the persistent buttons, rename, delete, bulk
review and super_combo DMs, with the real ClipBot against FakeDiscord.

Clips enter the way the pipeline leaves them (a stored moment, small files on disk, status
ready) and are handed to `services.extra["poster"]`, the hook the pipeline calls; the real
video path is tested elsewhere.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
import pytest

from cogs.review_view import RENAME_INPUT
from tests.bot_harness import updated
from tests.fakes.discord_server import InvalidInteraction, Message, Perm

if TYPE_CHECKING:  # registered as a plugin in conftest.py, so its asserts are rewritten
    from tests.bot_harness import BotHarness


BUTTONS = ("approve", "reject", "favorite", "rename", "delete")


def ids(clip_id: int) -> list[str]:
    return [f"clip:{action}:{clip_id}" for action in BUTTONS]


def fields(msg: Message) -> dict[str, str]:
    return {f["name"]: f["value"] for f in msg.embeds[0]["fields"]}


def disabled(msg: Message) -> set[str]:
    return {
        c["custom_id"].split(":")[1]
        for row in msg.components
        for c in row["components"]
        if c.get("disabled")
    }


async def posted_clip(h: BotHarness, **kwargs: object) -> tuple[int, Message]:
    clip_id = await h.ready_clip(**kwargs)  # type: ignore[arg-type]
    await h.post(clip_id)
    msg = await h.fake.wait_for_message(
        lambda m: f"clip:approve:{clip_id}" in m.custom_ids(), channel=h.cast.review
    )
    return clip_id, msg


async def test_posted_once_then_approved_by_a_reviewer(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    clip_id, msg = await posted_clip(h)
    assert msg.custom_ids() == ids(clip_id)
    assert [a.filename for a in msg.attachments] == [f"xqc-{clip_id}-preview.mp4"]
    embed = msg.embeds[0]
    assert embed["title"] == "xqc: keyword" and embed["footer"]["text"].startswith(
        f"clip #{clip_id}"
    )
    info = fields(msg)
    assert info["Confidence"] == "87%" and info["Viewers"] == "15,234"
    assert info["Chat"] == "42.5 msg/s (normal 6.1 msg/s)"
    assert info["Status"] == "waiting for review" and info["When"].startswith("<t:")
    assert "**fan0**: CLIP IT" in embed["description"]
    assert "@everyone" not in embed["description"]  # chat cannot ping the server
    assert "KEKW" in embed["description"] and "[emote:" not in embed["description"]
    row = await h.app.clips.get(clip_id)
    assert row is not None and row.status == "posted" and row.message_id == msg.id

    await h.post(clip_id)  # the pipeline handing it over twice changes nothing
    assert len(h.review_messages()) == 1

    refused = await h.fake.inject_button(msg, f"clip:approve:{clip_id}", cast.plain)
    assert (await refused.response()).type == 6  # acknowledged before any database access
    (answer,) = await refused.wait_followups(1)
    assert answer.ephemeral and "Only reviewers" in answer.content and not refused.original_edits
    assert (await h.app.clips.get(clip_id)).status == "posted"  # type: ignore[union-attr]

    click = await h.fake.inject_button(msg, f"clip:approve:{clip_id}", cast.reviewer)
    await updated(click)
    row = await h.app.clips.get(clip_id)
    assert row is not None and row.status == "approved" and row.reviewed_by == cast.reviewer.id
    assert fields(msg)["Status"].startswith(f"✅ approved by <@{cast.reviewer.id}> <t:")
    assert disabled(msg) == {"approve"}
    assert msg.attachments  # the video stays on the message


async def test_double_click_and_two_reviewers(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    clip_id, msg = await posted_clip(h)
    edits = len(h.fake.edits)
    # Both clicks are in flight before the bot handles either (a double click).
    first = await h.fake.inject_button(msg, f"clip:approve:{clip_id}", cast.reviewer)
    second = await h.fake.inject_button(msg, f"clip:approve:{clip_id}", cast.manager)
    # Both are acknowledged at once (type 6); one edits the message, the other is told.
    assert [(await first.response()).type, (await second.response()).type] == [6, 6]
    await h.fake.wait_for(lambda: first.followups or second.followups)
    loser = first if first.followups else second
    winner = second if loser is first else first
    await winner.wait_original_edits(1)
    (told,) = loser.followups
    assert told.ephemeral and loser.original_edits == []
    assert f"already ✅ approved by <@{winner.user_id}>" in told.content
    assert len(h.fake.edits) == edits + 1
    row = await h.app.clips.get(clip_id)
    assert row is not None and row.reviewed_by == winner.user_id

    # App level: two reviewers acting on the same read, exactly one wins.
    other = await h.ready_clip()
    await h.post(other)
    results = await asyncio.gather(
        h.app.review(cast.guild.id, other, "reject", cast.reviewer.id),
        h.app.review(cast.guild.id, other, "approve", cast.manager.id),
    )
    assert sorted(r.changed for r in results) == [False, True]


async def test_buttons_work_after_a_restart(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    clip_id, msg = await posted_clip(h)
    await h.restart()
    click = await h.fake.inject_button(msg, f"clip:reject:{clip_id}", cast.reviewer)
    await updated(click)
    assert (await h.app.clips.get(clip_id)).status == "rejected"  # type: ignore[union-attr]
    assert fields(msg)["Status"].startswith("❌ rejected by")
    fav = await h.fake.inject_button(msg, f"clip:favorite:{clip_id}", cast.reviewer)
    await updated(fav)
    assert msg.embeds[0]["title"].startswith("★ ")
    assert (await h.app.clips.get(clip_id)).favorite  # type: ignore[union-attr]


async def test_rename_with_a_modal(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    clip_id, msg = await posted_clip(h)
    opened = await h.fake.inject_button(msg, f"clip:rename:{clip_id}", cast.reviewer)
    assert (await opened.response()).type == 9
    submit = await h.fake.inject_modal_submit(opened, {RENAME_INPUT: "The 1v5 clutch"})
    await updated(submit)
    assert (await h.app.clips.get(clip_id)).title == "The 1v5 clutch"  # type: ignore[union-attr]
    assert msg.embeds[0]["title"] == "The 1v5 clutch"
    again = await h.fake.inject_button(msg, f"clip:rename:{clip_id}", cast.reviewer)
    await again.response()
    assert again.modal is not None
    (row,) = again.modal["components"]
    assert row["components"][0]["value"] == "The 1v5 clutch"  # prefilled with the current title


async def test_delete_removes_the_files_and_keeps_the_message(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    clip_id, msg = await posted_clip(h)
    row = await h.app.clips.get(clip_id)
    assert row is not None
    files = [Path(p) for p in (row.original_path, row.preview_path, row.thumbnail_path) if p]
    assert len(files) == 3 and all(f.exists() for f in files)
    click = await h.fake.inject_button(msg, f"clip:delete:{clip_id}", cast.reviewer)
    await updated(click)
    assert not any(f.exists() for f in files)
    assert (await h.app.clips.get(clip_id)).status == "deleted"  # type: ignore[union-attr]
    assert fields(msg)["Status"].startswith("🗑️ deleted")
    assert disabled(msg) == set(BUTTONS) and not msg.deleted
    with pytest.raises(InvalidInteraction, match="disabled"):
        await h.fake.inject_button(msg, f"clip:approve:{clip_id}", cast.reviewer)


async def test_crash_after_send_never_posts_twice(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    await h.setup_review()
    clip_id, msg = await posted_clip(h)
    # The bot died after Discord took the message but before the post was recorded.
    await h.services.db.execute("DELETE FROM posts WHERE clip_id = ?", (clip_id,))
    await h.app.clips.transition(clip_id, None, status="posting")
    await h.restart()  # resume() hands the clip to the poster, which looks before sending
    row = await _wait_status(h, clip_id, "posted")
    assert row.message_id == msg.id and len(h.review_messages()) == 1
    assert f"clip {clip_id} was already posted (message {msg.id})" in caplog.text

    # Left in `posting` without a message (died just before the send): sent exactly once.
    lost = await h.ready_clip()
    await h.app.clips.transition(lost, ("ready",), status="posting")
    await h.post(lost)
    await h.post(lost)
    assert len([m for m in h.review_messages() if f"clip:approve:{lost}" in m.custom_ids()]) == 1


async def _wait_status(h: BotHarness, clip_id: int, status: str) -> Any:
    row = None
    for _ in range(100):
        row = await h.app.clips.get(clip_id)
        if row is not None and row.status == status:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"clip {clip_id} never became {status}: {row}")


async def test_waits_for_setup_then_posts_the_backlog(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    clip_id = await h.ready_clip()
    await h.post(clip_id)
    assert (await h.app.clips.get(clip_id)).status == "ready"  # type: ignore[union-attr]
    assert "has no review channel: run /setup" in caplog.text
    await h.setup_review()
    msg = await h.fake.wait_for_message(lambda m: f"clip:approve:{clip_id}" in m.custom_ids())
    assert (await _wait_status(h, clip_id, "posted")).message_id == msg.id


async def test_too_large_preview_falls_back_to_the_thumbnail(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    big = b"\x00" * (cast.guild.upload_limit + 1)
    clip_id, msg = await posted_clip(h, preview=big)  # known limit: not even tried
    assert [a.filename for a in msg.attachments] == [f"xqc-{clip_id}.jpg"]
    assert msg.embeds[0]["image"]["url"] == f"attachment://xqc-{clip_id}.jpg"
    assert "thumbnail only" in fields(msg)["Note"]

    # The guild lost a boost since the limit was learnt: Discord refuses (40005), then fallback.
    await h.app.settings.set_upload_limit(cast.guild.id, 50 * 1024 * 1024)
    h.bot.get_cog("Admin")._limits.clear()  # type: ignore[union-attr]
    other, msg2 = await posted_clip(h, preview=big)
    assert [a.filename for a in msg2.attachments] == [f"xqc-{other}.jpg"]
    assert [e.code for e in h.fake.errors] == [40005]
    click = await h.fake.inject_button(msg2, f"clip:approve:{other}", cast.reviewer)
    await updated(click)
    assert msg2.embeds[0]["image"]["url"] == f"attachment://xqc-{other}.jpg"  # kept on edit


async def test_missing_permission_leaves_the_clip_ready(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    bot_member = cast.guild.members[h.fake.bot_user.id]
    h.fake.set_overwrite(cast.review, bot_member, deny=Perm.ATTACH_FILES)
    await h.fake.wait_for(lambda: _bot_may_attach(h) is False)
    h.expect_error(r"no permission to post in #clip-review")
    clip_id = await h.ready_clip()
    await h.post(clip_id)
    assert (await h.app.clips.get(clip_id)).status == "ready"  # type: ignore[union-attr]
    assert h.review_messages() == []

    warned = await h.answer(cast.manager, "setup", {"channel": cast.review})
    assert "I am missing attach files in <#" in warned.content
    assert "Posting 1 clip(s) that were waiting" in warned.content
    # The outbox also retries it in the background: whichever attempt is in flight, the clip
    # goes back to ready (never stuck in posting, never lost).
    await _wait_status(h, clip_id, "ready")

    h.fake.set_overwrite(cast.review, bot_member, deny=0)  # fixed: /setup posts the backlog
    await h.fake.wait_for(lambda: _bot_may_attach(h))
    fixed = await h.answer(cast.manager, "setup", {"channel": cast.review})
    assert "missing" not in fixed.content
    assert (await _wait_status(h, clip_id, "posted")).message_id == h.review_messages()[0].id


def _bot_may_attach(h: BotHarness) -> bool | None:
    """The bot's cached view of its review-channel permissions (None before the cache has it)."""
    assert h.bot is not None
    channel = h.bot.get_channel(h.cast.review.id)
    if not isinstance(channel, discord.TextChannel):
        return None
    return channel.permissions_for(channel.guild.me).attach_files


async def test_super_combo_dms_subscribers_once(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    for member in (cast.reviewer, cast.closed):
        on = await h.answer(member, "alerts", subcommand="on")
        assert "You will get a DM" in on.content
    await posted_clip(h)
    assert h.fake.dms == []  # only super combos alert
    clip_id, msg = await posted_clip(
        h, trigger="super_combo", triggers=("chat_velocity", "keyword", "emote_flood")
    )
    dm = await h.fake.wait_for_message(lambda m: m.is_dm)
    assert h.fake.world.channel(dm.channel_id).recipient_ids == [cast.reviewer.id]
    assert msg.id and f"/{cast.guild.id}/{cast.review.id}/{msg.id}" in dm.content
    assert "Super combo on **xqc**" in dm.content
    row = await h.app.clips.get(clip_id)
    assert row is not None and row.alerted
    assert f"user {cast.closed.id} does not accept DMs (50007)" in caplog.text

    await h.restart()
    await h.post(clip_id)
    assert len(h.fake.dms) == 1


async def test_review_pending_and_bulk_actions(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    first, msg1 = await posted_clip(h)
    second, msg2 = await posted_clip(h)
    other, msg3 = await posted_clip(h, streamer="adin")

    listing = await h.answer(cast.reviewer, "review", subcommand="pending")
    text = listing.embeds[0]["description"]
    for clip_id, msg in ((first, msg1), (second, msg2), (other, msg3)):
        assert f"#{clip_id} " in text
        assert f"/{cast.guild.id}/{cast.review.id}/{msg.id})" in text  # a jump link
    only = await h.answer(cast.reviewer, "review", {"streamer": "adin"}, subcommand="pending")
    assert (
        f"#{other} " in only.embeds[0]["description"]
        and f"#{first} " not in only.embeds[0]["description"]
    )
    rows, total = await h.app.pending(cast.guild.id, None, limit=2)
    assert [r.id for r in rows] == [first, second] and total == 3

    refused = await h.answer(cast.plain, "review", subcommand="approve_all")
    assert "Only reviewers" in refused.content
    done = await h.answer(cast.reviewer, "review", {"streamer": "xqc"}, subcommand="approve_all")
    assert done.ephemeral and done.content == "Approved 2 clip(s) of `xqc`."
    for clip_id, msg in ((first, msg1), (second, msg2)):
        assert (await h.app.clips.get(clip_id)).status == "approved"  # type: ignore[union-attr]
        assert fields(msg)["Status"].startswith(f"✅ approved by <@{cast.reviewer.id}>")
        assert disabled(msg) == {"approve"}
    rejected = await h.answer(cast.manager, "review", subcommand="reject_all")
    assert rejected.content == "Rejected 1 clip(s)."
    assert fields(msg3)["Status"].startswith("❌ rejected")
    empty = await h.answer(cast.reviewer, "review", subcommand="pending")
    assert empty.embeds[0]["description"] == "Nothing is waiting for review."


async def test_a_failing_button_answers_with_a_reference(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    clip_id, msg = await posted_clip(h)

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    h.app.review = broken  # type: ignore[method-assign, assignment]
    h.expect_error(r"unexpected error \(ref [0-9a-f]{8}\) in clip:approve:")
    click = await h.fake.inject_button(msg, f"clip:approve:{clip_id}", cast.reviewer)
    assert (await click.response()).type == 6  # acknowledged before the App was called
    (answer,) = await click.wait_followups(1)
    assert answer.ephemeral and answer.content.startswith("Something went wrong (ref ")


async def test_discord_rate_limits_delay_posts_and_dms_but_never_double_them(
    harness: BotHarness,
) -> None:
    """A 429 on the clip post and on the DM: discord.py waits `retry_after` and retries the same
    request; the clip is posted once, the DM sent once, and nothing is logged as a failure."""
    h, cast = harness, harness.cast
    await h.setup_review()
    await h.answer(cast.reviewer, "alerts", subcommand="on")
    h.fake.rate_limit_next("POST", rf"/channels/{cast.review.id}/messages$", count=2)
    h.fake.rate_limit_next("POST", r"/users/@me/channels$")
    clip_id, msg = await posted_clip(
        h, trigger="super_combo", triggers=("chat_velocity", "keyword", "emote_flood")
    )
    await h.fake.wait_for_message(lambda m: m.is_dm)
    limited = [r for r in h.fake.requests if r.status == 429]
    assert len(limited) == 3, [(r.method, r.path) for r in limited]
    posts = [m for m in h.review_messages() if f"clip:approve:{clip_id}" in m.custom_ids()]
    assert len(posts) == 1 and posts[0].attachments
    assert len(h.fake.dms) == 1
    row = await h.app.clips.get(clip_id)
    assert row is not None and row.status == "posted" and row.message_id == msg.id
