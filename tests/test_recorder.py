"""The Recorder against the fake HLS stream: real streamlink, real ffmpeg, checked with PyAV."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import av
import pytest

from engine.media import probe as media_probe
from engine.media.ffmpeg_bin import streamlink_cmd
from engine.media.procs import read_lines
from engine.media.recorder import Recorder
from tests.fakes.hls_stream import FakeHLS, FakeMedia, decode_counter
from tests.fakes.media_fixtures import (  # noqa: F401 - fixtures
    Recording,
    child_processes,
    fake_hls,
    fake_media,
    pid_alive,
    recorded_stream,
)

pytestmark = pytest.mark.slow


async def wait_for(pred: Callable[[], object], limit_s: float, what: str) -> None:
    deadline = time.monotonic() + limit_s
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def assert_all_gone(pids: set[int]) -> None:
    """Neither running nor a zombie, and no longer our child."""
    assert pids, "no pids were seen"
    ours = {pid for pid, _state, _cmd in child_processes()}
    assert not [p for p in pids if pid_alive(p)], "children still running"
    assert not pids & ours, f"unreaped children: {pids & ours}"


def test_records_ten_second_segments_timed_by_program_date_time(
    recorded_stream: Recording,  # noqa: F811
) -> None:
    rec = recorded_stream
    fake = rec.fake
    sizes = {"best": (1280, 720), "480p": (640, 360)}  # no 480p in the fake: 360p is used
    for rendition in rec.renditions:
        entries = rec.index.entries(rendition)
        assert len(entries) >= 3, entries
        assert rec.index.gaps(rendition) == []
        for a, b in itertools.pairwise(entries):
            assert b.start_t == pytest.approx(a.end_t, abs=0.05)  # contiguous
        for s in entries[:-1]:
            assert s.duration == pytest.approx(10.0, abs=0.1)
        for s in entries:
            assert s.timing == "pdt"
            assert s.path.parent == rec.out_dir / rec.slug / rendition
            info = media_probe.probe(s.path)
            assert info.format == "mpegts"
            assert (info.video_codec, info.audio_codec) == ("h264", "aac")
            assert (info.width, info.height) == sizes[rendition]
            frames = media_probe.video_frame_times(s.path)
            assert frames[0][1], "segment must start with a keyframe"
            # the burned-in frame counter says when this frame aired (fake's PDT timeline)
            aired = fake.aired_at(rec.slug, decode_counter(media_probe.first_frame_gray(s.path)),
                                  near=s.start_t)  # fmt: skip
            assert aired == pytest.approx(s.start_t, abs=0.1)
    # the recording reached (almost) the live edge at stop time
    assert rec.index.covered_until("best") > rec.stopped - 6
    assert_all_gone(set(rec.pids))


async def test_restarts_after_ffmpeg_or_streamlink_is_killed(
    fake_hls: FakeHLS,  # noqa: F811
    tmp_path: Path,
) -> None:
    slug = "restarts"
    fake_hls.go_live(slug)
    slow_restart = {"on": False}

    async def sleep(seconds: float) -> None:
        # the second restart waits longer than the live-edge backlog (3 x 2 s): a real gap
        await asyncio.sleep(9.0 if slow_restart["on"] else seconds)

    rec = Recorder(slug, fake_hls.url_template(), tmp_path, ("best",), segment_s=4,
                   backoff_initial_s=0.2, sleep=sleep)  # fmt: skip
    seen: set[int] = set()
    await rec.start()
    try:
        await rec.start()  # idempotent
        await wait_for(lambda: len(rec.index.entries("best")) >= 2, 30, "two segments")
        first = rec.pids()["best"]
        seen |= set(first.values())
        os.kill(first["ffmpeg"], signal.SIGKILL)
        await wait_for(lambda: rec.restarts["best"] == 1, 15, "restart after ffmpeg died")
        await wait_for(lambda: rec.pids()["best"].get("ffmpeg") not in (None, first["ffmpeg"]),
                       15, "new ffmpeg")  # fmt: skip
        second = rec.pids()["best"]
        seen |= set(second.values())
        n = len(rec.index.entries("best"))
        await wait_for(lambda: len(rec.index.entries("best")) > n + 1, 20, "segments again")
        assert rec.index.gaps("best") == []  # rejoined behind the live edge: no hole

        slow_restart["on"] = True
        before_gap = rec.index.covered_until("best")
        os.kill(second["streamlink"], signal.SIGKILL)
        await wait_for(lambda: rec.restarts["best"] == 2, 15, "restart after streamlink died")
        await wait_for(lambda: rec.index.covered_until("best") > before_gap + 6, 40,
                       "segments after the slow restart")  # fmt: skip
        seen |= set(rec.child_pids())
    finally:
        await rec.stop()
        await rec.stop()  # idempotent
    assert not rec.running and rec.child_pids() == []
    gaps = rec.index.gaps("best")
    assert len(gaps) == 1, gaps
    gap = gaps[0]
    assert 1.0 < gap.end_t - gap.start_t < 9.0
    entries = rec.index.entries("best")
    for a, b in itertools.pairwise(entries):
        assert b.start_t >= a.end_t - 0.05  # never the same seconds twice
    assert any(s.end_t == gap.start_t for s in entries)
    assert any(s.start_t == gap.end_t for s in entries)
    # every file is playable and timed right, across all three runs
    for s in entries:
        n = decode_counter(media_probe.first_frame_gray(s.path))
        if not s.trimmed:
            assert fake_hls.aired_at(slug, n, s.start_t) == pytest.approx(s.start_t, abs=0.1)
    assert len({s.run for s in entries}) == 3
    assert_all_gone(seen)


async def test_offline_then_live_again(fake_hls: FakeHLS, tmp_path: Path) -> None:  # noqa: F811
    slug = "flaky"
    fake_hls.go_live(slug)
    rec = Recorder(slug, fake_hls.url_template(), tmp_path, ("best",), segment_s=4,
                   backoff_initial_s=0.5, backoff_max_s=1.0, stream_timeout_s=3)  # fmt: skip
    seen: set[int] = set()
    await rec.start()
    try:
        await wait_for(lambda: len(rec.index.entries("best")) >= 1, 30, "a segment")
        seen |= set(rec.child_pids())
        fake_hls.go_offline(slug)
        offline_at = time.time()
        # streamlink notices (stream timeout), exits; restarts fail while the channel is offline
        await wait_for(lambda: rec.restarts["best"] >= 2, 30, "failed restarts while offline")
        assert rec.last_error.get("best")
        seen |= set(rec.child_pids())
        back_at = time.time()
        fake_hls.go_live(slug, preroll=False)
        await wait_for(
            lambda: (rec.index.covered_until("best") or 0) > back_at + 1, 40, "recording again"
        )
        seen |= set(rec.child_pids())
    finally:
        await rec.stop()
    entries = rec.index.entries("best")
    before = [s for s in entries if s.end_t <= offline_at + 0.5]
    after = [s for s in entries if s.start_t >= back_at - 0.5]
    assert before and after
    gaps = rec.index.gaps("best")
    assert len(gaps) == 1
    assert gaps[0].start_t == before[-1].end_t and gaps[0].end_t == after[0].start_t
    assert_all_gone(seen)


async def test_unreachable_stream_backs_off_and_stops_cleanly(tmp_path: Path) -> None:
    rec = Recorder("nobody", "hls://http://127.0.0.1:9/{slug}/master.m3u8", tmp_path, ("best",),
                   backoff_initial_s=0.1, backoff_max_s=0.4)  # fmt: skip
    seen: set[int] = set()

    def retried() -> bool:
        seen.update(rec.child_pids())
        return rec.restarts["best"] >= 2

    await rec.start()
    try:
        await wait_for(retried, 30, "retries")
    finally:
        await rec.stop()
    assert "Unable to open URL" in rec.last_error["best"]
    assert len(rec.index) == 0 and rec.state["best"] == "stopped"
    assert_all_gone(seen)


def test_bench_recorders_smoke() -> None:
    """bench/recorders.py still runs (one recorder, one rendition, a few seconds)."""
    path = Path(__file__).resolve().parent.parent / "bench" / "recorders.py"
    spec = importlib.util.spec_from_file_location("bench_recorders", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    r = bench.run(1, 2.0, ("best",), warmup=2.0)
    kinds = sorted(row[2] for row in r["rows"])
    assert kinds == ["ffmpeg", "streamlink"]
    assert all(row[5] > 0 for row in r["rows"])  # PSS read


def test_fake_hls_serves_a_continuous_live_stream(
    fake_media: FakeMedia,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The fake itself: playlists, offline modes, and segments that stay one continuous
    transport stream across the loop seam (timestamps rising, no continuity errors)."""
    now = [1_800_000_000.0]
    fake = FakeHLS(fake_media, clock=lambda: now[0])
    try:
        assert fake.handle("/x/master.m3u8")[0] == 404  # never live
        t0 = fake.go_live("x")
        status, _ctype, body = fake.handle("/x/master.m3u8")
        assert status == 200 and b"RESOLUTION=1280x720" in body and b"360p.m3u8" in body
        playlist = fake.handle("/x/index.m3u8")[2].decode()
        assert "#EXT-X-MEDIA-SEQUENCE:0" in playlist and playlist.count("#EXTINF:2.000") == 5
        assert "#EXT-X-PROGRAM-DATE-TIME:2027-01-15T07:59:50.000Z" in playlist  # t0 = now - 10
        now[0] += 30  # 15 segments later
        playlist = fake.handle("/x/720p.m3u8")[2].decode()
        assert "#EXT-X-MEDIA-SEQUENCE:15" in playlist and "720p/19.ts" in playlist
        assert fake.handle("/x/720p/3.ts")[0] == 404  # slid out of the window
        n = fake_media.n_segments
        seam = b"".join(fake.segment("360p", k) for k in (n - 1, n, n + 1))
        path = tmp_path / "seam.ts"
        path.write_bytes(seam)
        with av.open(str(path)) as c:
            pts = [p.pts for p in c.demux(video=0) if p.pts is not None]
        with av.open(str(path)) as c:
            assert not any(p.is_corrupt for p in c.demux())
        assert all(b - a == 3000 for a, b in itertools.pairwise(pts))  # 30 fps, no jump
        assert len(pts) == 3 * 60
        fake.go_offline("x", mode="empty")
        status, _ctype, body = fake.handle("/x/master.m3u8")
        assert status == 200 and b"#EXT-X-ENDLIST" in body and b".ts" not in body
        fake.go_offline("x")
        assert fake.handle("/x/720p.m3u8")[0] == 404
        assert fake.aired_at("x", 0, near=t0 + 24 * 3 + 1) == t0 + 72
    finally:
        fake.stop()


def test_fake_hls_can_stall_without_going_offline(fake_media: FakeMedia) -> None:  # noqa: F811
    now = [1_800_000_000.0]
    fake = FakeHLS(fake_media, clock=lambda: now[0])
    try:
        fake.go_live("x")
        fake.stall("x")
        frozen = fake.handle("/x/720p.m3u8")
        now[0] += 30
        assert fake.handle("/x/720p.m3u8") == frozen and fake.is_live("x")
        fake.unstall("x")
        assert "#EXT-X-MEDIA-SEQUENCE:15" in fake.handle("/x/720p.m3u8")[2].decode()
    finally:
        fake.stop()


async def test_start_during_stop_waits_and_leaks_nothing(
    fake_hls: FakeHLS,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A start() while stop() is stopping the children (an offline-online flap) must not start
    supervisors that the stop then forgets: they would record untracked, forever."""
    slug = "flapper"
    fake_hls.go_live(slug)
    rec = Recorder(slug, fake_hls.url_template(), tmp_path, ("best",), segment_s=4)
    await rec.start()
    seen: set[int] = set()
    try:
        await wait_for(lambda: len(rec.child_pids()) == 2, 20, "children")
        seen |= set(rec.child_pids())
        stopping = asyncio.create_task(rec.stop())
        await asyncio.sleep(0)  # the stop is now waiting for ffmpeg to finish its file
        await rec.start()
        await stopping
        assert rec.running, "the start after the stop took effect"
        await wait_for(lambda: len(rec.child_pids()) == 2, 20, "children again")
        seen |= set(rec.child_pids())
    finally:
        await rec.stop()
    assert not rec.running and rec.child_pids() == []
    assert_all_gone(seen)


async def test_an_overlong_streamlink_line_does_not_stop_the_reader(
    fake_hls: FakeHLS,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A 200 KiB stderr line (Chromium can print one) is beyond asyncio's 64 KiB line limit;
    the reader must go on, or the PDT lines after it are lost (and the pipe fills up)."""
    slug = "chatty"
    fake_hls.go_live(slug)
    noisy = ["sh", "-c", 'head -c 200000 /dev/zero | tr "\\0" x >&2; echo >&2; exec "$0" "$@"']
    rec = Recorder(slug, fake_hls.url_template(), tmp_path, ("best",), segment_s=4,
                   streamlink=[*noisy, *streamlink_cmd()])  # fmt: skip
    await rec.start()
    try:
        await wait_for(lambda: len(rec.index.entries("best")) >= 2, 30, "two segments")
    finally:
        await rec.stop()
    assert {s.timing for s in rec.index.entries("best")} == {"pdt"}


async def test_a_stalled_stream_is_restarted_by_the_watchdog(
    fake_hls: FakeHLS,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The origin stops listing segments but the stream never ends; streamlink's own timeout is
    long here, so only the watchdog notices: restart, counted, logged; recording resumes."""
    slug = "stalls"
    fake_hls.go_live(slug)
    rec = Recorder(slug, fake_hls.url_template(), tmp_path, ("best",), segment_s=4,
                   stream_timeout_s=120, stall_timeout_s=5, backoff_initial_s=0.2)  # fmt: skip
    seen: set[int] = set()
    await rec.start()
    try:
        await wait_for(lambda: len(rec.index.entries("best")) >= 2, 30, "two segments")
        seen |= set(rec.child_pids())
        fake_hls.stall(slug)
        await wait_for(lambda: rec.stalls["best"] >= 1, 20, "the watchdog")
        assert rec.restarts["best"] >= 1 and "stalled" in rec.last_error["best"]
        seen |= set(rec.child_pids())
        fake_hls.unstall(slug)
        back = time.time()
        await wait_for(lambda: (rec.index.covered_until("best") or 0) > back + 2, 40, "recording")
        seen |= set(rec.child_pids())
    finally:
        await rec.stop()
    assert any("no new segment" in r.getMessage() for r in caplog.records)
    assert_all_gone(seen)


async def test_restart_backoff_is_jittered(tmp_path: Path) -> None:
    """Equal jitter on the doubling cap: between half of it and all of it."""
    draws = itertools.cycle([0.0, 1.0, 0.5, 0.0])
    delays: list[float] = []

    async def sleep(s: float) -> None:
        delays.append(s)
        await asyncio.sleep(0)

    rec = Recorder("nobody", "hls://http://127.0.0.1:9/{slug}/x.m3u8", tmp_path, ("best",),
                   backoff_initial_s=1.0, backoff_max_s=4.0, sleep=sleep,
                   streamlink=["false"], rand=lambda: next(draws))  # fmt: skip
    await rec.start()
    try:
        await wait_for(lambda: len(delays) >= 4, 20, "four restarts")
    finally:
        await rec.stop()
    assert delays[:4] == [0.5, 2.0, 3.0, 2.0]  # caps 1, 2, 4, 4


async def test_read_lines_cuts_overlong_lines_and_drains_to_eof() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(b"a\n" + b"x" * 300_000 + b"\nb\n" + b"y" * 50 + b"\nno newline")
    reader.feed_eof()
    got = [line async for line in read_lines(reader, max_line=100)]
    assert got == [b"a\n", b"x" * 100, b"b\n", b"y" * 50 + b"\n", b"no newline"]
