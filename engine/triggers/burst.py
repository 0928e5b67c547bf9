"""Channel-relative bars: how unusual a burst is for *this* channel, and where to put the bar so
the channel gets about `target` clips per live hour.

A trigger's raw measure (chat messages in 5 s, chatters reacting in 10 s, ...) is sampled once a
second. Against the channel's slow normal `b` (an EWMA, half-life `baseline_half_life_s`) it
becomes a strength ``z = 2 (sqrt(x + 3/8) - sqrt(b + 3/8))`` (Anscombe's transform: a z-score
for counts, honest even for small ones), so a burst of 15 messages on a 2-message channel and
one of 1,700 on a 1,500-message channel are judged by the same yardstick, and the yardstick
needs no tuning per channel.

A *burst* is a run of seconds with z above `REF_Z`; it ends after `rearm_s` seconds below. Each
burst's peak strength goes into `PeakRate`, a decayed histogram of peaks over the channel's live
hours (half-life `memory_h`). The bar is the strength that, in that history, `target` bursts
per live hour reached: "keep about the top `target` bursts of every hour", online. A burst fires
once, when it crosses the bar; while the clip is open later, stronger seconds of the same burst
re-time the moment to its peak (Detector).

Cold start (a channel never seen): no fire during the first `warmup_s` seconds of chat, while
the normal settles. The bar then comes from the history blended with a prior worth `prior_h`
live hours in which `target` bursts per hour reached strength `prior_z`, so the first clips
need a clearly unusual burst, and within about an hour of live chat the channel's own peaks
dominate. The history is plain data (`to_state`) that the application core persists per
streamer, so a restart or the next stream starts warm.

Whatever the target, a burst must also stand out: z >= `min_z` and x >= `min_ratio` x the normal.
A steady chat has bursts too (noise), but a steady busy chat's noise never reaches 1.5x its
normal, so it gets no clips; fewer clips than the target is right when nothing happens.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from engine.config import AdaptiveConfig
from engine.triggers.baseline import RateBaseline
from engine.triggers.peaks import PeakRate

REF_Z = 1.0
"""A second with z above this belongs to a burst (a loose bar: it only delimits bursts)."""
HOT_Z = 2.5
"""A second this unusual teaches the normal ten times slower (RateBaseline's hot seconds), so a
long burst does not become the normal. Higher than REF_Z: ordinary seconds a little above the
mean must count fully, or the normal of a quiet, noisy chat is biased low."""
MAX_GAP_S = 300
"""A longer gap without chat is a discontinuity, not silence (as chat_velocity's MAX_IDLE_S):
the normal and the history are left as they were, only the current burst is forgotten."""
COLD_S = 30
"""A never-seen channel: the seed's ceilings count after this many seconds of its chat, against
the running mean so far (joining a busy chat is not a burst)."""
class Burst:
    """One measure's normal, bursts, peak history and bar; fed one value per second."""

    __slots__ = (
        "_armed",
        "_below",
        "_n",
        "_peak",
        "bar_z",
        "baseline",
        "fired_peak",
        "min_ratio",
        "min_z",
        "peaks",
        "prior",
        "rearm_s",
        "target",
    )

    def __init__(
        self,
        *,
        target: float,
        memory_h: float,
        half_life_s: float,
        warmup_s: float,
        prior_h: float,
        prior_z: float,
        min_z: float,
        min_ratio: float,
        rearm_s: float,
    ) -> None:
        self.baseline = RateBaseline(half_life_s, warmup_s)
        self.peaks = PeakRate(memory_h)
        self._peak: float | None = None  # the current burst's peak strength
        self._below = 0
        self._armed = True
        self._n = 0
        self.fired_peak = 0.0
        self.configure(target, prior_h, prior_z, min_z, min_ratio, rearm_s)

    def configure(
        self,
        target: float,
        prior_h: float,
        prior_z: float,
        min_z: float,
        min_ratio: float,
        rearm_s: float,
    ) -> None:
        self.target = target
        self.prior = (prior_h, target, prior_z)
        self.min_z = min_z
        self.min_ratio = min_ratio
        self.rearm_s = rearm_s
        self.bar_z = self.peaks.bar(target, self.prior)

    def configure_from(self, cfg: AdaptiveConfig, target: float) -> None:
        self.baseline.set_params(cfg.baseline_half_life_s, cfg.warmup_s)
        self.configure(target, cfg.prior_h, cfg.prior_z, cfg.min_z, cfg.min_ratio, cfg.rearm_s)

    @property
    def ready(self) -> bool:
        return self.baseline.ready

    def normal(self) -> float:
        return self.baseline.mean

    def strength(self, x: float) -> float:
        """Anscombe's variance-stabilised difference: ~N(0, 1) for Poisson counts even when
        they are small, where (x - b) / sqrt(b) would call a quiet chat's luck a burst."""
        return self.strength_over(x, 1.0)

    def strength_over(self, x: float, windows: float) -> float:
        """The strength of `x` counted over `windows` windows (normal scaled alike)."""
        b = self.baseline.mean * windows
        return 2.0 * (math.sqrt(max(x, 0.0) + 0.375) - math.sqrt(b + 0.375))

    def bar_value(self) -> float:
        """The raw value (e.g. messages in the window) a burst must exceed now."""
        b = self.baseline.mean
        z = max(self.bar_z, self.min_z)
        return max((math.sqrt(b + 0.375) + z / 2.0) ** 2 - 0.375, b * self.min_ratio)

    def rarity(self, z: float) -> float:
        """Bursts per live hour at least this strong (prior included): 1/rarity = 'one in N h'."""
        return self.peaks.rate_at_least(z, self.prior)

    def reset(self) -> None:
        """Forget the current burst (clock reset); the normal and the history stay."""
        self._peak = None
        self._below = 0
        self._armed = True

    @property
    def armed(self) -> bool:
        """Whether a crossing of the bar now would fire (no fire yet in this burst, warm)."""
        return self._armed and self.baseline.ready

    def try_fire(self, x: float, ceiling: float | None = None) -> float | None:
        """The measure reached `x`: the burst's strength if this is its one fire.

        `ceiling` is an absolute bar (the seed's numbers) that counts whatever the history
        says, so a never-seen channel still warming up clips an unmistakable moment; once the
        normal is known it still has to stand out (min_z, min_ratio), so a channel whose normal
        is above the seed's number does not clip its normal."""
        if not self._armed:
            return None
        b = self.baseline.mean
        at_ceiling = ceiling is not None and x >= ceiling
        stands_out = at_ceiling and x >= b * self.min_ratio and self.strength(x) >= self.min_z
        if self.baseline.ready:
            if not (x > self.bar_value() or stands_out):
                return None
        elif not (stands_out and self.baseline.seconds >= COLD_S):
            return None
        z = self.strength(x)
        self._armed = False
        self.fired_peak = z
        if self._peak is None or z > self._peak:
            self._peak = z
        self._below = 0
        return z

    def update(self, x: float) -> float | None:
        """Close one second whose measure was `x`. Returns the strength when it is a new peak
        of a burst that already fired (the Detector re-times the open clip to it), else None."""
        z = self.strength(x)
        # While the normal settles nothing is a burst: against a normal still near zero every
        # second would look hot, and hot seconds barely teach the normal (RateBaseline).
        hot = z > REF_Z and self.baseline.ready
        peak = None
        if hot:
            self._below = 0
            if self._peak is None or z > self._peak:
                self._peak = z
            if not self._armed and z > self.fired_peak:
                self.fired_peak = z
                peak = z
        elif self._peak is not None:
            self._below += 1
            if self._below > self.rearm_s:
                self._end_burst()
        self.baseline.update(x, hot=hot and z > HOT_Z)
        self.peaks.tick(1)
        self._n += 1
        if self._n % 60 == 0:  # the prior's share shrinks as live time grows
            self.bar_z = self.peaks.bar(self.target, self.prior)
        return peak

    def fill(
        self, measure: Callable[[float], float], start: int, seconds: int, span: float
    ) -> None:
        """`seconds` seconds without events from second `start` on: the first `span` of them
        still see the window's events (`measure(t)`), the rest are quiet."""
        if seconds <= 0:
            return
        if seconds > MAX_GAP_S:  # a discontinuity (offline, a clock step), not quiet chat
            self.reset()
            return
        near = min(seconds, math.ceil(span))
        for k in range(near):
            self.update(measure(start + k + 1.0))
        self.idle(seconds - near)

    def idle(self, seconds: int) -> None:
        """`seconds` more seconds whose measure was 0 (a quiet gap, in O(1))."""
        if seconds <= 0:
            return
        if self._peak is not None:
            self._below += seconds
            if self._below > self.rearm_s:
                self._end_burst()
        self.baseline.update_idle(seconds)
        self.peaks.tick(seconds)

    def _end_burst(self) -> None:
        if self._peak is not None and self.baseline.ready:
            self.peaks.add(self._peak)
            self.bar_z = self.peaks.bar(self.target, self.prior)
        self._peak = None
        self._below = 0
        self._armed = True

    def to_state(self) -> dict[str, Any]:
        return {"baseline": self.baseline.to_state(), "peaks": self.peaks.to_state()}

    def reset_learning(self) -> None:
        """Forget the normal and the history (a damaged saved profile): a cold start."""
        self.baseline.mean = 0.0
        self.baseline.seconds = 0
        self.peaks = PeakRate(self.peaks.memory_h)
        self.bar_z = self.peaks.bar(self.target, self.prior)
        self.reset()

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore a saved profile; raises TypeError/ValueError on damaged values."""
        base = state.get("baseline")
        if isinstance(base, dict) and not (
            math.isfinite(float(base.get("mean", 0.0))) and float(base.get("mean", 0.0)) >= 0
        ):
            raise ValueError("damaged baseline")
        if isinstance(state.get("baseline"), dict):
            self.baseline.load_state(state["baseline"])
        if isinstance(state.get("peaks"), dict):
            self.peaks.load_state(state["peaks"])
            self.bar_z = self.peaks.bar(self.target, self.prior)


def burst_for(cfg: AdaptiveConfig, target: float) -> Burst:
    """A tracker with the adaptive settings of config (one per measure and watch)."""
    return Burst(
        target=target,
        memory_h=cfg.memory_h,
        half_life_s=cfg.baseline_half_life_s,
        warmup_s=cfg.warmup_s,
        prior_h=cfg.prior_h,
        prior_z=cfg.prior_z,
        min_z=cfg.min_z,
        min_ratio=cfg.min_ratio,
        rearm_s=cfg.rearm_s,
    )


def adapted(current: Burst | None, cfg: AdaptiveConfig, target: float) -> Burst | None:
    """A trigger's tracker after a (re)configuration: none with fixed bars, a new one when
    adaptive bars come on, else the same one (its learnt history kept) with the new settings."""
    if not cfg.enabled:
        return None
    if current is None:
        return burst_for(cfg, target)
    current.configure_from(cfg, target)
    return current
