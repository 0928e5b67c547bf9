"""The recorder's command lines: which argv streamlink and ffmpeg get, and what may reach them.

Split from engine/recorder.py (which supervises the processes) because these are pure and
checked on their own: a slug and a rendition name are validated before they reach argv or a
path, so nothing a Discord user types can become an option or a directory. Why each flag is
there is explained in engine/recorder.py's docstring.
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
    extra: Sequence[str] = (),
) -> list[str]:
    """``streamlink --stdout`` at debug level (its HLS lines carry each segment's PDT)."""
    quality = quality_args(rendition)
    return [
        *streamlink,
        "--loglevel", "debug", "--stdout",
        "--hls-live-edge", str(live_edge),
        "--stream-timeout", str(stream_timeout_s),
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
        "-segment_list", "pipe:1", "-segment_list_type", "csv",
        str(out_pattern),
    ]  # fmt: skip
