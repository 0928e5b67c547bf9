"""A clip cut from the segment ffmpeg is still writing, live: real streamlink and ffmpeg against
the fake HLS stream, 10 s segments. (A truncated open file: tests/test_clipper.py.)"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from engine.media import probe as media_probe
from engine.media.clipper import ClipFiles, Clipper, Window
from engine.media.recorder import Recorder
from tests.fakes.hls_stream import FakeHLS, decode_counter
from tests.fakes.media_fixtures import fake_hls, fake_media  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow
MiB = 1024 * 1024
SLUG = "growing"


async def wait_for(pred: object, limit_s: float, what: str) -> None:
    deadline = time.monotonic() + limit_s
    while not pred():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def check_clip(fake: FakeHLS, slug: str, path: Path, w: Window, size: tuple[int, int]) -> None:
    """The promises of a clip: faststart H.264 + AAC MP4, the window's length, first frame at
    clip_start (read from the burned-in frame counter against the fake's PDT timeline)."""
    info = media_probe.probe(path)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.has_video and info.has_audio and (info.width, info.height) == size
    assert info.duration == pytest.approx(w.clip_end - w.clip_start, abs=0.15)
    assert media_probe.is_faststart(path)
    frame = decode_counter(media_probe.first_frame_gray(path))
    assert fake.aired_at(slug, frame, w.clip_start) == pytest.approx(w.clip_start, abs=0.1)


async def test_clip_ending_in_the_open_segment_is_cut_before_it_closes(
    fake_hls: FakeHLS,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake_hls.go_live(SLUG)
    rec = Recorder(SLUG, fake_hls.url_template(), tmp_path / "rec", ("best", "480p"), 10.0)
    clipper = Clipper(rec.index, tmp_path / "clips", poll_s=0.1)
    await rec.start()
    try:
        # a finished file, then the next one just begun: its close is ~10 s away
        await wait_for(lambda: rec.index.entries("best"), 60, "a finished segment")
        listed = rec.index.entries("best")[-1]
        await wait_for(lambda: rec.index.open_segment("best"), 10, "the open segment")
        growing = rec.index.open_segment("best")
        assert growing is not None and growing.start_t == pytest.approx(listed.end_t, abs=0.01)
        s0 = growing.start_t
        spans = Window(s0 - 6.3, s0 + 2.7, s0 + 1.0)  # the finished file and the open one
        inside = Window(s0 + 0.6, s0 + 3.6, s0 + 2.0)  # only the open one (its head is cut)
        wait_until = time.time()
        a, b = await asyncio.gather(
            clipper.cut(spans, MiB, name="spans"), clipper.cut(inside, MiB // 2, name="inside")
        )
        done = time.time()
        still = rec.index.open_segment("best")
        assert still is not None and still.path == growing.path, "cut before the file closed"
        assert growing.path.name not in {s.path.name for s in rec.index.entries("best")}
    finally:
        await rec.stop()
    assert done - max(wait_until, inside.clip_end) < 5.0, "no waiting for the 10 s file"
    files: ClipFiles
    for files, w, limit in ((a, spans, MiB), (b, inside, MiB // 2)):
        check_clip(fake_hls, SLUG, files.original, w, (1280, 720))
        assert files.end_t == pytest.approx(w.clip_end) and files.gaps == ()
        # 720p does not fit the limit: the preview is a copy cut of the 360p recording (the
        # "480p" rendition falls back to it), from its own open segment
        assert files.preview is not None and not files.preview_transcoded
        assert files.preview_rendition == "480p" and files.preview.stat().st_size <= limit
        check_clip(fake_hls, SLUG, files.preview, w, (640, 360))
        assert files.thumbnail is not None and files.thumbnail.stat().st_size > 0
