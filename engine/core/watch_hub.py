"""Watches: one Detector per (guild, streamer), fed by one shared Feed per streamer; and the
sessions table, written from the same Feeds.

The hub starts a streamer's Feed when the first guild watches it and stops it when the last
guild unwatches, so two guilds watching one streamer share one recording and one chat socket
while keeping their own thresholds, cooldowns and daily counts.

Sessions (SessionTracker), one row per livestream:
- LiveChange(live=True) opens one (Kick livestream id and title when the poller has them, else
  filled in at the next viewer poll); LiveChange(live=False) ends it.
- A clip made while a session is open (or in the seconds after it ended: the moment was on
  its way) gets its session_id.
- A session also ends when its feed stops (the last guild unwatched, or the bot stops), since
  nobody observes it any more; at start, sessions a crashed run left open are ended then.
- Either way, when the stream turns out to be the same livestream (same Kick livestream id)
  at the next LiveChange(live=True), that session is reopened: one stream, one session, even
  across restarts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from engine.detection.detector import Detector
from engine.events import Event, LiveChange, Moment, ViewerSample

log = logging.getLogger("engine.core.watch_hub")

OnMoment = Callable[[int, Moment], Awaitable[None]]


class FeedLike(Protocol):
    slug: str
    recording_paused: bool

    def subscribe(self, fn: Callable[[Event], None]) -> None: ...
    def unsubscribe(self, fn: Callable[[Event], None]) -> None: ...
    @property
    def subscribers(self) -> int: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def pause_recording(self, paused: bool) -> None: ...


class Watch:
    """One guild's view of one streamer: its Detector, fed synchronously by the Feed."""

    def __init__(self, guild_id: int, detector: Detector, on_moment: OnMoment) -> None:
        self.guild_id = guild_id
        self.detector = detector
        self._on_moment = on_moment
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def streamer(self) -> str:
        return self.detector.streamer

    def on_event(self, event: Event) -> None:
        for moment in self.detector.feed(event):
            task = asyncio.get_running_loop().create_task(self._deliver(moment))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _deliver(self, moment: Moment) -> None:
        try:
            await self._on_moment(self.guild_id, moment)
        except Exception:  # the moment is logged; the detector keeps running
            log.exception("guild %s: handling moment %s failed", self.guild_id, moment.key)

    async def drain(self) -> None:
        """Wait for moments already handed over (shutdown, tests)."""
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)


class SessionStore(Protocol):
    """What SessionTracker needs from storage (storage.sessions.SessionRepo)."""

    async def open(
        self, streamer: str, started_at: float, livestream_id: int | None, title: str | None
    ) -> int: ...
    async def close(self, session_id: int, ended_at: float) -> bool: ...
    async def close_all_open(self, ended_at: float) -> int: ...
    async def describe(
        self, session_id: int, livestream_id: int | None, title: str | None
    ) -> None: ...
    async def link_clip(self, clip_id: int, session_id: int) -> None: ...


LATE_CLIP_S = 120.0  # a moment still on its way when the stream ended belongs to that session


def live_details(feed: Any) -> tuple[int | None, str | None]:
    """(livestream id, title) of a live feed when its poller has seen them, else Nones.

    The poller stores the status it polled before emitting the events it caused, so this is
    the status behind the LiveChange being handled. Feeds without it (test doubles) give Nones.
    """
    latest = getattr(feed, "live_status", None)
    if latest is None or not getattr(latest, "live", False):
        return None, None
    return getattr(latest, "livestream_id", None), getattr(latest, "title", None)


class SessionTracker:
    """Writes the sessions table from the feeds' events (rules in the module docstring).

    Feeds call subscribers synchronously, and storage is async: events go through one queue
    and one worker, so a quick offline/online pair is applied in order.
    """

    def __init__(self, store: SessionStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock
        self.current: dict[str, int] = {}  # streamer -> its open session
        self._ended: dict[str, tuple[int, float]] = {}  # streamer -> (last session, its end)
        self._undescribed: set[str] = set()
        self._queue: asyncio.Queue[tuple[str, str, float, Any]] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        """End what a previous run left open; a stream still live reopens its session."""
        closed = await self.store.close_all_open(self.clock())
        if closed:
            log.info("ended %d session(s) a previous run left open", closed)

    def observer(self, feed: FeedLike) -> Callable[[Event], None]:
        slug = feed.slug

        def on_event(event: Event) -> None:
            if isinstance(event, LiveChange):
                details = live_details(feed) if event.live else (None, None)
                self._put(slug, "live" if event.live else "offline", event.t, details)
            elif isinstance(event, ViewerSample) and slug in self._undescribed:
                details = live_details(feed)
                if details != (None, None):
                    self._put(slug, "describe", event.t, details)

        return on_event

    def clip_made(self, streamer: str, clip_id: int, t: float) -> None:
        self._put(streamer, "clip", t, clip_id)

    def feed_stopped(self, streamer: str) -> None:
        self._put(streamer, "offline", self.clock(), None)

    def _put(self, streamer: str, kind: str, t: float, data: Any) -> None:
        if self._closed:
            return
        if self._queue is None:
            self._queue = asyncio.Queue()
            loop = asyncio.get_running_loop()
            self._worker = loop.create_task(self._work(self._queue), name="sessions")
        self._queue.put_nowait((streamer, kind, t, data))

    async def _work(self, queue: asyncio.Queue[tuple[str, str, float, Any]]) -> None:
        while True:
            item = await queue.get()
            try:
                await self._apply(*item)
            except Exception:  # a lost session row must not stop the next ones
                log.exception("sessions: recording %s of %s failed", item[1], item[0])
            finally:
                queue.task_done()

    async def _apply(self, streamer: str, kind: str, t: float, data: Any) -> None:
        sid = self.current.get(streamer)
        if kind == "live":
            if sid is not None:  # live twice in a row: the previous stream ended unseen
                await self.store.close(sid, t)
            livestream_id, title = data
            self.current[streamer] = await self.store.open(streamer, t, livestream_id, title)
            if livestream_id is None:
                self._undescribed.add(streamer)
            else:
                self._undescribed.discard(streamer)
        elif kind == "offline" and sid is not None:
            del self.current[streamer]
            self._undescribed.discard(streamer)
            self._ended[streamer] = (sid, t)
            await self.store.close(sid, t)
        elif kind == "describe" and sid is not None:
            await self.store.describe(sid, *data)
            if data[0] is not None:
                self._undescribed.discard(streamer)
        elif kind == "clip":
            ended = self._ended.get(streamer)
            if sid is None and ended is not None and t <= ended[1] + LATE_CLIP_S:
                sid = ended[0]
            if sid is not None:
                await self.store.link_clip(int(data), sid)

    async def flush(self) -> None:
        """Wait until every event so far is in storage (shutdown, tests)."""
        if self._queue is not None:
            await self._queue.join()

    async def close(self) -> None:
        """Shutdown: end the open sessions now, write what is queued, stop the worker."""
        for streamer in list(self.current):
            self.feed_stopped(streamer)
        await self.flush()
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        self._queue, self._worker = None, None


class WatchHub:
    def __init__(
        self,
        feed_factory: Callable[[str], FeedLike],
        detector_factory: Callable[[str, Mapping[str, float], Mapping[str, Any]], Detector],
        on_moment: OnMoment,
        sessions: SessionTracker | None = None,
    ) -> None:
        self._feed_factory = feed_factory
        self._detector_factory = detector_factory
        self._on_moment = on_moment
        self.sessions = sessions
        self._observers: dict[str, Callable[[Event], None]] = {}
        self.feeds: dict[str, FeedLike] = {}
        self.watches: dict[tuple[int, str], Watch] = {}
        self._lock = asyncio.Lock()
        #: Disk nearly full: every feed, including one started meanwhile, records nothing.
        self.recording_paused = False

    def get(self, guild_id: int, streamer: str) -> Watch | None:
        return self.watches.get((guild_id, streamer))

    def for_guild(self, guild_id: int) -> list[Watch]:
        return [w for (g, _), w in sorted(self.watches.items()) if g == guild_id]

    async def add(
        self,
        guild_id: int,
        streamer: str,
        overrides: Mapping[str, float] | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> Watch:
        """Start watching (idempotent: an existing watch is returned as it is)."""
        async with self._lock:
            existing = self.watches.get((guild_id, streamer))
            if existing is not None:
                return existing
            detector = self._detector_factory(streamer, overrides or {}, state or {})
            watch = Watch(guild_id, detector, self._on_moment)
            feed = self.feeds.get(streamer)
            if feed is None:
                feed = self.feeds[streamer] = self._feed_factory(streamer)
                if self.recording_paused:  # before start: not one segment on a full disk
                    await feed.pause_recording(True)
                if self.sessions is not None:
                    observer = self._observers[streamer] = self.sessions.observer(feed)
                    feed.subscribe(observer)
            feed.subscribe(watch.on_event)
            self.watches[(guild_id, streamer)] = watch
            await feed.start()
            return watch

    async def pause_recording(self, paused: bool) -> int:
        """Bring every feed to `paused` (idempotent, so the disk check calls it every time);
        returns how many feeds changed. New feeds start in the same state."""
        self.recording_paused = paused
        changed = 0
        for feed in list(self.feeds.values()):
            if feed.recording_paused != paused:
                await feed.pause_recording(paused)
                changed += 1
        return changed

    async def remove(self, guild_id: int, streamer: str) -> bool:
        async with self._lock:
            watch = self.watches.pop((guild_id, streamer), None)
            if watch is None:
                return False
            feed = self.feeds.get(streamer)
            if feed is not None:
                feed.unsubscribe(watch.on_event)
                if not any(s == streamer for _, s in self.watches):  # the last guild left
                    del self.feeds[streamer]
                    observer = self._observers.pop(streamer, None)
                    if observer is not None:
                        feed.unsubscribe(observer)
                    await feed.stop()
                    if self.sessions is not None:
                        self.sessions.feed_stopped(streamer)
            await watch.drain()
            return True

    async def close(self) -> None:
        """Stop every feed, then hand over the moments already on their way (drain), then
        end the sessions: the caller closes the pipeline only after this returns."""
        async with self._lock:
            feeds, self.feeds = list(self.feeds.values()), {}
            watches, self.watches = list(self.watches.values()), {}
            self._observers.clear()
        await asyncio.gather(*(f.stop() for f in feeds), return_exceptions=True)
        await asyncio.gather(*(w.drain() for w in watches), return_exceptions=True)
        if self.sessions is not None:
            await self.sessions.close()
