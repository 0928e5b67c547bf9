"""StatsHistory bounds and windows; the /stats chart renders a real PNG in every case."""

from __future__ import annotations

import asyncio
import io
import time

import numpy as np
import pytest
from PIL import Image

from engine.core.chart import render_chart, render_chart_async
from engine.core.history import Mark, Series, StatsHistory
from engine.detection.detector import Snapshot

NOW = 1_700_000_000.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def filled(minutes: float = 40, viewers: bool = True) -> StatsHistory:
    h = StatsHistory(horizon_s=3600)
    steps = int(minutes * 6)
    for i in range(steps + 1):
        t = NOW - minutes * 60 + i * 10
        h.record(t, 10 + (i % 7), 9.0, 1000 + i if viewers else None, threshold=16.0)
    return h


def decode(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    img = Image.open(io.BytesIO(png))
    img.load()
    return img


# -- history --------------------------------------------------------------------------------


def test_history_is_bounded_by_horizon_and_maxlen() -> None:
    h = StatsHistory(horizon_s=600, interval_s=10, max_marks=5)
    for i in range(1000):
        h.record(NOW + i * 10, 1.0, 1.0, 100)
    assert len(h) <= 61  # 600 s of 10 s samples, inclusive of both ends
    s = h.series(NOW + 9990, minutes=60)
    assert s.samples[0].t >= NOW + 9990 - 600
    for i in range(20):
        h.mark(NOW + 9990 - i, "keyword")
    assert h.marks_count == 5

    fast = StatsHistory(horizon_s=600, interval_s=10)
    for i in range(10_000):  # a caller sampling every second: memory still fixed
        fast.record(NOW + i, 1.0, 1.0)
    assert len(fast) < 100


def test_series_windows_samples_and_marks() -> None:
    h = filled(minutes=50)
    h.mark(NOW - 45 * 60, "keyword")  # outside a 30 min window
    h.mark(NOW - 60, "super_combo")
    h.mark(NOW - 600, "chat_velocity")  # out of order on purpose
    s = h.series(NOW, minutes=30)
    assert s.start == NOW - 1800 and s.end == NOW
    assert s.samples[0].t >= NOW - 1800 and s.samples[-1].t == NOW
    assert len(s.samples) == 181
    assert [m.trigger for m in s.marks] == ["chat_velocity", "super_combo"]
    h.mark(NOW - 60, "super_combo")  # a second guild reporting the same moment
    assert [m.trigger for m in h.series(NOW).marks] == ["chat_velocity", "super_combo"]
    assert h.series(NOW - 3000, minutes=5).samples[-1].t <= NOW - 3000
    assert len(h.series(NOW, minutes=10).samples) == 61


def test_late_samples_are_ignored_and_snapshot_records() -> None:
    h = StatsHistory()
    assert h.record(NOW, 1, 1)
    assert not h.record(NOW - 5, 2, 2)
    snap = Snapshot(5.5, 3.0, 8.0, True, 1200, 1100.0, None, None, 0, 0, 50)
    assert h.record_snapshot(NOW + 10, snap)
    last = h.series(NOW + 10).samples[-1]
    assert (last.velocity, last.baseline, last.viewers, last.threshold) == (5.5, 3.0, 1200, 8.0)
    h.clear()
    assert len(h) == 0 and not h.series(NOW).samples


def test_history_rejects_nonsense_bounds() -> None:
    with pytest.raises(ValueError):
        StatsHistory(horizon_s=0)


# -- chart ----------------------------------------------------------------------------------


def test_chart_normal_series_is_a_discord_sized_png() -> None:
    h = filled()
    h.mark(NOW - 300, "chat_velocity")
    img = decode(render_chart(h.series(NOW), "xqc", NOW))
    assert img.size == (800, 400)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_chart_edge_cases_render(theme: str) -> None:
    empty = Series(NOW - 1800, NOW)
    one = StatsHistory()
    one.record(NOW - 5, 3.0, 2.0, 50)
    no_viewers = filled(viewers=False).series(NOW)
    assert not no_viewers.has_viewers
    only_marks = Series(NOW - 1800, NOW, marks=(Mark(NOW - 60, "keyword"),))
    images = [
        render_chart(s, "streamer", NOW, theme=theme)
        for s in (empty, one.series(NOW), no_viewers, only_marks)
    ]
    for png in images:
        assert decode(png).size == (800, 400)
    assert len(set(images)) == len(images)


def test_marks_change_the_image() -> None:
    h = filled()
    plain = render_chart(h.series(NOW), "xqc", NOW)
    h.mark(NOW - 300, "super_combo")
    h.mark(NOW - 900, "my_new_trigger")  # unknown names still get a colour
    marked = render_chart(h.series(NOW), "xqc", NOW)
    assert plain != marked
    a, b = (np.asarray(decode(png).convert("RGB")) for png in (plain, marked))
    diff = int((a != b).any(axis=2).sum())
    assert diff > 500  # two full-height lines and legend entries, not a stray pixel


def test_gap_in_samples_still_renders() -> None:
    h = StatsHistory()
    for i in range(30):
        h.record(NOW - 1500 + i * 10, 5, 4, 10)
    for i in range(30):
        h.record(NOW - 300 + i * 10, 6, 4, 12)
    decode(render_chart(h.series(NOW), "gappy", NOW))


def test_render_is_fast() -> None:
    series = filled().series(NOW)
    render_chart(series, "warm", NOW)  # first call loads fonts
    start = time.perf_counter()
    render_chart(series, "xqc", NOW)
    assert time.perf_counter() - start < 1.0


async def test_render_async_runs_off_the_loop_and_in_parallel() -> None:
    series = filled().series(NOW)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        for _ in range(1000):
            ticks += 1
            await asyncio.sleep(0)

    pngs = await asyncio.gather(
        render_chart_async(series, "a", NOW), render_chart_async(series, "b", NOW), ticker()
    )
    assert decode(pngs[0]).size == decode(pngs[1]).size == (800, 400)
    assert pngs[0] != pngs[1]  # titles differ
    assert ticks == 1000


def test_odd_streamer_names_and_bad_theme() -> None:
    decode(render_chart(filled().series(NOW), "a$b_c$", NOW))  # no mathtext parse error
    with pytest.raises(ValueError):
        render_chart(Series(NOW - 60, NOW), "x", NOW, theme="neon")
