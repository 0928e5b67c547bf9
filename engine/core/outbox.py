"""The outbox: clips that are cut but not posted yet are retried until Discord has them.

A clip is handed to the poster as soon as it is cut. When that fails (Discord answers 5xx, the
network is down, the review channel is missing or the bot may not post there) the row stays
`ready` or `posting`, and this loop tries every such clip again with exponential backoff (full
jitter, engine.backoff) until it is posted: an outage of minutes or hours ends in posted clips,
not in rows waiting for a restart. Exactly-once is the poster's job (compare-and-set on the row,
the clip's own nonce, a look-up of a `posting` clip in the channel before sending); this loop
only decides *when* to try and remembers *why* each clip is still waiting, for /stats.

When nothing is waiting it re-scans every `idle_s` and whenever `wake()` is called; a clip whose
first attempt (the pipeline's hand-over) failed is reported with `failed()` and retried after a
backoff delay. While Discord keeps failing, neither cuts the backoff short.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from engine.backoff import Backoff, sleep_unless
from engine.core.stores import ClipStore

log = logging.getLogger("engine.core.outbox")

RETRY_INITIAL_S = 5.0
RETRY_MAX_S = 300.0
IDLE_S = 60.0
MIN_DELAY_S = 1.0
PENDING = ("ready", "posting")


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one try at posting a clip did: posted (or nothing left to do), or why not."""

    posted: bool
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Waiting:
    guild_id: int
    reason: str


class Outbox:
    def __init__(
        self,
        store: ClipStore,
        post: Callable[[int], Awaitable[Attempt]],
        *,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        idle_s: float = IDLE_S,
        min_delay_s: float = MIN_DELAY_S,
    ) -> None:
        """``min_delay_s``: the floor under a jittered delay, so a draw near 0 cannot turn an
        outage into a tight loop of requests."""
        self.store = store
        self._post = post
        self.backoff = backoff or Backoff(RETRY_INITIAL_S, RETRY_MAX_S)
        self._sleep = sleep
        self._clock = clock
        self.idle_s = idle_s
        self.min_delay_s = min_delay_s
        #: Clips the last round could not post, and why (for /stats and the log).
        self.waiting: dict[int, Waiting] = {}
        self.next_try_at: float | None = None
        self._wake = asyncio.Event()
        self._failed = False
        self._said: dict[int, str] = {}

    def wake(self) -> None:
        """Something may be waiting: scan now if idle (a backoff in progress is kept)."""
        self._wake.set()

    def failed(self, clip_id: int, guild_id: int, reason: str) -> None:
        """A try outside the loop (the pipeline's hand-over) just failed: count the clip as
        waiting at once (for /stats) and retry it after a backoff delay, not immediately."""
        self.waiting[clip_id] = Waiting(guild_id, reason)
        self._failed = True
        self._wake.set()

    async def run_once(self) -> bool:
        """Try every waiting clip once; True when none is left waiting."""
        still: dict[int, Waiting] = {}
        for row in await self.store.with_status(*PENDING):
            clip_id = int(row.id)
            try:
                attempt = await self._post(clip_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the poster translates Discord's errors; this is the rest
                log.warning("outbox: clip %s: posting failed unexpectedly", clip_id, exc_info=True)
                attempt = Attempt(False, f"{type(exc).__name__}: {exc}"[:200])
            if not attempt.posted:
                still[clip_id] = Waiting(int(row.guild_id), attempt.reason or "not posted yet")
        posted = [c for c in self.waiting if c not in still]
        if posted:
            log.info("outbox: posted %d clip(s) that were waiting", len(posted))
        self.waiting = still
        return not still

    async def run(self, until_ready: Callable[[], Awaitable[Any]]) -> None:
        """The background loop (cancel the task to stop it)."""
        await until_ready()
        while True:
            self._wake.clear()
            try:
                clean = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database itself: try again later, never die
                log.warning("outbox: could not read the clips waiting to post: %s", exc)
                clean = False
            if clean:
                self.backoff.reset()
                self.next_try_at = None
                self._said = {}
                await sleep_unless(self._sleep, self.idle_s, self._wake)
                if not self._failed:  # idle time over, or new work: scan now
                    continue
            self._failed = False
            delay = max(self.min_delay_s, self.backoff.next_delay())
            self.next_try_at = self._clock() + delay
            self._report(delay)
            await self._sleep(delay)

    def _report(self, delay: float) -> None:
        """One line per round; WARNING when what is waiting (or why) changed, else INFO."""
        said = {c: w.reason for c, w in self.waiting.items()}
        first_id, first = next(iter(self.waiting.items()))
        level = logging.WARNING if said != self._said else logging.INFO
        self._said = said
        log.log(
            level,
            "outbox: %d clip(s) waiting to post (clip %s: %s); next try in %.0f s",
            len(said),
            first_id,
            first.reason,
            delay,
        )

    def status(self, guild_id: int) -> str | None:
        """For /stats: how many of the guild's clips wait, why, and when the next try is."""
        mine = [(c, w) for c, w in self.waiting.items() if w.guild_id == guild_id]
        if not mine:
            return None
        text = f"{len(mine)} clip(s) waiting to post: {mine[0][1].reason}"
        if self.next_try_at is not None:
            text += f"; next try in {max(0.0, self.next_try_at - self._clock()):.0f} s"
        return text
