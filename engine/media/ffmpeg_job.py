"""Running one ffmpeg job for the clipper: scratch space, the run itself, the atomic publish.

Every clip file is written under a temporary name in a `.cut-*` work dir beside the clips (same
filesystem, so the final rename is atomic) and renamed when complete: a crash, a dead ffmpeg or
a full disk never leaves a half-written file under a final name, and a crash's work dirs are
recognisable and removed at the next start. ffmpeg's failures come back as ClipError with its
last stderr lines, and "No space left on device" or "Disk quota exceeded" is flagged
(``disk_full``) so the pipeline puts
the clip back to be cut again once there is room instead of losing it. The clipper's own file
work (work dirs, the concat listing, the rename) fails the same way: a ClipError, ENOSPC flagged,
never a raw OSError that would kill the clip job.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.media.procs import run_to_end

GLOBAL_ARGS = ["-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y"]
SCRATCH_PREFIX = ".cut-"


class ClipError(RuntimeError):
    """A clip could not be made; the message says why, ``stderr`` holds ffmpeg's last lines."""

    def __init__(self, message: str, *, stderr: str = "", disk_full: bool = False) -> None:
        super().__init__(f"{message}\n{stderr}".rstrip() if stderr else message)
        self.stderr = stderr
        self.disk_full = disk_full


_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_PROGRESS_LINE = re.compile(r"^[a-z0-9_]+=\S*$")  # `-progress` output: key=value, no spaces
# How ffmpeg words ENOSPC and EDQUOT in its stderr (strerror), whichever step wrote it.
_FULL_WORDS = ("No space left on device", "Disk quota exceeded", "ENOSPC", "EDQUOT")


def is_disk_full(exc: BaseException) -> bool:
    """ENOSPC or EDQUOT, raised by Python or by PyAV (whose errno errors are OSErrors too)."""
    return isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS


def io_failure(what: str, exc: BaseException) -> ClipError:
    """The ClipError for a file-system or media-read failure; a full disk (or quota) is flagged."""
    full = is_disk_full(exc)
    return ClipError(f"{what}: {exc}{' (disk full)' if full else ''}", disk_full=full)


def read_failure(path: Path, exc: BaseException) -> ClipError:
    """A segment could not be read *or its head copied*: only a truly unreadable input is
    "unreadable"; a full disk while writing the copy is disk-full (the clip waits for room)."""
    if is_disk_full(exc):
        return io_failure(f"no room to prepare the cut of {path.name}", exc)
    return ClipError(f"unreadable segment {path}: {exc}")


def write_listing(path: Path, entries: list[tuple[Path, float | None]]) -> None:
    """Write the ffconcat listing; ClipError (disk_full on ENOSPC) when the disk says no."""
    try:
        path.write_text(ffconcat(entries), encoding="utf-8")
    except OSError as exc:
        raise io_failure(f"cannot write the concat listing {path.name}", exc) from exc


def scratch(out_dir: Path) -> tempfile.TemporaryDirectory[str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(dir=out_dir, prefix=SCRATCH_PREFIX)


def remove_stale_scratch(out_dir: Path, older_than_s: float = 3600.0) -> int:
    """Delete work dirs left by a crash (not touched for ``older_than_s``); returns how many."""
    if not out_dir.is_dir():
        return 0
    n = 0
    for d in out_dir.glob(f"{SCRATCH_PREFIX}*"):
        with contextlib.suppress(OSError):
            if d.is_dir() and time.time() - d.stat().st_mtime > older_than_s:
                shutil.rmtree(d)
                n += 1
    return n


def publish(part: Path, dest: Path) -> None:
    """Atomic rename into place; an empty or missing output is an error, never a clip."""
    if not part.exists() or part.stat().st_size == 0:
        raise ClipError(f"ffmpeg produced no output for {dest.name}")
    try:
        os.replace(part, dest)
    except OSError as exc:
        raise io_failure(f"cannot publish {dest.name}", exc) from exc


async def run_ffmpeg(
    stream: Any,
    ffmpeg: str,
    timeout_s: float,
    what: str,
    *,
    nice: int = 0,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Run one compiled ffmpeg-python command (argv, no shell); raise ClipError on failure.

    ``nice`` > 0 runs it at a lower CPU priority (background renders must not slow the cuts
    of new clips); ``nice`` execs ffmpeg, so stopping the process still reaches ffmpeg.
    ``progress`` is called with the seconds of output written so far (ffmpeg's `-progress`).
    """
    argv = stream.compile(cmd=ffmpeg)
    argv[1:1] = GLOBAL_ARGS + (["-progress", "pipe:2"] if progress else [])
    if nice > 0 and (nice_bin := shutil.which("nice")):
        argv = [nice_bin, "-n", str(min(nice, 19)), *argv]

    def on_line(line: str) -> bool:
        if not _PROGRESS_LINE.match(line):
            return False
        if progress is not None and line.startswith("out_time_us=") and line[12:].isdigit():
            progress(int(line[12:]) / 1e6)
        return True

    try:
        code, tail = await run_to_end(argv, timeout_s, on_line=on_line if progress else None)
    except OSError as exc:
        if is_disk_full(exc):
            raise io_failure(f"{what}: cannot run ffmpeg", exc) from exc
        raise ClipError(f"{what}: cannot run ffmpeg ({ffmpeg}): {exc}") from exc
    text = "\n".join(tail)
    if code is None:
        raise ClipError(f"{what}: ffmpeg timed out", stderr=text)
    if code != 0:
        full = any(words in text for words in _FULL_WORDS)
        hint = " (disk full)" if full else ""
        raise ClipError(f"{what}: ffmpeg exited with {code}{hint}", stderr=text, disk_full=full)


def ffconcat(entries: list[tuple[Path, float | None]]) -> str:
    """ffconcat text; ``outpoint`` (the file's own clock) ends a trimmed file early."""
    lines = ["ffconcat version 1.0"]
    for path, outpoint in entries:
        quoted = str(path.resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
        if outpoint is not None:  # a later run re-recorded this file's tail
            lines.append(f"outpoint {max(0.0, outpoint):.3f}")
    return "\n".join(lines) + "\n"


def file_size(path: Path) -> int:
    """Bytes on disk (a stat is not worth a thread hop)."""
    return os.stat(path).st_size


def height_for(video_bps: float) -> int:
    """Resolution a bitrate can carry decently in H.264 at 30 fps."""
    for bps, h in ((2_200_000, 720), (1_200_000, 540), (700_000, 480), (350_000, 360)):
        if video_bps >= bps:
            return h
    return 240
