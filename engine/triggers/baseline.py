"""A channel's normal chat rate: an exponentially weighted mean of messages per second.

Why EWMA over per-second counts: constant memory, no list growing with uptime, and it follows a
channel whose audience grows during a stream. Until `warmup_s` seconds have been seen it is the
plain running mean (alpha = 1/n), so the first minute of data weighs as much as it deserves, and
`ready` stays False so nothing fires on a cold start. While the channel is above its trigger
threshold the baseline learns ten times slower, so a long hype does not teach the detector that
hype is normal (but a raid that never ends still becomes the new normal, in about ten half-lives).
"""

from __future__ import annotations

import math


class RateBaseline:
    """EWMA of a per-second count, fed one closed second at a time."""

    __slots__ = ("_alpha", "_alpha_hot", "mean", "seconds", "warmup_s")

    def __init__(self, half_life_s: float, warmup_s: float) -> None:
        self.set_params(half_life_s, warmup_s)
        self.mean = 0.0
        self.seconds = 0

    def set_params(self, half_life_s: float, warmup_s: float) -> None:
        self._alpha = 1.0 - 0.5 ** (1.0 / max(half_life_s, 1.0))
        self._alpha_hot = self._alpha / 10.0
        self.warmup_s = warmup_s

    @property
    def ready(self) -> bool:
        return self.seconds >= self.warmup_s

    def update(self, count: float, hot: bool = False) -> None:
        """Fold in one second that had `count` messages."""
        self.seconds += 1
        # Hot seconds never use the running-mean weight: right after warm-up 1/n is large, and
        # the first hype would otherwise teach the baseline that hype is normal.
        alpha = self._alpha_hot if hot else max(self._alpha, 1.0 / self.seconds)
        self.mean += alpha * (count - self.mean)

    def update_idle(self, seconds: int) -> None:
        """Fold in `seconds` seconds with no message, in O(1) (a long silence must stay cheap)."""
        if seconds <= 0:
            return
        # While 1/n > alpha the update is a running mean: n zeros scale it by n_old / n_new.
        running_until = max(self.seconds, math.floor(1.0 / self._alpha))
        if self.seconds < running_until:
            n_new = min(self.seconds + seconds, running_until)
            self.mean *= self.seconds / n_new
            seconds -= n_new - self.seconds
            self.seconds = n_new
        if seconds > 0:
            self.seconds += seconds
            self.mean *= math.pow(1.0 - self._alpha, seconds)

    def to_state(self) -> dict[str, float]:
        return {"mean": self.mean, "seconds": self.seconds}

    def load_state(self, state: dict[str, float]) -> None:
        self.mean = float(state.get("mean", 0.0))
        self.seconds = int(state.get("seconds", 0))
