"""Which bytes a cut reads: the concat listing for [start, end) of some segments.

Split from engine/media/clipper.py (which decides what to cut and runs it) because this is where the
files' own clocks meet the index's wall clock, and each case needs its own care:
- the first file begins at the last keyframe at or before ``start`` (media_probe.cut_head: a
  trimmed copy when that keyframe is not the file's first), ``residual`` seconds before it;
- a *trimmed* file (a later run re-recorded its tail) gets a concat ``outpoint``;
- a *growing* file (the one ffmpeg is still writing, engine/media/open_segment.py) gets an
  ``outpoint`` too, at what is verified on disk: the read stops before a truncated last TS
  packet or half-written PES instead of handing it to the MP4 muxer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import av

from engine.media.ffmpeg_job import ClipError, read_failure, write_listing
from engine.media.open_segment import usable_for
from engine.media.probe import cut_head, probe
from engine.media.segments import Segment, covered


@dataclass(frozen=True, slots=True)
class CutPlan:
    """``listing``: the ffconcat file; ``residual``: seconds of preroll before ``start`` that
    the first file begins with; ``span``: seconds of the window the files hold."""

    listing: Path
    residual: float
    span: float


async def plan_cut(segs: list[Segment], start: float, end: float, tmp: Path) -> CutPlan:
    """Write ``tmp/list.ffconcat`` for [start, end) of ``segs`` (oldest first)."""
    segs = list(segs)
    grown: tuple[float, float] | None = None  # (file clock start, readable seconds)
    if segs and segs[-1].growing:
        grown = await asyncio.to_thread(usable_for, segs[-1], end)
        if grown[1] <= 0.0:
            if len(segs) == 1:
                raise ClipError(f"nothing of the open segment {segs[0].path} is on disk yet")
            segs.pop()  # the older files still make a clip
            grown = None
    for seg in segs:
        if not seg.path.exists():
            raise ClipError(f"segment file missing: {seg.path}")
    first = segs[0]
    span = covered(segs, start, end)
    if grown is not None:  # only what is verified on disk counts
        span -= max(0.0, min(end, segs[-1].end_t) - segs[-1].start_t - grown[1])
    limit: float | None = first.duration if first.trimmed else None
    if grown is not None and len(segs) == 1:
        limit = grown[1]
    try:
        head = await asyncio.to_thread(
            cut_head, first.path, max(0.0, start - first.start_t), tmp / "head.ts", limit
        )
    except (OSError, av.error.FFmpegError, ValueError) as exc:
        raise read_failure(first.path, exc) from exc
    entries = [(head.path, head.outpoint)]
    for s in segs[1:]:
        outpoint = None
        if s.growing and grown is not None:
            outpoint = grown[0] + grown[1]
        elif s.trimmed:  # concat compares outpoint with the file's raw timestamps
            try:
                info = await asyncio.to_thread(probe, s.path)
            except (OSError, av.error.FFmpegError) as exc:
                raise read_failure(s.path, exc) from exc
            outpoint = (info.start_time or 0.0) + s.duration
        entries.append((s.path, outpoint))
    listing = tmp / "list.ffconcat"
    write_listing(listing, entries)
    return CutPlan(listing, head.residual, max(0.0, span))
