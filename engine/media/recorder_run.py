"""The state of one recorder run (one streamlink | ffmpeg pair of one rendition).

Split from engine.media.recorder so the supervisor reads as control flow; the run's fields are
what the line handlers, the stall watchdog and crash recovery share.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from engine.media.segments import StreamTimeline


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
