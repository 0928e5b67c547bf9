"""The history of a channel's bursts: a decayed histogram of burst peaks over live time.

It answers the two questions the adaptive bars ask (engine.triggers.burst): how strong were
the `target` strongest bursts of an average live hour (the bar), and how many bursts per live
hour were at least this strong (the rarity behind confidence). Fixed memory (128 floats), log-
spaced bins (~6 % wide), plain data for persistence.
"""

from __future__ import annotations

import math
from typing import Any

_BINS_PER_UNIT = 16  # histogram bins per unit of log1p(z): ~6 % wide
_NBINS = 128  # covers z up to e^8 - 1, ~3,000
_RENORM = 1e12


def _bin(z: float) -> int:
    return min(_NBINS - 1, int(math.log1p(max(z, 0.0)) * _BINS_PER_UNIT))


def _edge(i: float) -> float:
    return math.expm1(i / _BINS_PER_UNIT)


class PeakRate:
    """Decayed histogram of burst peaks over live time: how many bursts per live hour reach z.

    Memory is fixed (`_NBINS` floats), whatever the uptime. Decay is lazy: new weight grows by
    1/decay per live second instead of every bin shrinking, renormalised now and then.
    """

    __slots__ = ("_clips", "_decay", "_inc", "_live", "bins", "memory_h")

    def __init__(self, memory_h: float) -> None:
        self.bins = [0.0] * _NBINS
        self._inc = 1.0
        self._live = 0.0  # decayed live seconds, in the same scaled units as the bins
        self._clips = 0.0  # decayed clips made, likewise: the achieved clip rate
        self.memory_h = memory_h
        self._decay = 0.5 ** (1.0 / (max(memory_h, 0.01) * 3600.0))

    def tick(self, seconds: int = 1) -> None:
        """`seconds` of live chat passed (one call a second; idle gaps in one call)."""
        if seconds <= 0:
            return
        # Past ~40 half-lives everything older weighs nothing (2^-40), and the weight of a
        # longer step would overflow a float: a far-future timestamp must not crash the core.
        seconds = min(seconds, int(40 * self.memory_h * 3600) + 1)
        grow = self._decay**-seconds
        # live time accumulates inc * (1 + 1/d + ... ) for the seconds passed
        self._live += self._inc * ((grow - 1.0) / (1.0 / self._decay - 1.0))
        self._inc *= grow
        if self._inc > _RENORM:
            scale = 1.0 / self._inc
            self.bins = [w * scale for w in self.bins]
            self._live *= scale
            self._clips *= scale
            self._inc = 1.0

    def add(self, z: float) -> None:
        self.bins[_bin(z)] += self._inc

    def note_clip(self) -> None:
        self._clips += self._inc

    def clips_per_hour(self) -> float | None:
        """Clips made per live hour remembered (None before any live time)."""
        hours = self.live_h
        return self._clips / self._inc / hours if hours > 0 else None

    @property
    def live_h(self) -> float:
        """Live hours remembered (decayed): the denominator of every rate."""
        return self._live / self._inc / 3600.0

    def rate_at_least(self, z: float, prior: tuple[float, float, float] | None = None) -> float:
        """Bursts per live hour whose peak reached `z` (prior: hours, rate, z of the prior)."""
        i = _bin(z)
        weight = sum(self.bins[i:]) / self._inc
        hours = self.live_h
        if prior is not None:
            p_hours, p_rate, p_z = prior
            hours += p_hours
            if p_z >= z:
                weight += p_hours * p_rate
        # Stronger than anything remembered is not "never": at most half a burst in that time.
        return max(weight, 0.5) / hours if hours > 0 else 0.0

    def bar(self, target_per_h: float, prior: tuple[float, float, float]) -> float:
        """The strength that `target_per_h` bursts per live hour reached, blended with the
        prior's bar by weight (live hours remembered vs the prior's hours)."""
        p_hours, _, p_z = prior
        hours = self.live_h
        need = target_per_h * hours
        own = 0.0
        acc = 0.0
        for i in range(_NBINS - 1, -1, -1):
            w = self.bins[i] / self._inc
            if w > 0 and acc + w >= need:
                own = _edge(i + 1 - (need - acc) / w)  # interpolated inside the bin
                break
            acc += w
        total = hours + p_hours
        return (hours * own + p_hours * p_z) / total if total > 0 else p_z

    def to_state(self) -> dict[str, Any]:
        scale = 1.0 / self._inc
        return {
            "bins": [round(w * scale, 6) for w in self.bins],
            "live_s": self._live * scale,
            "clips": self._clips * scale,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore saved weights; any value that no real history has (negative, not finite,
        beyond _SANE) leaves this history empty instead of poisoning every bar after it."""
        bins = [float(x) for x in state.get("bins", [])][:_NBINS]
        live = float(state.get("live_s", 0.0))
        clips = float(state.get("clips", 0.0))
        if len(bins) == _NBINS and all(_sane(x) for x in (*bins, live, clips)):
            self.bins = bins
            self._live, self._clips, self._inc = live, clips, 1.0


_SANE = 1e12  # a weight or a count of live seconds past this is damage, not history


def _sane(x: float) -> bool:
    return math.isfinite(x) and 0 <= x < _SANE
