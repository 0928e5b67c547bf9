"""The segment ffmpeg is still writing: announcing it (recorder) and trusting it (clipper).

Why: the segment muxer lists a file only when it closes, so a clip whose end aired a second
ago would wait for up to a whole segment (10 s) before it could be cut. MPEG-TS is streamable: a
growing .ts file can be read up to what ffmpeg has flushed, so the recorder announces the file
being written as the index's *open* entry (SegmentIndex.set_open) and the clipper cuts from it.

The recorder's side (:func:`open_entry`): the file is the segment pattern's next name (the
segment muxer numbers ``%05d`` from 0 without gaps; its "Opening '...' for writing" line is
only printed at ``-loglevel verbose``, which would flood the pipe we drain); it starts where the
run's last listed file ended (0 for a run's first); and it reaches, by streamlink's account, the
end of the last HLS segment whose every byte went into ffmpeg's stdin (``Segment N complete``).

The clipper's side (:func:`flushed_for`): that claim says what was fed, not what is on disk. A
cut from an open file first reads the file's packets (``media_probe.flushed_span``: where the
*shortest* stream's last, possibly torn, packet begins, so audio and video are both there
and whole) and takes it only when the bytes reach the needed position plus
:data:`FLUSH_MARGIN_S`; the concat ``outpoint`` then stops the read before that tail. The
margin is small because the torn packet is already excluded: it only keeps the outpoint a few
frames clear of it. (0.5 s cost a whole extra 2 s HLS segment of waiting whenever clip_end
fell in the last 0.5 s of one: a quarter of the clips.)
"""

from __future__ import annotations

import re
from pathlib import Path

from engine.media.probe import flushed_span
from engine.media.segments import Segment, StreamTimeline

FLUSH_MARGIN_S = 0.1
_NUMBERED = re.compile(r"^(?P<stem>.*_)(?P<num>\d{5,})\.ts$")


def first_name(run_id: str) -> str:
    """The first file of a run (the recorder's pattern is ``<run>_%05d.ts``)."""
    return f"{run_id}_00000.ts"


def next_name(listed: str) -> str | None:
    """The file the segment muxer opens after ``listed``; None for a name not in the pattern."""
    m = _NUMBERED.match(listed)
    if m is None:
        return None
    return f"{m['stem']}{int(m['num']) + 1:0{len(m['num'])}d}.ts"


def open_entry(
    path: Path,
    start: float,
    timeline: StreamTimeline,
    rendition: str,
    run_id: str,
) -> Segment | None:
    """The open entry for ``path``, which began at output time ``start``; None until streamlink
    has completed writing data past ``start`` (nothing of the file is claimable yet) or while
    nothing maps output time to wall time."""
    fed = timeline.complete_until
    if fed <= start:
        return None
    mapped = timeline.wall(start)
    if mapped is None:
        return None
    wall, timing = mapped
    return Segment(path, wall, wall + (fed - start), rendition, run_id, timing=timing)


def flushed_for(seg: Segment, t: float, margin: float = FLUSH_MARGIN_S) -> float | None:
    """For a cut of the growing ``seg`` up to wall time ``t``: seconds of it (from its start)
    that are on disk, capped at ``t``, if they reach ``t`` plus ``margin``; else None (wait).
    Synchronous and file-bound (reads every packet: ~10-50 ms for a 10 s segment)."""
    need = min(t, seg.end_t) - seg.start_t
    span = flushed_span(seg.path) if seg.path.exists() else None
    if span is None or span[1] - span[0] < need + margin:
        return None
    return need


def usable_for(seg: Segment, t: float, margin: float = FLUSH_MARGIN_S) -> tuple[float, float]:
    """(the file's first timestamp, seconds of it a cut may read) for the growing ``seg``: up to
    ``t``, or, when the bytes do not reach that far (the wait timed out), what is complete on
    disk minus ``margin``; (0, 0) when nothing is readable. The first value is where concat's
    ``outpoint`` counts from (the file's own clock)."""
    span = flushed_span(seg.path) if seg.path.exists() else None
    if span is None:
        return 0.0, 0.0
    need = min(t, seg.end_t) - seg.start_t
    have = span[1] - span[0]
    return span[0], max(0.0, need if have >= need + margin else have - margin)
