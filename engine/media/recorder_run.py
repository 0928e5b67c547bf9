"""The state of one recorder run (one streamlink | ffmpeg pair of one rendition).

Split from engine.media.recorder so the supervisor reads as control flow; the run's fields are
what the line handlers, the stall watchdog and crash recovery share.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engine.media.procs import read_lines
from engine.media.segments import StreamTimeline

log = logging.getLogger("engine.media.recorder")


@dataclass
class Run:
    """One streamlink | ffmpeg run of one rendition: its processes, timing and progress."""

    rendition: str
    run_id: str
    streamlink: asyncio.subprocess.Process | None = None
    ffmpeg: asyncio.subprocess.Process | None = None
    timeline: StreamTimeline = field(default_factory=StreamTimeline)
    segments: int = 0
    last_end: float = 0.0  # output timeline end of the last listed file
    listed: set[str] = field(default_factory=set)
    sl_tail: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    ff_tail: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    progress: float = 0.0  # monotonic time of the start, then of the last indexed segment
    stalled: bool = False
    open_path: Path | None = None  # the file ffmpeg writes now, begun at output time open_start
    open_start: float = 0.0


async def pump(
    slug: str,
    run: Run,
    stream: asyncio.StreamReader | None,
    handle: Callable[[Run, str], None],
) -> None:
    """Drain ``stream`` to EOF, handing each line over; a failing handler is logged (once a
    run) and the draining goes on: a pipe nobody reads blocks the child writing it."""
    if stream is None:
        return
    failed = False
    async for raw in read_lines(stream):
        try:
            handle(run, raw.decode("utf-8", "replace").rstrip())
        except Exception:
            if not failed:
                log.exception("%s/%s: cannot handle an output line", slug, run.rendition)
            failed = True
