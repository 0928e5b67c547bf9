"""Rendering the vertical version of a clip (and the layout preview frame) with ffmpeg.

Runs through engine.media.ffmpeg_job like the clipper: scratch dir beside the output, atomic
rename, ffmpeg's last lines in the error. The render runs at a lower CPU priority
(`publish.render_nice`) so the cuts of new clips, which share the cores, go first. The output is
checked with PyAV (1080x1920, H.264 + AAC, faststart, the clip's duration) before it counts:
a file that fails the check is an error, never an upload.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av

from engine.config.schema import PublishConfig
from engine.media import probe
from engine.media.ffmpeg_bin import ffmpeg_exe
from engine.media.ffmpeg_job import ClipError, publish, run_ffmpeg, scratch
from publishing.model import Layout, PublishError
from publishing.vertical import Encode, H, Title, W, frame_command, render_command

TITLE_WIDTH_CHARS = 22  # per line at the default 64 px on a 1080 px wide frame
DURATION_TOLERANCE_S = 0.6


@dataclass(frozen=True, slots=True)
class Rendered:
    path: Path
    duration: float
    cached: bool


def vertical_path(original: Path, layout: Layout, title: str | None) -> Path:
    """Where the render of (clip, layout, title) lives: a changed layout is a new file."""
    key = hashlib.sha1(f"{layout.key()}|{title or ''}".encode(), usedforsecurity=False)
    return original.with_name(f"{original.stem}-vertical-{key.hexdigest()[:8]}.mp4")


def has_bytes(path: Path) -> bool:
    """A non-empty file (a stat: not worth a thread hop)."""
    return os.path.isfile(path) and os.stat(path).st_size > 0


def _source(path: Path) -> probe.MediaInfo:
    try:
        info = probe.probe(path)
    except (av.error.FFmpegError, OSError) as exc:
        raise PublishError(f"cannot read the clip's video {path.name}: {exc}") from exc
    if not info.has_video or not info.width or not info.height:
        raise PublishError(f"{path.name} has no video stream")
    return info


def check_output(path: Path, duration: float) -> probe.MediaInfo:
    """The facts a vertical upload needs; PublishError naming the first one that is wrong."""
    info = probe.probe(path)
    problems = []
    if (info.width, info.height) != (W, H):
        problems.append(f"{info.width}x{info.height} instead of {W}x{H}")
    if info.video_codec != "h264" or info.audio_codec != "aac":
        problems.append(f"codecs {info.video_codec}/{info.audio_codec} instead of h264/aac")
    if info.duration is None or abs(info.duration - duration) > DURATION_TOLERANCE_S:
        problems.append(f"{info.duration} s instead of {duration:.1f} s")
    if not probe.is_faststart(path):
        problems.append("index not at the start (no faststart)")
    if problems:
        raise PublishError(f"the vertical render is wrong: {'; '.join(problems)}")
    return info


async def render_vertical(
    original: Path,
    layout: Layout,
    cfg: PublishConfig,
    *,
    title: str | None = None,
    font: Path | None = None,
    progress: Callable[[float], None] | None = None,
) -> Rendered:
    """The 1080x1920 version of `original`, rendered once and reused (cached by layout).
    `progress` gets the fraction done (0-1) as ffmpeg reports it."""
    burn = title if (cfg.burn_title and title) else None
    dest = vertical_path(original, layout, burn)
    src = await asyncio.to_thread(_source, original)
    duration = src.duration or 0.0
    if dest.is_file():
        try:
            await asyncio.to_thread(check_output, dest, duration)
            return Rendered(dest, duration, cached=True)
        except (PublishError, av.error.FFmpegError):
            dest.unlink(missing_ok=True)  # a bad leftover is rendered again
    with scratch(dest.parent) as work:
        part = Path(work) / f"{dest.stem}.part.mp4"
        drawn = None
        if burn:
            if font is None:
                raise PublishError("burn_title is on but no font was found (see bot.py --check)")
            textfile = Path(work) / "title.txt"
            textfile.write_text("\n".join(textwrap.wrap(burn, TITLE_WIDTH_CHARS)[:3]), "utf-8")
            drawn = Title(textfile, font, cfg.title_font_size, cfg.title_position)
        cmd = render_command(
            original,
            part,
            layout,
            src.width or 0,
            src.height or 0,
            has_audio=src.has_audio,
            duration=duration,
            title=drawn,
            encode=Encode(cfg.preset, cfg.crf),
        )
        try:
            await run_ffmpeg(
                cmd,
                ffmpeg_exe(),
                cfg.ffmpeg_timeout_s,
                "vertical render",
                nice=cfg.render_nice,
                progress=(lambda s: progress(min(1.0, s / duration)))
                if progress and duration > 0
                else None,
            )
            await asyncio.to_thread(check_output, part, duration)
            publish(part, dest)
        except ClipError as exc:
            raise PublishError(str(exc).splitlines()[0], retryable=exc.disk_full) from exc
    return Rendered(dest, duration, cached=False)


async def preview_frame(
    original: Path, layout: Layout, dest: Path, at: float | None = None
) -> Path:
    """A 540x960 PNG of the layout applied to one frame of `original` (default: its middle)."""
    src = await asyncio.to_thread(_source, original)
    when = at if at is not None else (src.duration or 0.0) / 2
    cmd = frame_command(original, dest, layout, src.width or 0, src.height or 0, when)
    try:
        await run_ffmpeg(cmd, ffmpeg_exe(), 60.0, "layout preview")
    except ClipError as exc:
        raise PublishError(str(exc).splitlines()[0]) from exc
    if not has_bytes(dest):
        raise PublishError("ffmpeg made no preview frame")
    return dest
