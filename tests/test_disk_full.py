"""A full disk (ENOSPC) or quota (EDQUOT) at any cutting step is "disk full, retry later".

The pipeline puts a disk-full clip back to be cut again once there is room; any other ClipError
fails it. So every step (the head copy of the plan, the listing, the work dir, ffmpeg's cut,
preview and thumbnail, the publishing rename) must flag ``disk_full``, and a truly unreadable
input must not. First on a real tiny filesystem (a tmpfs mounted as root), then with the error
injected at each step.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest

from engine.media import clipper as clipper_mod
from engine.media import cut_plan, ffmpeg_job
from engine.media import probe as media_probe
from engine.media.clipper import ClipError, Clipper, Window
from engine.media.ffmpeg_bin import ffmpeg_exe
from engine.media.segments import SegmentIndex
from tests.fakes.media_fixtures import (  # noqa: F401 - fixtures
    Recording,
    fake_media,
    recorded_stream,
)

pytestmark = pytest.mark.slow
MiB = 1024 * 1024


@contextlib.contextmanager
def tiny_fs(where: Path, size: str) -> Iterator[Path]:
    """A real tmpfs of ``size`` at ``where``; skipped where mounting is not permitted."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root (and mount(8))")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"mount is not permitted here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def grow(where: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(where)], check=True)


def window(rec: Recording, a: float = 6.3, b: float = 21.3) -> Window:
    t0 = rec.index.covered_from("best")
    assert t0 is not None
    return Window(t0 + a, t0 + b, t0 + (a + b) / 2)


def no_work_dirs(out: Path) -> bool:
    return not [p for p in out.iterdir() if p.name.startswith(ffmpeg_job.SCRATCH_PREFIX)]


async def test_a_tiny_real_filesystem_is_disk_full_then_the_retry_cuts(
    recorded_stream: Recording,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The head copy of the plan is the first write; on a 64 KiB tmpfs it hits ENOSPC. Once the
    filesystem grows the same cut succeeds: nothing was lost, nothing half-written stayed."""
    rec = recorded_stream
    with tiny_fs(tmp_path / "clips", "64k") as out:
        clipper = Clipper(rec.index, out)
        with pytest.raises(ClipError) as info:
            await clipper.cut(window(rec), 10 * MiB, name="full")
        assert info.value.disk_full, str(info.value)
        assert "disk full" in str(info.value)
        assert not list(out.glob("*.mp4")) and no_work_dirs(out)
        grow(out, "64m")
        files = await clipper.cut(window(rec), 10 * MiB, name="full")
        assert media_probe.probe(files.original).duration == pytest.approx(15.0, abs=0.1)


def _enospc(*_a: Any, **_k: Any) -> Any:
    raise OSError(errno.ENOSPC, "No space left on device")


def _edquot(*_a: Any, **_k: Any) -> Any:
    raise OSError(errno.EDQUOT, "Disk quota exceeded")


def _av_enospc(*_a: Any, **_k: Any) -> Any:
    av.error.err_check(-errno.ENOSPC)  # PyAV's own errno-style error (an OSError too)


# (module, attribute, replacement): one step of a cut each
STEPS = {
    "plan head copy": (cut_plan, "cut_head", _enospc),
    "plan head copy, PyAV": (cut_plan, "cut_head", _av_enospc),
    "plan head copy, quota": (cut_plan, "cut_head", _edquot),
    "plan of a trimmed file": (cut_plan, "probe", _enospc),
    "work dir": (clipper_mod, "scratch", _edquot),
    "publishing rename": (ffmpeg_job.os, "replace", _enospc),
    "starting ffmpeg": (ffmpeg_job, "run_to_end", _enospc),
    "thumbnail head copy": (clipper_mod, "cut_head", _enospc),
}


@pytest.mark.parametrize("step", list(STEPS))
async def test_enospc_at_each_step_is_disk_full(
    recorded_stream: Recording,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
) -> None:
    rec = recorded_stream
    index = SegmentIndex(rec.index.renditions)
    for r in rec.index.renditions:
        for s in rec.index.entries(r):  # trimmed files make the plan probe them
            index.add(dataclasses.replace(s, trimmed=True, end_t=s.end_t - 0.5))
    module, name, fake = STEPS[step]
    monkeypatch.setattr(module, name, fake)
    out = tmp_path / "clips"
    with pytest.raises(ClipError) as info:
        await Clipper(index, out).cut(window(rec), 10 * MiB, name="x")
    assert info.value.disk_full, f"{step}: {info.value}"
    assert "disk full" in str(info.value)
    assert not out.exists() or (not list(out.glob("*.mp4")) and no_work_dirs(out))


def failing_ffmpeg(tmp_path: Path, argv_has: str, message: str) -> str:
    """An ffmpeg that fails with ``message`` when its argv contains ``argv_has`` and is the
    real ffmpeg for everything else: one failing step inside a cut that otherwise works."""
    fake = tmp_path / "ffmpeg"
    fake.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *"{argv_has}"*) printf "%s\\n" "{message}" >&2; exit 1;; esac\n'
        f'exec "{ffmpeg_exe()}" "$@"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    return str(fake)


@pytest.mark.parametrize(
    ("argv_has", "message", "limit"),
    [("thumb.jpg", "thumb.jpg: No space left on device", 10 * MiB),
     ("-c copy", "[out#0/mp4] Error writing trailer: Disk quota exceeded", 10 * MiB),
     ("libx264", "av_interleaved_write_frame(): No space left on device", 300_000)],
    ids=["thumbnail", "cut-quota", "preview"],
)  # fmt: skip
async def test_ffmpeg_running_out_of_space_is_disk_full(
    recorded_stream: Recording,  # noqa: F811
    tmp_path: Path,
    argv_has: str,
    message: str,
    limit: int,
) -> None:
    rec = recorded_stream
    ffmpeg = failing_ffmpeg(tmp_path, argv_has, message)
    out = tmp_path / "clips"
    with pytest.raises(ClipError) as info:
        await Clipper(rec.index, out, ffmpeg=ffmpeg).cut(window(rec), limit, name="x")
    assert info.value.disk_full, str(info.value)
    assert no_work_dirs(out)


async def test_an_unreadable_input_is_not_disk_full(
    recorded_stream: Recording,  # noqa: F811
    tmp_path: Path,
) -> None:
    rec = recorded_stream
    junk = tmp_path / "junk.ts"
    junk.write_bytes(b"\x00not a transport stream" * 100)
    index = SegmentIndex(["best"])
    index.add(dataclasses.replace(rec.index.entries("best")[0], path=junk))
    t0 = index.covered_from("best")
    assert t0 is not None
    with pytest.raises(ClipError, match="unreadable segment") as info:
        await Clipper(index, tmp_path / "clips").cut(Window(t0 + 1, t0 + 5, t0 + 2))
    assert not info.value.disk_full
