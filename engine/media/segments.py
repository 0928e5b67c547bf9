"""Which recorded file holds which wall-clock second: the segment index, and how it is timed.

Pure logic (no processes, no asyncio, no file watching) so it is unit-tested without ffmpeg; the
Recorder feeds it, the Clipper queries it.

How a segment gets its wall-clock times (:class:`StreamTimeline`)
------------------------------------------------------------------
ffmpeg's segment muxer reports each finished file as ``name,start,end`` in the output timeline
of one recorder run (seconds; 0 = the first packet streamlink delivered). streamlink, run with
``--loglevel debug``, logs every HLS segment it queues (``Queuing HLSSegment(num=..,
duration=2.000, .., date=<EXT-X-PROGRAM-DATE-TIME>)``) and writes (``Writing segment N to
output``), in output order. So HLS segment j starts at output time ``s_j`` (the sum of the
EXTINF durations written before it; across a skipped segment, the PDT difference) and its first
frame aired at ``date_j``; output time ``p`` inside it maps to ``date_j + (p - s_j)``.
Re-anchoring on every HLS segment keeps encoder-clock drift from accumulating over a long
stream; the error is the EXTINF rounding (ms) plus the audio/video start skew (~20 ms).

Without PDT (an origin that omits it, or a streamlink whose log format changed) the fallback is
the arrival time: a segment cannot have been written before it aired, so ``offset = min_j
(arrived_j - end_j)`` bounds the mapping from above; times are then late by the smallest delivery
latency seen (typically 0.2-2 s on HLS at the live edge). Both are documented on Segment.timing.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

log = logging.getLogger(__name__)

GAP_TOLERANCE_S = 0.5  # closer than this counts as contiguous (PDT jitter, rounding)


@dataclass(slots=True)
class Segment:
    """One recorded file: [start_t, end_t) in unix seconds.

    ``trimmed``: a later run re-recorded the tail of this file (a restart rejoins the stream a
    few segments behind the live edge); ``end_t`` was pulled back, and a cut must stop reading
    this file at ``end_t - start_t`` seconds in (concat ``outpoint``), not at its real end.
    ``growing``: ffmpeg is still writing it; ``end_t`` is what streamlink has fed the pipe, a
    claim a cut must check against the bytes on disk (engine/media/open_segment.py).
    """

    path: Path
    start_t: float
    end_t: float
    rendition: str
    run: str = ""
    size: int = 0
    trimmed: bool = False
    timing: str = "pdt"  # or "arrival"
    growing: bool = False  # the file ffmpeg is still writing (SegmentIndex.set_open)

    @property
    def duration(self) -> float:
        return self.end_t - self.start_t


@dataclass(slots=True, frozen=True)
class Gap:
    """Nothing recorded for ``rendition`` in [start_t, end_t) (restart, offline, lost segment)."""

    rendition: str
    start_t: float
    end_t: float


@dataclass(slots=True)
class _Rend:
    segs: list[Segment] = field(default_factory=list)  # sorted by start_t, non-overlapping
    starts: list[float] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    open: Segment | None = None  # the file being written: never journaled, never pruned


class SegmentIndex:
    """Wall-clock -> files, per rendition; entries are non-overlapping and sorted.

    Memory is bounded by :meth:`prune` (the scheduler calls it with the retention horizon) and,
    as a safety net, by ``max_entries`` per rendition: the oldest entries beyond it are dropped
    from the index and their files handed to the next prune for deletion.

    Besides the finished files, each rendition may have one *open* entry (:meth:`set_open`): the
    file ffmpeg is still writing, so a clip whose end aired a second ago need not wait for the
    10 s file to close. :meth:`segments_for`, :meth:`has_through` and :meth:`recorded_until`
    count it; :meth:`covered_until`/:meth:`covered_from`, :meth:`entries`, ``len``,
    :meth:`prune` and the journal never see it (they describe finished files), and :meth:`add`
    of the finished file (same path) replaces it.
    """

    def __init__(self, renditions: Iterable[str] = (), *, max_entries: int = 20000) -> None:
        self.renditions: list[str] = list(renditions)
        self.max_entries = max_entries
        self._r: dict[str, _Rend] = {r: _Rend() for r in self.renditions}
        self._orphans: list[Segment] = []  # superseded entries whose files prune deletes
        #: preview renditions not recorded: they resolve to the original's own stream
        self.same_as_original: set[str] = set()

    def _rend(self, rendition: str) -> _Rend:
        if rendition not in self._r:
            self._r[rendition] = _Rend()
            self.renditions.append(rendition)
        return self._r[rendition]

    def add(self, seg: Segment) -> Gap | None:
        """Index a finished file. Returns the gap it opens after the previous entry, if any.

        A segment starting before the current end (a restarted run rejoining behind the live
        edge) wins: older entries it overlaps are trimmed (``trimmed``) or dropped as orphans.
        """
        if seg.end_t <= seg.start_t:
            return None
        r = self._rend(seg.rendition)
        if r.open is not None and r.open.path == seg.path:
            r.open = None  # the open file is finished: its real entry replaces the claim
        gap = None
        while r.segs and r.segs[-1].end_t > seg.start_t + GAP_TOLERANCE_S:
            last = r.segs[-1]
            if last.start_t >= seg.start_t - GAP_TOLERANCE_S:
                r.segs.pop()
                r.starts.pop()
                self._orphans.append(last)
            else:
                last.end_t = seg.start_t
                last.trimmed = True
        if r.segs and seg.start_t > r.segs[-1].end_t + GAP_TOLERANCE_S:
            gap = Gap(seg.rendition, r.segs[-1].end_t, seg.start_t)
            r.gaps.append(gap)
        r.segs.append(seg)
        r.starts.append(seg.start_t)
        while len(r.segs) > self.max_entries:
            self._orphans.append(r.segs.pop(0))
            r.starts.pop(0)
        return gap

    def set_open(self, seg: Segment) -> None:
        """Announce (or extend) the file being written for ``seg.rendition`` (``growing``)."""
        seg.growing = True
        self._rend(seg.rendition).open = seg

    def clear_open(self, rendition: str) -> None:
        """The run writing it ended: its file is indexed by add() or not at all."""
        if rendition in self._r:
            self._r[rendition].open = None

    def open_segment(self, rendition: str) -> Segment | None:
        """The open entry if it extends the finished ones: one that overlaps the last finished
        file (a restarted run's first file, rejoining behind the live edge) is not offered
        until add() has trimmed the older entry, else a cut would show those seconds twice."""
        r = self._r.get(rendition)
        if r is None or r.open is None or r.open.end_t <= r.open.start_t:
            return None
        if r.segs and r.open.start_t < r.segs[-1].end_t - GAP_TOLERANCE_S:
            return None
        return r.open

    def add_gap(self, gap: Gap) -> None:
        """Record a gap known from outside (e.g. the stream went offline)."""
        if gap.end_t > gap.start_t:
            self._rend(gap.rendition).gaps.append(gap)

    def segments_for(self, start: float, end: float, rendition: str) -> list[Segment]:
        """Entries overlapping [start, end), oldest first (possibly with gaps between)."""
        r = self._r.get(rendition)
        if r is None or end <= start:
            return []
        i = max(0, bisect.bisect_right(r.starts, start) - 1)
        out = []
        for seg in r.segs[i:]:
            if seg.start_t >= end:
                break
            if seg.end_t > start:
                out.append(seg)
        growing = self.open_segment(rendition)
        if growing is not None and growing.start_t < end and growing.end_t > start:
            out.append(growing)
        return out

    def has_through(self, t: float, rendition: str) -> bool:
        """Has the recording reached ``t``? (Through the open file: by streamlink's account.)"""
        end = self.recorded_until(rendition)
        return end is not None and end >= t

    def covered_until(self, rendition: str) -> float | None:
        """End of the finished files (the open one not counted: see recorded_until)."""
        r = self._r.get(rendition)
        return r.segs[-1].end_t if r and r.segs else None

    def recorded_until(self, rendition: str) -> float | None:
        """End of what is recorded, the file still being written included."""
        done = self.covered_until(rendition)
        growing = self.open_segment(rendition)
        if growing is None:
            return done
        return growing.end_t if done is None else max(done, growing.end_t)

    def covered_from(self, rendition: str) -> float | None:
        r = self._r.get(rendition)
        return r.segs[0].start_t if r and r.segs else None

    def gaps(
        self, rendition: str | None = None, start: float | None = None, end: float | None = None
    ) -> list[Gap]:
        """Recorded gaps, optionally only one rendition's and only those touching [start, end)."""
        names = [rendition] if rendition else list(self._r)
        out = []
        for name in names:
            for g in self._r[name].gaps if name in self._r else ():
                if (start is None or g.end_t > start) and (end is None or g.start_t < end):
                    out.append(g)
        return out

    def entries(self, rendition: str) -> list[Segment]:
        r = self._r.get(rendition)
        return list(r.segs) if r else []

    def __len__(self) -> int:
        return sum(len(r.segs) for r in self._r.values())

    def prune(
        self,
        older_than: float,
        keep: Callable[[Segment], bool] = lambda s: False,
        *,
        delete_files: bool = True,
    ) -> list[Segment]:
        """Drop entries that ended before ``older_than`` unless ``keep(seg)`` (e.g. a clip job
        still needs it); delete their files. Orphaned entries go too. Returns what was dropped."""
        dropped: list[Segment] = []
        for r in self._r.values():
            kept = []
            for seg in r.segs:
                if seg.end_t < older_than and not keep(seg):
                    dropped.append(seg)
                else:
                    kept.append(seg)
            r.segs = kept
            r.starts = [s.start_t for s in kept]
            r.gaps = [g for g in r.gaps if g.end_t >= older_than]
        still: list[Segment] = []
        for seg in self._orphans:
            (dropped if seg.end_t < older_than and not keep(seg) else still).append(seg)
        self._orphans = still
        if delete_files:
            for seg in dropped:
                try:
                    seg.path.unlink(missing_ok=True)
                except OSError as exc:
                    log.warning("could not delete %s: %s", seg.path, exc)
        return dropped


def covered(segs: Iterable[Segment], start: float, end: float) -> float:
    """Seconds of [start, end) that ``segs`` hold (a gap between them does not count)."""
    return sum(max(0.0, min(end, s.end_t) - max(start, s.start_t)) for s in segs)


# --- timing of one recorder run ------------------------------------------------------------


@dataclass(slots=True)
class _Hls:
    num: int
    duration: float
    date: float | None
    start: float  # output timeline seconds
    arrived: float


class StreamTimeline:
    """Output-timeline seconds of one streamlink|ffmpeg run -> unix seconds (see module doc)."""

    def __init__(self, history: int = 4096) -> None:
        self._segs: deque[_Hls] = deque(maxlen=history)
        self._queued: dict[int, tuple[float, float | None]] = {}
        self._arrival_offset: float | None = None
        self.has_pdt = False
        self.complete_until = 0.0  # output time through which whole HLS segments hit the pipe

    def on_queued(self, num: int, duration: float, date: float | None) -> None:
        """streamlink queued HLS segment ``num`` (EXTINF ``duration``, PDT ``date``)."""
        self._queued[num] = (duration, date)
        if len(self._queued) > 256:
            for k in sorted(self._queued)[:128]:
                del self._queued[k]

    def on_written(self, num: int, arrived: float) -> None:
        """streamlink wrote segment ``num`` to ffmpeg; ``arrived`` = wall clock now."""
        duration, date = self._queued.pop(num, (None, None))
        if duration is None:
            duration = self._segs[-1].duration if self._segs else 2.0
        if date is not None:
            self.has_pdt = True
        if not self._segs:
            start = 0.0
        else:
            prev = self._segs[-1]
            start = prev.start + prev.duration
            if num != prev.num + 1 and date is not None and prev.date is not None:
                start = prev.start + (date - prev.date)  # skipped segment(s): PTS jumps too
        self._segs.append(_Hls(num, duration, date, start, arrived))
        off = arrived - (start + duration)
        if self._arrival_offset is None or off < self._arrival_offset:
            self._arrival_offset = off

    def on_complete(self, num: int) -> None:
        """streamlink finished writing segment ``num`` into the pipe (``Segment N complete``):
        every byte up to its end is ffmpeg's to read. Conservative, unlike on_written, which is
        logged before the segment's first byte."""
        for s in reversed(self._segs):
            if s.num == num:
                self.complete_until = max(self.complete_until, s.start + s.duration)
                return

    @property
    def known_until(self) -> float:
        """Output time up to which written segments are known."""
        if not self._segs:
            return 0.0
        return self._segs[-1].start + self._segs[-1].duration

    def wall(self, p: float) -> tuple[float, str] | None:
        """(unix seconds, "pdt" | "arrival") for output time ``p``; None if nothing written."""
        if not self._segs:
            return None
        if self.has_pdt:
            starts = [s.start for s in self._segs]
            i = max(0, bisect.bisect_right(starts, p + 1e-6) - 1)
            # the nearest dated HLS segment at or before p (else the first dated one after)
            for j in [*range(i, -1, -1), *range(i + 1, len(self._segs))]:
                s = self._segs[j]
                if s.date is not None:
                    return s.date + (p - s.start), "pdt"
        assert self._arrival_offset is not None
        return self._arrival_offset + p, "arrival"


# --- parsing what the processes print -------------------------------------------------------

_QUEUED = re.compile(
    r"Queuing HLSSegment\(num=(?P<num>\d+),.*?duration=(?P<dur>[\d.]+),.*?"
    r"date=(?P<date>None|[\dT:.+\-Z]+)"
)
_WRITING = re.compile(r"Writing segment (?P<num>\d+) to output")
_COMPLETE = re.compile(r"Segment (?P<num>\d+) complete")  # not "Segment initialization N"


def parse_streamlink_line(line: str) -> tuple[str, int, float, float | None] | None:
    """``("queued", num, duration, date)``, ``("written", num, 0, None)`` or ``("complete",
    num, 0, None)`` from one debug log line of streamlink's HLS stream; None for anything else."""
    m = _QUEUED.search(line)
    if m:
        date = None
        if m["date"] != "None":
            try:
                date = datetime.fromisoformat(m["date"].replace("Z", "+00:00")).timestamp()
            except ValueError:
                date = None
        return "queued", int(m["num"]), float(m["dur"]), date
    m = _WRITING.search(line)
    if m:
        return "written", int(m["num"]), 0.0, None
    m = _COMPLETE.search(line)
    if m:
        return "complete", int(m["num"]), 0.0, None
    return None


def parse_segment_csv(line: str) -> tuple[str, float, float] | None:
    """``(file name, start, end)`` from one line of ffmpeg's ``-segment_list_type csv``."""
    parts = line.strip().rsplit(",", 2)
    if len(parts) != 3:
        return None
    name = parts[0].strip('"')
    try:
        return name, float(parts[1]), float(parts[2])
    except ValueError:
        return None
