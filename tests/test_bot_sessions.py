"""The sessions table through the real bot: Feeds' live/offline changes (from the fake Kick's
status polls) open and end sessions, clips get the session they were made in, and a restart in
the middle of a stream keeps one session for it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from storage.sessions import SessionRepo, SessionRow
from tests.fakes.pusher_server import chat_topic

if TYPE_CHECKING:  # registered as a plugin in conftest.py, so its asserts are rewritten
    from tests.bot_harness import BotHarness

T = TypeVar("T")


async def until(probe: Callable[[], Awaitable[T]], within_s: float = 10.0) -> T:
    deadline = time.monotonic() + within_s
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"never true within {within_s} s; last value {value!r}")
        await asyncio.sleep(0.05)


async def test_sessions_follow_the_stream_and_own_its_clips(harness: BotHarness) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    ch = h.kick.add_channel("xqc", live=True, viewers=1000, title="Ranked grind")
    await h.answer(cast.reviewer, "watch", {"streamer": "xqc"})
    await h.pusher.wait_for_subscription(chat_topic(ch.chatroom_id))

    def repo() -> SessionRepo:  # the database of the bot running now (restarts reopen it)
        return SessionRepo(h.services.db)

    async def sessions() -> list[SessionRow]:
        return await repo().of_streamer("xqc")

    (live,) = await until(sessions)
    assert (live.livestream_id, live.title, live.ended_at) == (
        ch.livestream_id,
        "Ranked grind",
        None,
    )

    await h.pusher.burst(ch.chatroom_id, [(f"fan{i}", "CLIP IT") for i in range(8)], rate=0)

    async def clip_ids() -> list[int]:
        return [r.id for r in await h.app.clips.with_status("detected", "cutting", "failed")]

    (clip_id,) = await until(clip_ids)
    assert await until(lambda: repo().clip_session(clip_id)) == live.id

    await h.restart()  # mid-stream: the stream is still the same livestream
    feed: Any = h.services.hub.feeds["xqc"]
    await h.fake.wait_for(lambda: feed.status.live)
    await h.services.hub.sessions.flush()  # type: ignore[union-attr]
    (again,) = await sessions()
    assert again.id == live.id and again.ended_at is None

    h.kick.set_live("xqc", False)
    (ended,) = await until(lambda: _all_ended(sessions))
    assert ended.id == live.id and ended.ended_at is not None

    h.kick.set_live("xqc", True, title="Second stream")
    await until(lambda: _count(sessions, 2))
    first, second = await sessions()
    assert second.livestream_id == ch.livestream_id != first.livestream_id
    assert second.title == "Second stream" and second.ended_at is None

    done = await h.answer(cast.reviewer, "unwatch", {"streamer": "xqc"})
    assert "Stopped watching" in done.content
    assert (await until(lambda: _all_ended(sessions)))[-1].id == second.id  # nobody observes it


async def _all_ended(sessions: Callable[[], Awaitable[list[SessionRow]]]) -> list[SessionRow]:
    rows = await sessions()
    return rows if rows and all(r.ended_at for r in rows) else []


async def _count(sessions: Callable[[], Awaitable[list[SessionRow]]], n: int) -> bool:
    return len(await sessions()) == n


async def test_a_session_a_crashed_run_left_open_is_ended_at_start(harness: BotHarness) -> None:
    h = harness
    left_open = await SessionRepo(h.services.db).open("gone", time.time() - 3600, 5, "crash")
    await h.restart()
    (row,) = await SessionRepo(h.services.db).of_streamer("gone")
    assert row.id == left_open and row.ended_at is not None
