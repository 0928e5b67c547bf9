"""viewer_spike: a sudden jump in viewers (a raid, a clip going viral elsewhere, a big moment).

Fires when a sample is >= `multiplier` x the mean of the samples of the previous `window_s`
seconds (a sample exactly `window_s` old is out: the edge of every window, see
engine.triggers.windows). Cold start: no decision until `min_samples` earlier samples exist in
the window (with 10 s polls and the defaults, 30 s of history), so the first sample after going
live, or after a gap longer than the window, never fires. A baseline under `min_baseline`
viewers never fires (3 -> 10 viewers is not a moment). A LiveChange clears the history:
sessions do not mix.
"""

from __future__ import annotations

from collections import deque

from engine.config import ViewerSpikeConfig
from engine.triggers.fire import NEVER, Fire

NAME = "viewer_spike"


class ViewerSpike:
    __slots__ = ("_q", "_sum", "armed", "cfg", "last_true", "latest")

    def __init__(self, cfg: ViewerSpikeConfig) -> None:
        self.cfg = cfg
        self._q: deque[tuple[float, int]] = deque()
        self._sum = 0
        self.armed = True
        self.last_true = NEVER
        self.latest: int | None = None

    def configure(self, cfg: ViewerSpikeConfig) -> None:
        self.cfg = cfg

    def reset(self) -> None:
        """Forget the history: a new session (LiveChange) must not compare with the last one."""
        self._q.clear()
        self._sum = 0
        self.armed = True
        self.latest = None

    def baseline(self, now: float) -> float | None:
        """Mean viewers over the window before `now`, or None while cold."""
        q = self._q
        limit = now - self.cfg.window_s
        while q and q[0][0] <= limit:
            self._sum -= q.popleft()[1]
        if len(q) < self.cfg.min_samples:
            return None
        return self._sum / len(q)

    def on_sample(self, t: float, viewers: int) -> Fire | None:
        cfg = self.cfg
        base = self.baseline(t)
        self._q.append((t, viewers))
        self._sum += viewers
        self.latest = viewers
        if base is None or base < cfg.min_baseline or viewers < cfg.multiplier * base:
            self.armed = True
            return None
        self.last_true = t
        if not self.armed:
            return None
        self.armed = False
        return Fire(
            NAME,
            t,
            cfg.confidence,
            {"viewers": viewers, "baseline": round(base, 1), "ratio": round(viewers / base, 2)},
        )
