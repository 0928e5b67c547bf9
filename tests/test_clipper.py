"""The Clipper on a real recording of the fake stream; results checked with PyAV."""

from __future__ import annotations

import dataclasses
import importlib.util
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from engine.media import probe as media_probe
from engine.media.clipper import ClipError, Clipper, Window
from engine.media.ffmpeg_bin import ffmpeg_exe
from engine.media.ffmpeg_job import write_listing
from engine.media.open_segment import FLUSH_MARGIN_S
from engine.media.segments import Segment, SegmentIndex
from tests.fakes.hls_stream import decode_counter
from tests.fakes.media_fixtures import (  # noqa: F401 - fixtures
    Recording,
    fake_media,
    recorded_stream,
)

pytestmark = pytest.mark.slow
MiB = 1024 * 1024


def aired(rec: Recording, path: Path, near: float, seek: float | None = None) -> float:
    """When the first frame of ``path`` (from ``seek``) aired, read from its burned-in counter."""
    n = decode_counter(media_probe.first_frame_gray(path, seek))
    return rec.fake.aired_at(rec.slug, n, near)


def copy_index(
    rec: Recording, renditions: tuple[str, ...], skip: frozenset[int] = frozenset()
) -> SegmentIndex:
    idx = SegmentIndex(renditions)
    for r in renditions:
        for i, s in enumerate(rec.index.entries(r)):
            if i not in skip:
                idx.add(dataclasses.replace(s))
    return idx


def leftovers(out: Path) -> list[str]:
    """Anything in the clip dir that is not a finished clip file (work dirs included)."""
    return sorted(p.name for p in out.iterdir() if p.suffix not in (".mp4", ".jpg"))


async def test_clip_is_a_faststart_stream_copy_starting_at_clip_start(
    recorded_stream: Recording,  # noqa: F811
    tmp_path: Path,
) -> None:
    rec = recorded_stream
    t0 = rec.index.covered_from("best")
    assert t0 is not None
    w = Window(t0 + 6.3, t0 + 21.3, t0 + 14.0)
    files = await Clipper(rec.index, tmp_path).cut(w, 10 * MiB, name="main")
    info = media_probe.probe(files.original)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height) == (1280, 720)
    assert info.has_audio and info.has_video
    assert files.duration == pytest.approx(15.0, abs=0.1)
    assert info.duration == pytest.approx(15.0, abs=0.1)
    assert aired(rec, files.original, w.clip_start) == pytest.approx(w.clip_start, abs=0.1)
    assert media_probe.is_faststart(files.original)
    # it fits 10 MiB, so the original is the preview
    assert files.preview == files.original and not files.preview_transcoded
    assert files.thumbnail is not None and files.thumbnail.suffix == ".jpg"
    with Image.open(files.thumbnail) as img:
        assert img.format == "JPEG" and img.height <= 720
        gray = np.asarray(img.convert("L"))
    assert rec.fake.aired_at(rec.slug, decode_counter(gray), w.t) == pytest.approx(w.t, abs=0.1)
    assert files.gaps == () and leftovers(tmp_path) == []


async def test_preview_is_a_copy_of_the_low_rendition_when_the_original_is_too_big(
    recorded_stream: Recording,  # noqa: F811
    tmp_path: Path,
) -> None:
    rec = recorded_stream
    t0 = rec.index.covered_from("best")
    assert t0 is not None
    w = Window(t0 + 4.0, t0 + 24.0, t0 + 10.0)
    low = sum(s.size for s in rec.index.segments_for(w.clip_start, w.clip_end, "480p"))
    limit = int(low * 0.9)  # the low rendition's cut (~2/3 of its segments) fits, 720p does not
    files = await Clipper(rec.index, tmp_path).cut(w, limit, name="prev")
    assert files.original.stat().st_size > limit
    assert files.preview is not None and files.preview != files.original
    assert not files.preview_transcoded and files.preview_rendition == "480p"
    info = media_probe.probe(files.preview)
    assert info.size <= limit
    assert (info.height, info.video_codec, info.audio_codec) == (360, "h264", "aac")
    assert info.duration == pytest.approx(20.0, abs=0.1)
    assert media_probe.is_faststart(files.preview)
    assert aired(rec, files.preview, w.clip_start) == pytest.approx(w.clip_start, abs=0.1)


async def test_transcodes_the_preview_when_only_one_rendition_was_recorded(
    recorded_stream: Recording,  # noqa: F811
    tmp_path: Path,
) -> None:
    rec = recorded_stream
    t0 = rec.index.covered_from("best")
    assert t0 is not None
    index = copy_index(rec, ("best",))
    w = Window(t0 + 11.0, t0 + 17.0, t0 + 12.0)
    limit = 300_000  # the 6 s 720p original is ~1.2 MB
    files = await Clipper(index, tmp_path, thumbnail=False).cut(w, limit, name="tc")
    assert files.thumbnail is None
    assert files.preview is not None and files.preview_transcoded
    info = media_probe.probe(files.preview)
    assert 0 < info.size <= limit
    assert info.height is not None and info.height <= 480
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.duration == pytest.approx(6.0, abs=0.2)
    assert media_probe.is_faststart(files.preview)
    assert aired(rec, files.preview, w.clip_start) == pytest.approx(w.clip_start, abs=0.1)
    assert leftovers(tmp_path) == []


async def test_window_spanning_a_gap_gives_what_exists(
    recorded_stream: Recording,  # noqa: F811
    tmp_path: Path,
) -> None:
    rec = recorded_stream
    index = copy_index(rec, ("best",), skip=frozenset({1}))  # lose the second 10 s
    t0 = index.covered_from("best")
    assert t0 is not None
    w = Window(t0 + 5.0, t0 + 25.0, t0 + 7.0)
    files = await Clipper(index, tmp_path, thumbnail=False).cut(w, 10 * MiB, name="gap")
    assert len(files.gaps) == 1
    gap = files.gaps[0]
    assert gap.end_t - gap.start_t == pytest.approx(10.0, abs=0.1)
    assert files.duration == pytest.approx(10.0, abs=0.15)  # 5 s before + 5 s after the gap
    assert aired(rec, files.original, w.clip_start) == pytest.approx(w.clip_start, abs=0.1)
    # the part after the gap starts where the recording resumed
    after = aired(rec, files.original, gap.end_t, seek=5.05)
    assert after == pytest.approx(gap.end_t + 0.05, abs=0.1)


async def test_trimmed_segment_is_cut_at_its_outpoint(
    recorded_stream: Recording,  # noqa: F811
    tmp_path: Path,
) -> None:
    """After a restart the new run overlaps the old file's tail: no second appears twice."""
    rec = recorded_stream
    first, second = rec.index.entries("best")[:2]
    # a file like a restarted run's first segment: [first+6 s, second's end), cut at the
    # keyframe 6 s in by the segment muxer (as the recorder's own files are)
    listing = tmp_path / "l.txt"
    listing.write_text(f"file '{first.path}'\nfile '{second.path}'\n")
    subprocess.run(  # noqa: ASYNC221 - test setup, 0.05 s
        [ffmpeg_exe(), "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing),
         "-map", "0", "-c", "copy", "-f", "segment", "-segment_times", "6",
         "-segment_format", "mpegts", "-reset_timestamps", "1", str(tmp_path / "part%d.ts")],
        check=True, timeout=60,
    )  # fmt: skip
    rejoin = tmp_path / "part1.ts"
    index = SegmentIndex(["best"])
    index.add(dataclasses.replace(first))
    index.add(Segment(rejoin, first.start_t + 6, second.end_t, "best", size=rejoin.stat().st_size))
    assert index.entries("best")[0].trimmed
    w = Window(first.start_t + 2, first.start_t + 14, first.start_t + 3)
    files = await Clipper(index, tmp_path / "out", thumbnail=False).cut(w, 10 * MiB)
    assert files.duration == pytest.approx(12.0, abs=0.1)
    assert aired(rec, files.original, w.clip_start) == pytest.approx(w.clip_start, abs=0.1)
    mid = aired(rec, files.original, w.clip_start + 6, seek=6.0)
    assert mid == pytest.approx(w.clip_start + 6, abs=0.1)  # no repeat across the seam


async def test_waits_for_the_window_end_then_cuts(
    recorded_stream: Recording,  # noqa: F811
    tmp_path: Path,
) -> None:
    rec = recorded_stream
    entries = rec.index.entries("best")
    index = SegmentIndex(["best"])
    index.add(dataclasses.replace(entries[0]))
    t0 = entries[0].start_t
    now = [t0 + 12.0]
    sleeps: list[float] = []

    async def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += s
        if len(sleeps) == 3:
            index.add(dataclasses.replace(entries[1]))  # the recorder catches up

    clipper = Clipper(index, tmp_path, thumbnail=False, sleep=sleep, clock=lambda: now[0],
                      poll_s=0.5, wait_timeout_s=60)  # fmt: skip
    files = await clipper.cut(Window(t0 + 5, t0 + 15, t0 + 6), 10 * MiB)
    assert len(sleeps) == 3
    assert files.duration == pytest.approx(10.0, abs=0.1)

    # nothing more arrives: at the deadline it cuts what exists
    sleeps.clear()
    clipper.wait_timeout_s = 2.0
    files = await clipper.cut(Window(t0 + 15, t0 + 30, t0 + 16), 10 * MiB, name="partial")
    assert len(sleeps) >= 4
    assert files.duration == pytest.approx(5.0, abs=0.1)
    assert files.end_t == pytest.approx(t0 + 20, abs=0.05)

    # the recorder says the stream ended: no waiting at all
    sleeps.clear()
    ended = Clipper(index, tmp_path, thumbnail=False, sleep=sleep, clock=lambda: now[0],
                    is_recording=lambda: False)  # fmt: skip
    files = await ended.cut(Window(t0 + 15, t0 + 40, t0 + 16), 10 * MiB, name="ended")
    assert sleeps == [] and files.duration == pytest.approx(5.0, abs=0.1)


async def test_nothing_recorded_or_missing_files_raise_clip_error(
    recorded_stream: Recording,  # noqa: F811
    tmp_path: Path,
) -> None:
    rec = recorded_stream
    t0 = rec.index.covered_from("best")
    assert t0 is not None
    clipper = Clipper(rec.index, tmp_path, wait_timeout_s=0)
    with pytest.raises(ClipError, match="no recorded segments"):
        await clipper.cut(Window(t0 - 100, t0 - 80, t0 - 90))
    index = SegmentIndex(["best"])
    gone = dataclasses.replace(rec.index.entries("best")[0], path=tmp_path / "deleted.ts")
    index.add(gone)
    with pytest.raises(ClipError, match="segment file missing"):
        await Clipper(index, tmp_path).cut(Window(t0 + 1, t0 + 5, t0 + 2))
    junk = tmp_path / "junk.ts"
    junk.write_bytes(b"\x00not a transport stream" * 100)
    index = SegmentIndex(["best"])
    index.add(dataclasses.replace(gone, path=junk))
    with pytest.raises(ClipError, match=r"unreadable segment .*junk\.ts: .*Invalid data"):
        await Clipper(index, tmp_path).cut(Window(t0 + 1, t0 + 5, t0 + 2))
    assert leftovers(tmp_path) == ["junk.ts"]
    assert not list(tmp_path.glob("*.mp4"))


@pytest.mark.parametrize(
    ("stderr", "disk_full"),
    [("[out#0/mp4] Error muxing a packet\nboom: it broke", False),
     ("av_interleaved_write_frame(): No space left on device", True)],
)  # fmt: skip
async def test_dead_ffmpeg_raises_with_stderr_tail(
    recorded_stream: Recording,  # noqa: F811
    tmp_path: Path,
    stderr: str,
    disk_full: bool,
) -> None:
    rec = recorded_stream
    fake = tmp_path / "ffmpeg"
    fake.write_text(f"#!/bin/sh\nprintf '%s\\n' '{stderr}' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    out = tmp_path / "clips"
    t0 = rec.index.covered_from("best")
    assert t0 is not None
    with pytest.raises(ClipError) as info:
        await Clipper(rec.index, out, ffmpeg=str(fake)).cut(Window(t0 + 1, t0 + 5, t0 + 2))
    assert "ffmpeg exited with 1" in str(info.value)
    assert stderr.splitlines()[-1] in str(info.value)
    assert info.value.disk_full is disk_full
    assert list(out.iterdir()) == []  # nothing half-written left behind


async def test_unreadable_cut_output_is_a_clip_error(
    recorded_stream: Recording,  # noqa: F811
    tmp_path: Path,
) -> None:
    """ffmpeg "succeeds" but writes junk: PyAV's InvalidDataError (not an OSError) becomes a
    ClipError, and no broken file stays under the clip's name."""
    rec = recorded_stream
    fake = tmp_path / "ffmpeg"
    fake.write_text('#!/bin/sh\nfor last; do :; done\nprintf "not an mp4 at all" > "$last"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    out = tmp_path / "clips"
    t0 = rec.index.covered_from("best")
    assert t0 is not None
    with pytest.raises(ClipError, match="unreadable") as info:
        await Clipper(rec.index, out, ffmpeg=str(fake)).cut(Window(t0 + 1, t0 + 5, t0 + 2))
    assert not info.value.disk_full
    assert list(out.iterdir()) == []


async def test_file_system_failures_are_clip_errors(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    index = SegmentIndex(["best"])
    with pytest.raises(ClipError, match="clip files") as info:
        await Clipper(index, blocker / "clips").cut(Window(1.0, 5.0, 2.0))
    assert not info.value.disk_full
    with pytest.raises(ClipError, match="disk full") as info:
        write_listing(Path("/dev/full"), [(tmp_path / "a.ts", None)])  # a real ENOSPC
    assert info.value.disk_full


def _load_bench(name: str) -> Any:
    path = Path(__file__).resolve().parent.parent / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_clip_cut_smoke() -> None:
    """bench/clip_cut.py still runs (tiny 360p variant, one run)."""
    r = _load_bench("clip_cut").run(tiny=True, runs=1)
    assert set(r) == {"cut_s", "bare_s", "ratio", "ready_s"}
    assert 0 < r["cut_s"] < 10 and 0 < r["bare_s"] < 10


def truncated_copy(src: Path, dst: Path, fraction: float) -> Path:
    """The first ``fraction`` of ``src``, cut mid TS packet (as a file being written can be)."""
    data = src.read_bytes()
    n = int(len(data) * fraction)
    n -= n % 188
    dst.write_bytes(data[: n + 77])
    return dst


async def test_truncated_open_segment_makes_a_valid_clip_bounded_by_its_bytes(
    recorded_stream: Recording,  # noqa: F811
    tmp_path: Path,
) -> None:
    rec = recorded_stream
    done, nxt = rec.index.entries("best")[:2]
    part = truncated_copy(nxt.path, tmp_path / "run_00001.ts", 0.6)
    have = media_probe.flushed_span(part)
    assert have is not None and 4.5 < have[1] - have[0] < 7.5
    idx = SegmentIndex(["best"])
    idx.add(dataclasses.replace(done))
    # streamlink claims more than is on disk (as it does while ffmpeg muxes)
    claim = Segment(part, nxt.start_t, nxt.start_t + 9.0, "best", size=part.stat().st_size)
    idx.set_open(claim)
    clipper = Clipper(idx, tmp_path / "clips", wait_timeout_s=1.0, poll_s=0.1)
    # within the bytes (+ margin): cut at once, ending exactly at clip_end
    w = Window(done.end_t - 5.2, nxt.start_t + 3.0, nxt.start_t)
    files = await clipper.cut(w, 10 * MiB, name="within")
    info = media_probe.probe(files.original)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac") and info.has_audio
    assert info.duration == pytest.approx(w.clip_end - w.clip_start, abs=0.1)
    assert media_probe.is_faststart(files.original)
    assert aired(rec, files.original, w.clip_start) == pytest.approx(w.clip_start, abs=0.1)
    # past the bytes: waits out the timeout, then cuts what is on disk, never the torn tail
    late = Window(nxt.start_t + 1.0, nxt.start_t + 8.5, nxt.start_t + 2.0)
    t0 = time.monotonic()
    files = await clipper.cut(late, 10 * MiB, name="late")
    assert time.monotonic() - t0 >= 0.9, "it waited for the bytes first"
    info = media_probe.probe(files.original)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac") and info.has_audio
    assert media_probe.is_faststart(files.original)
    expect = (have[1] - have[0]) - FLUSH_MARGIN_S - 1.0  # on disk, minus margin and head
    assert info.duration == pytest.approx(expect, abs=0.15)
    frame = decode_counter(media_probe.first_frame_gray(files.original))
    assert rec.fake.aired_at(rec.slug, frame, late.clip_start) == pytest.approx(
        late.clip_start, abs=0.1
    )
    # the torn tail is not in it: every frame decodes, none lies past what was on disk
    with av.open(str(files.original)) as c:
        shown = [f.time for f in c.decode(c.streams.video[0]) if f.time is not None]
    assert len(shown) == pytest.approx(expect * 30, abs=6) and max(shown) <= expect + 0.1
