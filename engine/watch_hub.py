"""Watches: one Detector per (guild, streamer), fed by one shared Feed per streamer.

The hub starts a streamer's Feed when the first guild watches it and stops it when the last
guild unwatches, so two guilds watching one streamer share one recording and one chat socket
while keeping their own thresholds, cooldowns and daily counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from engine.detector import Detector
from engine.events import Event, Moment

log = logging.getLogger("engine.watch_hub")

OnMoment = Callable[[int, Moment], Awaitable[None]]


class FeedLike(Protocol):
    slug: str

    def subscribe(self, fn: Callable[[Event], None]) -> None: ...
    def unsubscribe(self, fn: Callable[[Event], None]) -> None: ...
    @property
    def subscribers(self) -> int: ...

    recording_paused: bool

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


class WatchHub:
    def __init__(
        self,
        feed_factory: Callable[[str], FeedLike],
        detector_factory: Callable[[str, Mapping[str, float], Mapping[str, Any]], Detector],
        on_moment: OnMoment,
    ) -> None:
        self._feed_factory = feed_factory
        self._detector_factory = detector_factory
        self._on_moment = on_moment
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
                if not feed.subscribers:
                    del self.feeds[streamer]
                    await feed.stop()
            await watch.drain()
            return True

    async def close(self) -> None:
        async with self._lock:
            feeds, self.feeds = list(self.feeds.values()), {}
            watches, self.watches = list(self.watches.values()), {}
        await asyncio.gather(*(f.stop() for f in feeds), return_exceptions=True)
        await asyncio.gather(*(w.drain() for w in watches), return_exceptions=True)
