"""engine.core.outbox on its own: backoff while posting fails, reset after success, the reasons
it keeps for /stats, wake-ups only when idle, and a clean cancel. Injected sleep and clock, a
real SQLite store (storage.clips.ClipRepo)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from engine.backoff import Backoff
from engine.core.outbox import Attempt, Outbox
from engine.events import Moment
from storage.clips import ClipRepo
from storage.db import Database


@pytest.fixture
async def clips(tmp_path: Path) -> Any:
    db = await Database.open(tmp_path / "db.sqlite3")
    yield ClipRepo(db)
    await db.close()


async def ready_clip(clips: ClipRepo, key: str, guild_id: int = 7) -> int:
    moment = Moment(
        t=100.0, streamer="xqc", trigger="keyword", triggers=("keyword",), confidence=0.9,
        clip_start=80.0, clip_end=120.0, details={}, key=key,
    )  # fmt: skip
    clip_id, _ = await clips.record_moment(guild_id, moment)
    await clips.transition(clip_id, None, status="ready")
    return clip_id


class Discord:
    """A poster that fails while `down` and posts (the row becomes posted) otherwise."""

    def __init__(self, clips: ClipRepo) -> None:
        self.clips, self.down, self.calls = clips, True, 0

    async def post(self, clip_id: int) -> Attempt:
        self.calls += 1
        if self.down:
            return Attempt(False, "Discord answered 503 (0: Service Unavailable)")
        await self.clips.transition(clip_id, ("ready", "posting"), status="posted")
        return Attempt(True)


async def test_backs_off_while_failing_then_posts_and_resets(clips: ClipRepo) -> None:
    first, second = await ready_clip(clips, "a"), await ready_clip(clips, "b", guild_id=8)
    discord = Discord(clips)
    delays: list[float] = []
    now = [1000.0]

    statuses: list[str | None] = []

    async def sleep(delay: float) -> None:
        statuses.append(outbox.status(7))
        delays.append(delay)
        now[0] += delay
        if len(delays) == 4:  # Discord comes back during the 4th wait
            discord.down = False
        await asyncio.sleep(0)

    async def ready() -> None:
        return None

    outbox = Outbox(
        clips, discord.post, backoff=Backoff(2.0, 10.0, rand=lambda: 1.0), sleep=sleep,
        clock=lambda: now[0], idle_s=60.0,
    )  # fmt: skip
    task = asyncio.create_task(outbox.run(ready))
    for _ in range(500):  # bounded (5 s): the store answers from its thread
        if len(delays) >= 6:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    # 2, 4, 8, 10 (capped) while down; then posted: back to idle waits, backoff reset.
    assert delays[:4] == [2.0, 4.0, 8.0, 10.0]
    assert len(delays) >= 6 and set(delays[4:]) == {60.0}
    assert statuses[0] == (
        "1 clip(s) waiting to post: Discord answered 503 (0: Service Unavailable); next try in 2 s"
    )
    assert {(await clips.get(c)).status for c in (first, second)} == {"posted"}  # type: ignore[union-attr]
    assert outbox.waiting == {} and outbox.backoff.attempt == 0 and outbox.status(7) is None
    assert discord.calls == 2 * 5  # both clips, on each of the five rounds that found them
    assert task.cancelled()


async def test_wake_scans_at_once_when_idle_and_cancel_is_clean(clips: ClipRepo) -> None:
    discord = Discord(clips)
    discord.down = False
    outbox = Outbox(clips, discord.post, idle_s=3600.0)

    async def ready() -> None:
        return None

    task = asyncio.create_task(outbox.run(ready))
    await asyncio.sleep(0)
    clip_id = await ready_clip(clips, "late")
    outbox.wake()  # without it, the next scan would be an hour away
    for _ in range(200):
        if (await clips.get(clip_id)).status == "posted":  # type: ignore[union-attr]
            break
        await asyncio.sleep(0.01)
    assert (await clips.get(clip_id)).status == "posted"  # type: ignore[union-attr]
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def test_a_failed_hand_over_is_retried_after_a_backoff_delay(clips: ClipRepo) -> None:
    """The pipeline's own try failed while the loop was idle: /stats shows the clip at once,
    and the loop waits a backoff delay before trying again instead of hitting a failing
    Discord immediately."""
    discord = Discord(clips)
    discord.down = False
    events: list[str] = []

    async def sleep(delay: float) -> None:
        events.append(f"sleep {delay:g}")
        if delay == 3600.0:  # idle: only a wake-up ends it
            await asyncio.Event().wait()

    async def post(cid: int) -> Attempt:
        events.append("post")
        return await discord.post(cid)

    async def ready() -> None:
        return None

    outbox = Outbox(
        clips, post, backoff=Backoff(3.0, 10.0, rand=lambda: 1.0), sleep=sleep, idle_s=3600.0
    )
    task = asyncio.create_task(outbox.run(ready))
    for _ in range(500):  # bounded (5 s): until the loop is idle
        if events:
            break
        await asyncio.sleep(0.01)
    clip_id = await ready_clip(clips, "x")
    outbox.failed(clip_id, 7, "Discord answered 503")
    assert outbox.status(7) == "1 clip(s) waiting to post: Discord answered 503"
    for _ in range(500):
        if (await clips.get(clip_id)).status == "posted":  # type: ignore[union-attr]
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert events[:3] == ["sleep 3600", "sleep 3", "post"]
    assert (await clips.get(clip_id)).status == "posted"  # type: ignore[union-attr]
