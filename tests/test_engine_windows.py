"""Every time window has the same edge: an event at t is inside at `now` while t > now - window."""

from __future__ import annotations

from engine.config import Config
from engine.triggers.viewer_spike import ViewerSpike
from engine.triggers.windows import CappedWindow


def test_capped_window_edge() -> None:
    w = CappedWindow(10.0, 1)
    w.add(100.0, "a")
    w.expire(109.999)
    assert len(w) == 1
    w.expire(110.0)
    assert len(w) == 0, "exactly window_s old is outside"


def test_viewer_window_has_the_same_edge(config: Config) -> None:
    v = ViewerSpike(config.triggers.viewer_spike)  # 60 s window, 3 samples needed
    for t in (0.0, 10.0, 20.0):
        v.on_sample(1000.0 + t, 100)
    assert v.baseline(1000.0 + 59.999) == 100
    assert v.baseline(1000.0 + 60.0) is None, "the sample 60 s old left; two are too few"
