"""Where the ffmpeg and streamlink executables come from.

The deployment image may have no system ffmpeg: the ``imageio-ffmpeg`` wheel carries a static
build (with libx264, AAC, the segment muxer), so a plain ``pip install`` is enough. A system ffmpeg
on PATH wins because distributions patch and update theirs. streamlink is a Python package; its
console script sits next to the interpreter in a venv, and ``python -m streamlink`` always works.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from pathlib import Path


@functools.cache
def ffmpeg_exe() -> str:
    """Absolute path of the ffmpeg binary: PATH first, else the imageio-ffmpeg wheel's."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg  # imported lazily: it is only a fallback

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def streamlink_cmd() -> list[str]:
    """argv prefix that runs streamlink: the script beside sys.executable (this venv's), then
    PATH, else ``python -m streamlink``. A fresh list each call (callers append to it)."""
    return list(_streamlink_cmd())


@functools.cache
def _streamlink_cmd() -> tuple[str, ...]:
    beside = Path(sys.executable).with_name("streamlink")
    if beside.is_file() and os.access(beside, os.X_OK):
        return (str(beside),)
    found = shutil.which("streamlink")
    if found:
        return (found,)
    return (sys.executable, "-m", "streamlink")
