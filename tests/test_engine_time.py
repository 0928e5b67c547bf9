"""The Detector's clock: implausible times are ignored, a clock that jumps back resets the windows.

Rule (engine.detection.detector): a time must be finite and 0 <= t < MAX_T; an event up to
REWIND_S behind
the clock counts at the clock (socket skew); one further behind means the clock was reset.
"""

from __future__ import annotations

import math

import pytest
from chatscript import T0, Script

from engine.config import Config
from engine.detection.detector import REWIND_S, Detector
from engine.events import MAX_T, ChatMessage, LiveChange, ViewerSample

BAD_TIMES = [math.nan, math.inf, -math.inf, -1.0, MAX_T, 1e12, 10**400]


@pytest.mark.parametrize("t", BAD_TIMES, ids=repr)
def test_implausible_times_are_ignored_and_counted(config: Config, t: float) -> None:
    s = Script(Detector("s", config))
    s.burst(T0, 7, "CLIP IT", prefix="a")
    before = s.d._last_t
    assert s.d.feed(ChatMessage(t, "x", "CLIP IT", ())) == []
    assert s.d.feed(ViewerSample(t, 100)) == []
    assert s.d.feed(LiveChange(t, True)) == []
    assert s.d.bad_events == 3
    assert s.d._last_t == before, "the clock did not move"
    assert s.d.clock_resets == 0
    # The windows are intact: the eighth distinct user fires as if nothing had happened.
    assert [m.trigger for m in s.burst(T0 + 1, 1, "CLIP IT", prefix="b")] == ["keyword"]


def test_implausible_viewer_counts_are_ignored(config: Config) -> None:
    d = Detector("s", config)
    for i, v in enumerate([math.nan, -5, 10**9, math.inf]):
        assert d.feed(ViewerSample(T0 + i, v)) == []  # type: ignore[arg-type]
    assert d.bad_events == 4
    assert d.viewer_spike.latest is None


def test_a_nan_viewer_time_does_not_wedge_the_viewer_window(config: Config) -> None:
    d = Detector("s", config)
    d.feed(ViewerSample(math.nan, 100))
    for i in range(100):
        d.feed(ViewerSample(T0 + 10 * i, 100))
    assert len(d.viewer_spike._q) <= 7, "old samples still expire"


def test_one_far_future_time_does_not_poison_the_clock(config: Config) -> None:
    s = Script(Detector("s", config))
    s.say(T0 + 1e6, "liar", "hello")  # plausible on its own, eleven days ahead
    s.burst(T0, 7, "CLIP IT", prefix="a")
    assert s.d.clock_resets == 1 and s.d._last_t < T0 + 1
    # Windows expire again: 7 + 1 twenty seconds later is not 8 within 10 s.
    assert s.burst(T0 + 20, 1, "CLIP IT", prefix="b") == []
    assert [m.trigger for m in s.burst(T0 + 21, 7, "CLIP IT", prefix="c")] == ["keyword"]


def test_a_time_past_any_date_neither_crashes_nor_sticks(config: Config) -> None:
    """t = 1e12 used to crash the limiter (year 33658 is out of range)."""
    s = Script(Detector("s", config))
    s.say(1e12, "liar", "hello")
    assert [m.trigger for m in s.burst(T0, 8, "CLIP IT")] == ["keyword"]


def test_small_skew_is_clamped_not_a_reset(config: Config) -> None:
    s = Script(Detector("s", config))
    s.burst(T0, 7, "CLIP IT", prefix="a")
    out = s.say(T0 - REWIND_S + 1, "late", "CLIP IT")
    assert [m.trigger for m in out] == ["keyword"]
    assert out[0].t == s.d._last_t and s.d.clock_resets == 0


def test_a_clock_reset_forgets_windows_and_open_clip_but_not_limits(config: Config) -> None:
    start = T0 + 7200  # 02:00 UTC: an hour back is still the same day
    s = Script(Detector("s", config))
    s.warm(start - 60, 60)
    first = s.burst(start, 8, "CLIP IT", prefix="a")
    assert len(first) == 1
    baseline = s.d.velocity.baseline.mean
    back = start - 3600
    s.burst(back, 7, "CLIP IT", prefix="b")  # an hour back: a new timeline
    assert s.d.clock_resets == 1
    assert s.d.snapshot(back).open_clip is None, "the old clip's window is another timeline"
    assert s.d.velocity.baseline.mean == pytest.approx(baseline, rel=0.05)
    assert s.d.snapshot(back).clips_today == 1, "the same day's count is kept"
    # Cooldown stamps from the old timeline are clamped to the reset, not left in the future:
    # keyword's 90 s cooldown runs from the reset, so the next clip is possible 90 s later.
    assert s.burst(back + 60, 8, "CLIP IT", prefix="c") == []
    assert s.d.limiter.suppressed["cooldown"] >= 1
    assert len(s.burst(back + 100, 8, "CLIP IT", prefix="d")) == 1


def test_a_long_gap_is_not_folded_into_the_baseline(config: Config) -> None:
    """A busy channel back after a night offline (or a bogus time either side of it) keeps its
    normal: two hours of 'silence' must not teach it that normal is zero."""
    s = Script(Detector("s", config))
    for i in range(60 * 50):
        s.say(T0 + i / 50, f"u{i % 400}", "chatting")
    mean = s.d.velocity.baseline.mean
    s.say(T0 + 7200, "back", "hi")
    s.say(T0 + 7201, "back2", "hi")
    assert s.d.velocity.baseline.mean == pytest.approx(mean, rel=0.05)
    assert s.d.velocity.threshold() > config.triggers.chat_velocity.threshold + 2
