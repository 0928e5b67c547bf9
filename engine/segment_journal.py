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
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from engine.segments import Segment, SegmentIndex

log = logging.getLogger("engine.segment_journal")

FILE_NAME = "segments.jsonl"


class SegmentJournal:
    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / FILE_NAME

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
        self._write(kept)
        return len(kept)

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
