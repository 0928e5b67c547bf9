"""Exponential backoff with full jitter, and Retry-After parsing.

Pure and tiny on purpose: the Kick HTTP client, the chat socket and the recorder all retry, and
they must agree on one well-tested policy. Full jitter (a uniform draw between 0 and the capped
exponential) spreads the retries of many bots hitting the same block instead of synchronising them.
The random source is injectable so tests get exact delays.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(slots=True)
class Backoff:
    """Delays that grow by `factor` from `initial` up to `max`, each drawn uniformly below the cap.

    Call `next_delay()` before each retry and `reset()` after a success, so one bad hour does not
    make the next outage start at the longest pause.
    """

    initial: float = 2.0
    max: float = 300.0
    factor: float = 2.0
    rand: Callable[[], float] = random.random
    attempt: int = field(default=0, init=False)

    def cap(self) -> float:
        """The ceiling of the next delay, without drawing it (for logs and budgets)."""
        # Stop growing once the cap is reached so a long outage cannot overflow the float power.
        grown = self.initial * self.factor**self.attempt
        return min(self.max, grown)

    def next_delay(self) -> float:
        """Draw the next delay (full jitter) and advance the exponent."""
        cap = self.cap()
        if cap < self.max:
            self.attempt += 1
        return max(0.0, self.rand() * cap)

    def reset(self) -> None:
        """Start again from `initial` after a success."""
        self.attempt = 0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None.

    None means the header was absent or unreadable, so the caller falls back to its own backoff
    rather than trusting garbage. A date in the past yields 0.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
            return None
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


async def sleep_unless(
    sleep: Callable[[float], Awaitable[object]], delay: float, stop: asyncio.Event
) -> None:
    """Wait `delay` with the injected sleep, returning early when `stop` is set.

    Reconnect and poll loops back off for minutes; a shutdown must not wait that long.
    """
    if stop.is_set():
        return
    sleeper = asyncio.ensure_future(sleep(delay))
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, stopper):
            task.cancel()
        await asyncio.gather(sleeper, stopper, return_exceptions=True)
