"""The /stats chart: chat velocity, its baseline and viewers over the last half hour, as a PNG.

Uses matplotlib's object-oriented API (``Figure`` + ``FigureCanvasAgg``), never pyplot: pyplot
keeps global figure state and may pick a GUI backend, neither of which belongs in a bot that
renders from worker threads. Each call builds its own Figure, so concurrent renders share
nothing. A render takes tens of milliseconds, but that is still too long for the event loop, so
the bot calls :func:`render_chart_async`, which runs it in a thread.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import math
from datetime import UTC, datetime

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from engine.core.history import Sample, Series

WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.0, 100  # 800x400: Discord shows it without downscaling
LEGEND_COLS, LEGEND_ROW_FRAC = 6, 0.055  # legend entries per row; height of a row (of 400 px)
GAP_FACTOR = 3.0  # a pause longer than 3 sampling intervals breaks the line (offline, restart)

# Discord's dark theme: the image sits on #2b2d31 in an embed, so it blends in.
THEMES: dict[str, dict[str, str]] = {
    "dark": {
        "bg": "#2b2d31",
        "fg": "#dbdee1",
        "grid": "#40444b",
        "velocity": "#5865f2",
        "baseline": "#b5bac1",
        "threshold": "#ed4245",
        "viewers": "#57f287",
    },
    "light": {
        "bg": "#ffffff",
        "fg": "#2e3338",
        "grid": "#e3e5e8",
        "velocity": "#3b48d6",
        "baseline": "#6d6f78",
        "threshold": "#d83c3e",
        "viewers": "#248046",
    },
}
TRIGGER_COLORS: dict[str, str] = {
    "chat_velocity": "#e6b800",
    "keyword": "#eb459e",
    "emote_flood": "#ff8c00",
    "viewer_spike": "#00e5ff",
    "excitement": "#ffb3a7",
    "chat_combo": "#b388ff",
    "hype_moment": "#d500f9",
    "clip_worthy": "#1abc9c",
    "super_combo": "#ff5555",
}
_FALLBACK_COLORS = ("#c9cdfb", "#f47fff", "#a8e6cf", "#ffd3b6")


def _trigger_color(trigger: str) -> str:
    known = TRIGGER_COLORS.get(trigger)
    if known:
        return known
    return _FALLBACK_COLORS[sum(map(ord, trigger)) % len(_FALLBACK_COLORS)]


def _with_gaps(samples: tuple[Sample, ...]) -> list[list[Sample]]:
    """Split samples into runs so a line is not drawn across a recording/poll outage."""
    if len(samples) < 2:
        return [list(samples)] if samples else []
    steps = sorted(b.t - a.t for a, b in itertools.pairwise(samples))
    typical = max(steps[len(steps) // 2], 1e-9)
    runs: list[list[Sample]] = [[samples[0]]]
    for prev, cur in itertools.pairwise(samples):
        if cur.t - prev.t > typical * GAP_FACTOR:
            runs.append([])
        runs[-1].append(cur)
    return runs


def _style(ax: Axes, theme: dict[str, str]) -> None:
    ax.set_facecolor(theme["bg"])
    ax.tick_params(colors=theme["fg"], labelsize=9)
    for spine in ax.spines.values():
        spine.set_color(theme["grid"])


def _mins(t: float, now: float) -> float:
    return (t - now) / 60.0


def _draw_velocity(ax: Axes, series: Series, now: float, theme: dict[str, str]) -> list[Line2D]:
    handles: list[Line2D] = []
    for run in _with_gaps(series.samples):
        xs = [_mins(s.t, now) for s in run]
        dots = len(run) == 1  # a one-point line is invisible: draw the point
        (vel,) = ax.plot(
            xs,
            [s.velocity for s in run],
            color=theme["velocity"],
            linewidth=1.8,
            marker="o" if dots else None,
            label="chat msg/s",
        )
        (base,) = ax.plot(
            xs,
            [s.baseline for s in run],
            color=theme["baseline"],
            linewidth=1.2,
            linestyle="--",
            marker="s" if dots else None,
            markersize=4,
            label="baseline",
        )
        if not handles:
            handles += [vel, base]
    thresholds = [(s.t, s.threshold) for s in series.samples if s.threshold is not None]
    if thresholds:
        (thr,) = ax.step(
            [_mins(t, now) for t, _v in thresholds],
            [v for _t, v in thresholds],
            where="post",
            color=theme["threshold"],
            linewidth=1.0,
            linestyle=":",
            label="fires above",
        )
        handles.append(thr)
    return handles


def _draw_viewers(ax: Axes, series: Series, now: float, theme: dict[str, str]) -> list[Line2D]:
    counts = [s.viewers for s in series.samples if s.viewers is not None]
    if not counts:
        return []
    right = ax.twinx()
    _style(right, theme)
    right.set_ylabel("viewers", color=theme["viewers"], fontsize=10)
    right.tick_params(axis="y", colors=theme["viewers"])
    line: Line2D | None = None
    for run in _with_gaps(tuple(s for s in series.samples if s.viewers is not None)):
        (drawn,) = right.plot(
            [_mins(s.t, now) for s in run],
            [float(s.viewers or 0) for s in run],
            color=theme["viewers"],
            linewidth=1.4,
            alpha=0.85,
            marker="o" if len(run) == 1 else None,
            label="viewers",
        )
        line = line or drawn
    low, high = min(counts), max(counts)
    pad = max((high - low) * 0.1, 1.0)
    right.set_ylim(max(0.0, low - pad), high + pad)
    return [line] if line is not None else []


def _draw_marks(ax: Axes, series: Series, now: float) -> list[Line2D]:
    handles: dict[str, Line2D] = {}
    for m in series.marks:
        color = _trigger_color(m.trigger)
        ax.axvline(_mins(m.t, now), color=color, linewidth=1.6, alpha=0.9)
        if m.trigger not in handles:
            handles[m.trigger] = Line2D([], [], color=color, linewidth=2.0, label=m.trigger)
    return list(handles.values())


def render_chart(series: Series, streamer: str, now: float, theme: str = "dark") -> bytes:
    """Render ``series`` as an 800x400 PNG and return its bytes.

    Works for an empty series ("no data yet"), one sample (drawn as points, a one-point line is
    invisible) and no viewer data (no right axis). The x axis is minutes before ``now``; the
    title carries ``now`` as HH:MM UTC so "−5" can be matched to a wall clock.
    """
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; one of {sorted(THEMES)}")
    colors = THEMES[theme]
    name = streamer.replace("$", r"\$")  # a "$" would start matplotlib mathtext
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor=colors["bg"])
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    _style(ax, colors)
    ax.grid(True, color=colors["grid"], linewidth=0.6)
    stamp = datetime.fromtimestamp(now, UTC).strftime("%H:%M UTC")
    minutes = series.minutes if series.minutes > 0 else 30.0
    ax.set_title(f"{name} — last {minutes:g} min (now {stamp})", color=colors["fg"], fontsize=12)
    ax.set_xlabel("minutes ago", color=colors["fg"], fontsize=10)
    ax.set_ylabel("chat msg/s", color=colors["velocity"], fontsize=10)
    ax.set_xlim(-minutes, minutes * 0.01)  # a little room: a point at "now" stays whole
    ax.xaxis.set_major_formatter(lambda x, _pos: f"{-x:g}" if x else "now")

    handles = _draw_velocity(ax, series, now, colors)
    top = max((max(s.velocity, s.baseline, s.threshold or 0.0) for s in series.samples), default=0)
    ax.set_ylim(0.0, max(top * 1.15, 1.0) if math.isfinite(top) else 1.0)
    handles += _draw_viewers(ax, series, now, colors)
    handles += _draw_marks(ax, series, now)

    if not series.samples:
        ax.text(
            0.5,
            0.5,
            "no data yet",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=20,
            color=colors["fg"],
            alpha=0.8,
        )
    elif not series.has_viewers:
        ax.text(
            0.99,
            0.97,
            "no viewer data",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=8,
            color=colors["fg"],
            alpha=0.7,
        )
    legend_rows = 0
    if handles:
        # Below the plot, not on it: a spike is exactly what the legend would otherwise hide.
        cols = min(len(handles), LEGEND_COLS)
        legend_rows = math.ceil(len(handles) / cols)
        legend = fig.legend(
            handles=handles,
            loc="lower center",
            fontsize=8,
            ncols=cols,
            facecolor=colors["bg"],
            edgecolor=colors["bg"],
            frameon=False,
        )
        for text in legend.get_texts():
            text.set_color(colors["fg"])
    fig.tight_layout(rect=(0.0, LEGEND_ROW_FRAC * legend_rows, 1.0, 1.0))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", facecolor=colors["bg"])
    return buf.getvalue()


async def render_chart_async(
    series: Series, streamer: str, now: float, theme: str = "dark"
) -> bytes:
    """:func:`render_chart` in a worker thread, so a render never stalls the event loop."""
    return await asyncio.to_thread(render_chart, series, streamer, now, theme)
