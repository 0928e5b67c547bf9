"""The recorder's command lines: which argv streamlink and ffmpeg get, and what may reach them.

Split from engine/media/recorder.py (which supervises the processes) because these are pure and
checked on their own: a slug and a rendition name are validated before they reach argv or a
path, so nothing a Discord user types can become an option or a directory.

ffmpeg flags, and why:
- ``-c copy``: no decode. Measured (bench/recorders.py, 10 recorders x 2 renditions of a
  1.9 + 0.5 Mb/s stream): ~0.2 % of a core per ffmpeg, ~0.25 % per streamlink; PSS ~13 MiB per
  ffmpeg and ~37 MiB per streamlink, i.e. ~100 MiB per two-rendition recorder.
- ``-f segment -segment_format mpegts -segment_time N``: the segment muxer only cuts at
  keyframes (``break_non_keyframes`` off), so every file starts with one and plays on its own;
  MPEG-TS survives a killed ffmpeg (no trailer to lose), unlike MP4.
- ``-reset_timestamps 1``: each file's timestamps start near 0 (a cut's offsets are plain
  offsets into the file) and a file never depends on the previous one's.
- ``-segment_list pipe:1 -segment_list_type csv``: ffmpeg prints ``name,start,end`` when a file
  is finished (start/end on the run's continuous timeline), so there is no directory polling.
- ``-segment_format_options flush_packets=1``: each file's writer flushes every packet. Its
  default buffer reached the disk in 256 KiB steps, so the file being written (which clips cut
  from, engine/media/open_segment.py) trailed what streamlink had fed by 0.76 s median (720p, 1.5
  Mb/s) and 2.2 s (360p, 0.4 Mb/s); flushed: 0.17 s and 0.23 s. A top-level ``-flush_packets
  1`` or ``-max_interleave_delta 0`` changed nothing (the segment muxer has no file of its own).
- ``-map 0:v:0? -map 0:a:0?``: only the media; Kick/IVS also carry a timed-ID3 data stream.
streamlink runs with ``--loglevel debug`` because its HLS debug lines carry each segment's
EXT-X-PROGRAM-DATE-TIME, which times the files (see engine/media/segments.py); ``--stream-timeout``
bounds how long a silent stream (gone offline) keeps a pipeline up;
``--stream-segmented-queue-deadline`` (streamlink >= 8.1.1; ``recording.queue_deadline``, 10):
streamlink ends a run when no new segment was queued for this many target durations (default 3:
6 s on Kick's 2 s segments), so a short upstream playlist stall became a restart and a restart
gap; 10 (20 s on Kick) matches ``--stream-timeout`` and outlasts such stalls, while an ended stream
still stops within it. Not set: ``--hls-live-restart`` (it would rejoin at the start of the DVR
window, recording minutes that are already on disk); ``--stream-segment-attempts``/``-timeout``
keep their defaults (a failed segment is skipped, never fatal). ``--hls-live-edge`` (3, the
default) is how far behind live a (re)start joins, which is also why a quick restart overlaps
the previous run instead of leaving a hole (the index trims the overlap).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

SLUG_RE = re.compile(r"^[a-z0-9_-]{1,25}$")
_RENDITION_RE = re.compile(r"^[a-z0-9_]{1,20}$")
_HEIGHT_RE = re.compile(r"^(\d{3,4})p(\d{2})?$")
PREVIEW_MIN_HEIGHT = 360


def validate_slug(slug: str) -> str:
    """The slug goes into a URL and a path: only Kick's alphabet, nothing else gets through."""
    if not isinstance(slug, str) or not SLUG_RE.fullmatch(slug):
        raise ValueError(f"invalid streamer slug: {slug!r}")
    return slug


def quality_args(rendition: str) -> list[str]:
    """streamlink arguments selecting ``rendition``; the quality (positional) comes last.

    ``best``/``worst`` pass through. ``480p`` becomes ``480p,480p60,worst,worst-unfiltered`` with
    ``--stream-sorting-excludes <360p``: the exact rendition if the channel has it, else the
    lowest one at or above 360p (``worst`` after the exclusion), else whatever is lowest.
    """
    if not _RENDITION_RE.fullmatch(rendition):
        raise ValueError(f"invalid rendition name: {rendition!r}")
    m = _HEIGHT_RE.fullmatch(rendition)
    if not m:
        return [rendition]
    height = int(m[1])
    floor = min(height, PREVIEW_MIN_HEIGHT)
    names = [rendition] if m[2] else [f"{height}p", f"{height}p60"]
    quality = ",".join([*names, "worst", "worst-unfiltered"])
    return ["--stream-sorting-excludes", f"<{floor}p", quality]


def streamlink_argv(
    streamlink: Sequence[str],
    url: str,
    rendition: str,
    *,
    live_edge: int,
    stream_timeout_s: float,
    queue_deadline: float = 10.0,
    extra: Sequence[str] = (),
) -> list[str]:
    """``streamlink --stdout`` at debug level (its HLS lines carry each segment's PDT)."""
    quality = quality_args(rendition)
    return [
        *streamlink,
        "--loglevel", "debug", "--stdout",
        "--hls-live-edge", str(live_edge),
        "--stream-timeout", str(stream_timeout_s),
        "--stream-segmented-queue-deadline", f"{queue_deadline:g}",
        *extra,
        *quality[:-1],
        url,
        quality[-1],
    ]  # fmt: skip


def ffmpeg_argv(ffmpeg: str, out_pattern: Path, segment_s: float) -> list[str]:
    """ffmpeg reading the stream on stdin, writing MPEG-TS segments, listing them on stdout."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning",
        "-i", "pipe:0", "-map", "0:v:0?", "-map", "0:a:0?", "-c", "copy",
        "-f", "segment", "-segment_format", "mpegts",
        "-segment_time", f"{segment_s:g}", "-reset_timestamps", "1",
        "-segment_format_options", "flush_packets=1",
        "-segment_list", "pipe:1", "-segment_list_type", "csv",
        str(out_pattern),
    ]  # fmt: skip
