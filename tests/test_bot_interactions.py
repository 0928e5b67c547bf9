"""Hostile or unlucky interactions get a clear, ephemeral answer (issue 11, items 8 and 9):
button custom ids that are not ours to trust, threshold values that are not numbers, and a
database another connection keeps locked; with the real ClipBot against the fake Discord.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

from cogs import checks
from engine.core.stores import StoreBusy
from tests.fakes.discord_server import InteractionRecord, Message

if TYPE_CHECKING:  # registered as a plugin in conftest.py, so its asserts are rewritten
    from tests.bot_harness import BotHarness


async def visible_answer(rec: InteractionRecord) -> Message:
    """What the member reads: the response message, or the first followup after a defer."""
    callback = await rec.response()
    if callback.type in (5, 6):
        await rec.wait_followups(1)
        return rec.followups[0]
    assert callback.message is not None, f"answered with type {callback.type} and no message"
    return callback.message


def forged(h: BotHarness, custom_ids: list[str]) -> Message:
    """A bot message whose buttons carry custom ids a modified client could send."""
    msg = h.fake.new_message(h.fake.world.channel(h.cast.review.id))
    msg.content = "forged"
    msg.components = [
        {
            "type": 1,
            "components": [
                {"type": 2, "style": 2, "label": str(i), "custom_id": cid}
                for i, cid in enumerate(custom_ids)
            ],
        }
    ]
    h.fake.store_message(msg)
    return msg


BAD_IDS = [
    "clip:approve:99999999999999999999",  # above int64: SQLite cannot even bind it
    "clip:reject:9223372036854775808",  # 2**63
    "clip:delete:-5",
    "clip:approve:abc",
    "clip:favorite:0",
]


async def test_button_ids_out_of_range_or_garbage_get_a_clear_answer(
    harness: BotHarness,
) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    msg = forged(h, [*BAD_IDS[:4], "clip:explode:1"])
    other = forged(h, [BAD_IDS[4]])
    for cid in [*BAD_IDS[:4], "clip:explode:1"]:
        answer = await visible_answer(await h.fake.inject_button(msg, cid, cast.reviewer))
        assert answer.ephemeral and "This button is not valid" in answer.content, (cid, answer)
    answer = await visible_answer(await h.fake.inject_button(other, BAD_IDS[4], cast.reviewer))
    assert answer.ephemeral and "That clip no longer exists" in answer.content


@pytest.mark.parametrize(
    ("trigger", "value", "expected"),
    [
        ("keyword", float("nan"), "must be a finite number"),
        ("keyword", float("inf"), "must be a finite number"),
        ("chat_velocity", float("-inf"), "must be a finite number"),
        ("velocity_multiplier", float("nan"), "must be a finite number"),
        ("keyword", 1e300, "must be between 2 and 500"),
    ],
)
async def test_thresholds_refuse_values_that_are_not_numbers(
    harness: BotHarness, trigger: str, value: float, expected: str
) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    h.kick.add_channel("xqc", live=False)
    await h.answer(cast.reviewer, "watch", {"streamer": "xqc"})
    options = {"streamer": "xqc", "trigger": trigger, "value": value}
    answer = await h.answer(cast.reviewer, "thresholds", options, subcommand="set")
    assert answer.ephemeral and expected in answer.content, answer.content
    assert await h.app.watches.thresholds(cast.guild.id, "xqc") == {}


@contextmanager
def write_locked(path: str) -> Iterator[None]:
    """A second connection holding the database's write lock (a backup tool, a stuck job)."""
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        raw.execute("BEGIN IMMEDIATE")
        yield
    finally:
        raw.rollback()
        raw.close()


async def test_a_locked_database_answers_busy_after_acknowledging(harness: BotHarness) -> None:
    """The click is acknowledged at once (within a 1 s deadline here, 3 s on Discord) although
    the write then waits out the busy timeout; the member reads "busy, try again", the clip is
    unchanged, and the same click works once the lock is gone. A slash command that writes
    behaves the same."""
    h, cast = harness, harness.cast
    await h.setup_review()
    clip_id = await h.ready_clip()
    await h.post(clip_id)
    msg = await h.fake.wait_for_message(lambda m: f"clip:approve:{clip_id}" in m.custom_ids())
    await h.services.db.execute("PRAGMA busy_timeout=1500")  # 5 s in production
    with write_locked(h.config.storage.database):
        click = await h.fake.inject_button(
            msg, f"clip:approve:{clip_id}", cast.reviewer, ack_timeout=1.0
        )
        answer = await visible_answer(click)
        assert answer.ephemeral and "busy" in answer.content and "try again" in answer.content
        assert (await h.app.clips.get(clip_id)).status == "posted"  # type: ignore[union-attr]
        alerts = await h.fake.inject_slash(
            cast.guild, cast.general, cast.reviewer, "alerts", subcommand="on", ack_timeout=1.0
        )
        said = await visible_answer(alerts)
        assert said.ephemeral and "busy" in said.content
    again = await h.fake.inject_button(msg, f"clip:approve:{clip_id}", cast.reviewer)
    assert (await again.response()).type == 6
    await again.wait_original_edits(1)
    assert (await h.app.clips.get(clip_id)).status == "approved"  # type: ignore[union-attr]


async def test_reads_queued_behind_a_blocked_write_still_answer_in_time(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot's one database connection runs statements in turn: while one of its own writes
    waits for the lock, every read queues behind it. A click is acknowledged before any read;
    the rename modal and a reviewer-only command, which must read before answering, give up
    after the pre-acknowledgement budget and say "busy" in time."""
    h, cast = harness, harness.cast
    await h.setup_review()
    clip_id = await h.ready_clip()
    await h.post(clip_id)
    msg = await h.fake.wait_for_message(lambda m: f"clip:approve:{clip_id}" in m.custom_ids())
    await h.services.db.execute("PRAGMA busy_timeout=1500")
    monkeypatch.setattr(checks, "PRE_ACK_BUDGET_S", 0.3, raising=False)  # 2 s in production
    with write_locked(h.config.storage.database):
        queued = asyncio.create_task(h.app.clips.transition(clip_id, None, note="queued"))
        await asyncio.sleep(0.05)  # the write holds the connection's thread now
        fav = await h.fake.inject_button(
            msg, f"clip:favorite:{clip_id}", cast.reviewer, ack_timeout=1.0
        )
        assert (await fav.response()).type == 6
        rename = await h.fake.inject_button(
            msg, f"clip:rename:{clip_id}", cast.reviewer, ack_timeout=1.0
        )
        said = await visible_answer(rename)
        assert said.ephemeral and "busy" in said.content
        command = await h.fake.inject_slash(
            cast.guild, cast.general, cast.reviewer, "review", subcommand="pending",
            ack_timeout=1.0,
        )  # fmt: skip
        said = await visible_answer(command)
        assert said.ephemeral and "busy" in said.content
        with pytest.raises(StoreBusy):
            await queued
        (told,) = await fav.wait_followups(1, timeout=10)
        assert "busy" in told.content
    assert not (await h.app.clips.get(clip_id)).favorite  # type: ignore[union-attr]
