"""A bounded time series of one streamer's chat velocity, baseline and viewers, for /stats.

The Detector only knows "now" (a Snapshot); a chart of the last half hour needs the past too.
The caller samples every ~10 s and marks each trigger/moment; everything is held in deques with
a maxlen, so memory stays fixed however long a stream runs, and samples older than the horizon
are dropped as new ones arrive. Pure: every time is passed in, nothing reads the clock, so the
tests (and a replay) drive it with made-up times.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.detection.detector import Snapshot

DEFAULT_HORIZON_S = 3600.0
DEFAULT_INTERVAL_S = 10.0
DEFAULT_MAX_MARKS = 256
_DEDUPE_RECENT = 16  # how many recent marks a new one is compared with


@dataclass(slots=True, frozen=True)
class Sample:
    """One reading: chat msg/s, its learnt normal, the fire threshold and viewers (if known)."""

    t: float
    velocity: float
    baseline: float
    viewers: int | None = None
    threshold: float | None = None


@dataclass(slots=True, frozen=True)
class Mark:
    """A trigger or moment at time ``t``, drawn as a vertical line on the chart."""

    t: float
    trigger: str


@dataclass(slots=True, frozen=True)
class Series:
    """What the chart draws: samples and marks inside ``[start, end]``, both sorted by time."""

    start: float
    end: float
    samples: tuple[Sample, ...] = ()
    marks: tuple[Mark, ...] = ()

    @property
    def minutes(self) -> float:
        return (self.end - self.start) / 60.0

    @property
    def has_viewers(self) -> bool:
        return any(s.viewers is not None for s in self.samples)


class StatsHistory:
    """Last ``horizon_s`` of samples and marks for one streamer.

    Why two bounds: the horizon keeps the data relevant, the maxlen keeps memory fixed even when
    a caller samples much faster than ``interval_s`` (then the window simply gets shorter).
    Samples must arrive in time order; an older one than the last (a late poll) is ignored, so
    the series stays sorted and windowing is a cheap scan from the right.
    """

    def __init__(
        self,
        horizon_s: float = DEFAULT_HORIZON_S,
        interval_s: float = DEFAULT_INTERVAL_S,
        max_marks: int = DEFAULT_MAX_MARKS,
    ) -> None:
        if horizon_s <= 0 or interval_s <= 0 or max_marks <= 0:
            raise ValueError("horizon_s, interval_s and max_marks must be positive")
        self.horizon_s = horizon_s
        # A little slack over horizon/interval: sampling jitter must not shorten the window.
        self._samples: deque[Sample] = deque(maxlen=math.ceil(horizon_s / interval_s * 1.25) + 1)
        self._marks: deque[Mark] = deque(maxlen=max_marks)

    def __len__(self) -> int:
        return len(self._samples)

    @property
    def marks_count(self) -> int:
        return len(self._marks)

    def record(
        self,
        t: float,
        velocity: float,
        baseline: float,
        viewers: int | None = None,
        threshold: float | None = None,
    ) -> bool:
        """Add one sample; False (and nothing stored) if it is older than the last one."""
        if self._samples and t < self._samples[-1].t:
            return False
        self._samples.append(Sample(t, float(velocity), float(baseline), viewers, threshold))
        self._prune(t)
        return True

    def record_snapshot(self, t: float, snap: Snapshot) -> bool:
        """Record what a Detector's snapshot says now (the usual caller: the /stats sampler)."""
        return self.record(t, snap.velocity, snap.baseline, snap.viewers, snap.threshold)

    def mark(self, t: float, trigger: str) -> None:
        """Remember a trigger/moment time; marks may come slightly out of order (sorted on read).

        Every guild watching a streamer reports the same moment; a repeat of a recent mark is
        dropped so it neither draws twice nor pushes real marks out of the bounded deque.
        """
        new = Mark(t, trigger)
        if any(m == new for m in itertools.islice(reversed(self._marks), _DEDUPE_RECENT)):
            return
        self._marks.append(new)
        self._prune(max(t, self._samples[-1].t if self._samples else t))

    def clear(self) -> None:
        """Forget everything (e.g. when a watch is removed and re-added)."""
        self._samples.clear()
        self._marks.clear()

    def _prune(self, now: float) -> None:
        cutoff = now - self.horizon_s
        while self._samples and self._samples[0].t < cutoff:
            self._samples.popleft()
        if self._marks and self._marks[0].t < cutoff:
            self._marks = deque((m for m in self._marks if m.t >= cutoff), self._marks.maxlen)

    def series(self, now: float, minutes: float = 30.0) -> Series:
        """Samples and marks with ``now - minutes*60 <= t <= now``, oldest first."""
        start = now - minutes * 60.0
        picked: list[Sample] = []
        for s in reversed(self._samples):
            if s.t < start:
                break
            if s.t <= now:
                picked.append(s)
        picked.reverse()
        marks = sorted((m for m in self._marks if start <= m.t <= now), key=lambda m: m.t)
        return Series(start, now, tuple(picked), tuple(marks))
