"""Viewer poller: turns Kick status polls into ViewerSample and LiveChange events.

The Detector's viewer-spike trigger needs a steady series of viewer counts, and the Feed needs to
know when a session starts and ends; both come from one poll every `interval_s`. Kick errors are
expected (403s, rate limits, outages), so a failed poll is logged and simply retried at the next
tick: the poller never dies of Kick, and it never invents an offline transition from an error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from engine.backoff import sleep_unless
from engine.events import LiveChange, ViewerSample
from engine.kick.api import ChannelNotFound, KickError, LiveStatus, normalize_slug

log = logging.getLogger("engine.kick.poller")

OnPollEvent = Callable[[ViewerSample | LiveChange], None]
Sleep = Callable[[float], Awaitable[None]]


class StatusSource(Protocol):
    """What the poller needs from KickApi (a fake in tests)."""

    async def get_status(self, slugs: list[str]) -> dict[str, LiveStatus]: ...


class ViewerPoller:
    """Polls one channel; emits LiveChange on transitions and a ViewerSample per live poll.

    The state starts as offline, so the first poll that finds the channel live emits
    LiveChange(True) and then the sample, and a first poll that finds it offline emits nothing.
    A new livestream seen while already live (a restart between two polls) emits
    LiveChange(False) then LiveChange(True), so per-session state is reset.
    """

    def __init__(
        self,
        api: StatusSource,
        slug: str,
        on_event: OnPollEvent,
        interval_s: float = 10.0,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._api = api
        self.slug = normalize_slug(slug)
        self._on_event = on_event
        self.interval_s = interval_s
        self._clock = clock
        self._sleep = sleep
        self.live = False
        self.latest: LiveStatus | None = None
        self.last_poll_t: float | None = None
        self.last_ok_t: float | None = None
        self.last_error: str | None = None
        self.polls = 0
        self.errors = 0
        self.consecutive_errors = 0
        self._stopping = False
        self._stop_event = asyncio.Event()

    def snapshot(self) -> dict[str, Any]:
        """A plain dict of the latest status and health, for /stats."""
        st = self.latest
        return {
            "slug": self.slug,
            "live": self.live,
            "viewers": st.viewers if st is not None and st.live else 0,
            "title": st.title if st is not None else None,
            "started_at": st.started_at if st is not None else None,
            "livestream_id": st.livestream_id if st is not None else None,
            "last_poll_t": self.last_poll_t,
            "last_ok_t": self.last_ok_t,
            "last_error": self.last_error,
            "polls": self.polls,
            "errors": self.errors,
        }

    async def poll_once(self) -> list[ViewerSample | LiveChange]:
        """One poll; returns (and emits) the events it produced. Never raises for Kick errors."""
        t = self._clock()
        self.polls += 1
        self.last_poll_t = t
        try:
            found = await self._api.get_status([self.slug])
            status = found.get(self.slug)
            if status is None:
                raise ChannelNotFound(self.slug)
        except (KickError, OSError, ValueError) as exc:
            self._failed(exc)
            return []
        self.consecutive_errors = 0
        self.last_ok_t = t
        events = self._transition(t, status)
        self.latest = status
        for ev in events:
            try:
                self._on_event(ev)
            except Exception:
                log.exception("poller %s: event callback failed", self.slug)
        return events

    def assume(self, live: bool) -> None:
        """Take `live` as the last known state without polling (Kick pushed a live/offline event
        and the Feed acted on it). The poll stays the authority: if the next one disagrees it
        emits the transition back, instead of the Feed and the poller each believing their own
        story (the Feed offline, dropping chat and samples, while the poller thinks it is live)."""
        self.live = live

    def _transition(self, t: float, status: LiveStatus) -> list[ViewerSample | LiveChange]:
        events: list[ViewerSample | LiveChange] = []
        prev = self.latest
        if status.live and self.live and prev is not None and _new_session(prev, status):
            log.info("poller %s: a new livestream started between polls", self.slug)
            events += [LiveChange(t, False), LiveChange(t, True)]
        elif status.live != self.live:
            log.info(
                "poller %s: channel is now %s", self.slug, "live" if status.live else "offline"
            )
            events.append(LiveChange(t, status.live))
        self.live = status.live
        if status.live:
            events.append(ViewerSample(t, status.viewers))
        return events

    def _failed(self, exc: Exception) -> None:
        self.errors += 1
        self.consecutive_errors += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        # Warn on the first failure of a run, then every 10th, so an outage is visible in the
        # log without a line every 10 s.
        level = logging.WARNING if self.consecutive_errors % 10 == 1 else logging.DEBUG
        log.log(
            level,
            "poller %s: poll failed (%d in a row), retrying in %.0f s: %s",
            self.slug,
            self.consecutive_errors,
            self.interval_s,
            self.last_error,
        )

    async def run(self) -> None:
        """Poll every interval until stop(); unexpected bugs are logged, not fatal."""
        while not self._stopping:
            started = self._clock()
            try:
                await self.poll_once()
            except Exception:
                self.errors += 1
                log.exception("poller %s: unexpected error while polling", self.slug)
            delay = max(0.0, self.interval_s - (self._clock() - started))
            await self._pause(delay)

    def stop(self) -> None:
        """Ask run() to return at its next pause (or at once if it is pausing)."""
        self._stopping = True
        self._stop_event.set()

    async def _pause(self, delay: float) -> None:
        """The injected sleep, cut short by stop()."""
        await sleep_unless(self._sleep, delay, self._stop_event)


def _new_session(prev: LiveStatus, cur: LiveStatus) -> bool:
    if prev.livestream_id is not None and cur.livestream_id is not None:
        return prev.livestream_id != cur.livestream_id
    if prev.started_at is not None and cur.started_at is not None:
        return prev.started_at != cur.started_at
    return False
