"""A per-streamer journal of finished segments, so a restart keeps what was recorded.

The SegmentIndex lives in memory; without this, a bot restarted in the middle of a clip's window
would find the files on disk but not know which wall-clock second each holds, and the clip would
be lost. Each finished segment appends one JSON line (path, times, rendition, run); on start the
Feed replays the lines whose files still exist, then rewrites the journal with only those, so it
never grows past what the scheduler's retention keeps on disk.

``trimmed`` is written too: a compacted journal holds the index's entries as they are *after* a
restarted run cut an older file's tail back, and without the flag a restored entry would look
whole, get no concat outpoint, and the re-recorded seconds would play twice. Lines written
before the flag existed read as untrimmed (as the index itself re-derives trimming when it
replays appended lines in order).

A bot killed mid-segment leaves the file ffmpeg was writing on disk but in no journal line (the
listing line never reached us). :meth:`SegmentJournal.recover` indexes such a leftover at the
next start, so the seconds it holds stay cuttable: its length is its packet span; it starts
where the same run's last journaled file ended (exact, PDT-timed), or, for a run with none, its
modification time minus that length ("arrival" timing, late by the write latency).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from engine.media.probe import packet_span
from engine.media.segments import Segment, SegmentIndex

log = logging.getLogger("engine.media.segment_journal")

FILE_NAME = "segments.jsonl"
MIN_PARTIAL_S = 0.3  # shorter leftovers hold nothing worth a clip (the recorder agrees)


class SegmentJournal:
    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILE_NAME
        self._journaled: set[tuple[str, str]] = set()  # (rendition, file name) restored

    @staticmethod
    def _line(seg: Segment) -> str:
        return json.dumps(
            {
                "path": str(seg.path),
                "start_t": seg.start_t,
                "end_t": seg.end_t,
                "rendition": seg.rendition,
                "run": seg.run,
                "size": seg.size,
                "timing": seg.timing,
                "trimmed": seg.trimmed,
            }
        )

    def append(self, seg: Segment) -> None:
        """Called by the recorder for each finished file; a failed write costs only resilience."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(self._line(seg) + "\n")
        except OSError as exc:
            log.warning("cannot write the segment journal %s: %s", self.path, exc)

    def restore(self, index: SegmentIndex) -> int:
        """Add the journal's surviving segments to `index` (in order); returns how many."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return 0
        except OSError as exc:
            log.warning("cannot read the segment journal %s: %s", self.path, exc)
            return 0
        kept: list[str] = []
        for line in lines:
            try:
                d = json.loads(line)
                seg = Segment(
                    Path(d["path"]), float(d["start_t"]), float(d["end_t"]), str(d["rendition"]),
                    run=str(d.get("run", "")), size=int(d.get("size", 0)),
                    timing=str(d.get("timing", "pdt")), trimmed=d.get("trimmed") is True,
                )  # fmt: skip
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line after a crash
            if seg.rendition in index.renditions and seg.path.is_file():
                index.add(seg)
                kept.append(line)
                self._journaled.add((seg.rendition, seg.path.name))
        self._write(kept)
        return len(kept)

    def recover(self, index: SegmentIndex) -> int:
        """After :meth:`restore`: index (and journal) the newest unjournaled file of each run
        left in ``<directory>/<rendition>/``, if it is newer than what the index holds; returns
        how many. Older unjournaled files are superseded or pruned ones: left to housekeeping."""
        found = 0
        for rendition in index.renditions:
            runs: dict[str, Path] = {}
            for p in sorted((self.directory / rendition).glob("*_*.ts")):
                if (rendition, p.name) not in self._journaled:
                    runs[p.name.rsplit("_", 1)[0]] = p  # sorted: the run's last file wins
            for run, path in runs.items():
                seg = self._leftover(index, rendition, run, path)
                if seg is not None:
                    index.add(seg)
                    self.append(seg)
                    self._journaled.add((rendition, path.name))
                    found += 1
                    log.info("recovered %s (%.1f s) left by a crash", path, seg.duration)
        return found

    @staticmethod
    def _leftover(index: SegmentIndex, rendition: str, run: str, path: Path) -> Segment | None:
        try:
            st = path.stat()
        except OSError:
            return None
        last = next(reversed(index.entries(rendition)), None)
        if last is not None and st.st_mtime <= last.end_t:
            return None  # older than what is indexed: not the file a crash cut short
        span = packet_span(path)
        if span is None or span[1] - span[0] < MIN_PARTIAL_S:
            return None
        length = span[1] - span[0]
        if last is not None and last.run == run:
            start, timing = last.end_t, last.timing  # the same run: it continues that file
        else:
            start, timing = st.st_mtime - length, "arrival"
        return Segment(path, start, start + length, rendition, run, st.st_size, timing=timing)

    def rewrite(self, index: SegmentIndex) -> None:
        """Compact to what the index still holds (after the scheduler pruned it)."""
        segs = sorted(
            (s for r in index.renditions for s in index.entries(r)), key=lambda s: s.start_t
        )
        self._write([self._line(s) for s in segs])

    def _write(self, lines: list[str]) -> None:
        tmp = self.path.with_suffix(".tmp")
        try:
            tmp.write_text("".join(k + "\n" for k in lines), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("cannot compact the segment journal %s: %s", self.path, exc)
