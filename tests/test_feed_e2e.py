"""End to end against a fake Kick: real streamlink, ffmpeg, websockets and SQLite.

Fake live stream + chat burst -> Feed -> Detector -> ClipPipeline -> a clip file, checked with
ffprobe-level facts; the chat socket dropped mid-burst; offline and live again.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from kick_world import SLUG, eventually, kick_world

from engine.config import Config
from engine.core.feed import Feed
from engine.core.pipeline import ClipPipeline
from engine.core.watch_hub import WatchHub
from engine.detection.detector import Detector
from engine.events import Event, LiveChange
from engine.kick.api import KickApi
from engine.media import probe as media_probe
from storage.clips import ClipRepo
from storage.db import Database
from tests.fakes.hls_stream import FakeMedia, decode_counter
from tests.fakes.media_fixtures import child_processes
from tests.fakes.pusher_server import emote

pytestmark = pytest.mark.slow


async def test_chat_burst_becomes_a_playable_clip(
    config: Config, fake_media: FakeMedia, tmp_path: Path
) -> None:
    async with kick_world(config, fake_media, tmp_path) as w:
        cfg = w.config
        db = await Database.open(cfg.storage.database)
        clips = ClipRepo(db)
        api = KickApi(cfg.kick)
        feeds: dict[str, Feed] = {}

        def make_feed(slug: str) -> Feed:
            feeds[slug] = Feed(
                slug, cfg, api,
                segments_dir=cfg.storage.segments_dir, clips_dir=cfg.storage.clips_dir,
            )  # fmt: skip
            return feeds[slug]

        ready: list[int] = []

        async def on_ready(clip_id: int) -> None:
            ready.append(clip_id)

        async def limit(_guild: int) -> int:
            return 10 * 1024 * 1024

        pipeline = ClipPipeline(
            clips, lambda s: feeds[s].clipper if s in feeds else None, limit, on_ready
        )
        hub = WatchHub(
            make_feed, lambda s, o, st: Detector(s, cfg, overrides=o, state=st),
            pipeline.on_moment,
        )  # fmt: skip
        seen: list[Event] = []
        try:
            watch = await hub.add(7, SLUG)
            feed = feeds[SLUG]
            feed.subscribe(seen.append)
            topic = f"chatrooms.{w.channel.chatroom_id}.v2"
            await w.pusher.wait_for_subscription(topic, 1, within_s=20)
            await eventually(lambda: feed.status.live, 20)
            assert any(isinstance(e, LiveChange) and e.live for e in seen)
            # Let the recorder get well ahead of the window's start (live edge + one segment).
            await eventually(lambda: (feed.index.covered_until("best") or 0) > time.time() - 60, 40)
            await eventually(
                lambda: (feed.index.covered_from("best") or 1e12) < time.time() - 12, 40
            )

            await w.burst(5, "CLIP IT " + emote("KEKW"), prefix="a")
            assert await w.pusher.drop_connections() == 1  # the socket dies mid-burst ...
            await w.pusher.wait_for_subscription(topic, 2, within_s=20)  # ... and comes back
            await w.burst(3, "clip that " + emote("KEKW"), prefix="b")
            await eventually(lambda: watch.detector.snapshot(time.time()).clips_today == 1, 10)
            snap = watch.detector.snapshot(time.time())
            assert snap.fired_today.get("keyword") == 1, "5 + 3 users across the reconnect"

            await eventually(lambda: ready, 90)
            row: Any = await clips.get(ready[0])
            assert row.status == "ready" and row.trigger == "keyword"
            original = Path(row.original_path)
            info = media_probe.probe(original)
            window = row.clip_end - row.clip_start
            assert window == pytest.approx(14.0, abs=0.01)  # 8 s before + 6 s after
            assert info.duration == pytest.approx(window, abs=2.0)  # one keyframe interval
            assert info.has_video and info.has_audio
            assert (info.video_codec, info.audio_codec) == ("h264", "aac")
            assert info.start_time == pytest.approx(0.0, abs=0.1)
            assert media_probe.is_faststart(original)
            frame = decode_counter(media_probe.first_frame_gray(original))
            aired = w.hls.aired_at(SLUG, frame, row.clip_start)
            assert aired == pytest.approx(row.clip_start, abs=2.0)
            assert row.preview_path and Path(row.preview_path).stat().st_size <= 10 * 1024 * 1024
            assert row.thumbnail_path and Path(row.thumbnail_path).is_file()
        finally:
            pids = feeds[SLUG].recorder.child_pids() if SLUG in feeds else []
            await pipeline.close()
            await hub.close()
            await api.aclose()
            await db.close()
        alive = {pid for pid, _, _ in child_processes()}
        assert not set(pids) & alive, "no streamlink/ffmpeg left behind"


async def test_offline_then_live_again_is_a_new_session(
    config: Config, fake_media: FakeMedia, tmp_path: Path
) -> None:
    async with kick_world(config, fake_media, tmp_path) as w:
        cfg = w.config
        api = KickApi(cfg.kick)
        feed = Feed(
            SLUG, cfg, api, segments_dir=cfg.storage.segments_dir, clips_dir=cfg.storage.clips_dir
        )
        seen: list[Event] = []
        feed.subscribe(seen.append)
        await feed.start()
        try:
            await eventually(lambda: feed.status.live and feed.recorder.running, 20)
            await eventually(lambda: feed.index.covered_until("best") is not None, 40)
            w.kick.set_live(SLUG, False)
            w.hls.go_offline(SLUG)
            await eventually(lambda: not feed.status.live and not feed.recorder.running, 20)
            before = feed.index.covered_until("best") or 0
            first_run = {s.run for s in feed.index.entries("best")}
            # A new session starts now: no pre-roll claiming airtime from the offline stretch.
            w.hls.go_live(SLUG, preroll=False)
            w.kick.set_live(SLUG, True, viewers=5000)
            await eventually(lambda: feed.status.live and feed.recorder.running, 20)
            await eventually(lambda: {s.run for s in feed.index.entries("best")} - first_run, 40)
            assert (feed.index.covered_until("best") or 0) > before
            lives = [e.live for e in seen if isinstance(e, LiveChange)]
            assert lives == [True, False, True]
            assert feed.index.gaps("best"), "the offline stretch is a recorded gap"
        finally:
            await feed.stop()
            await api.aclose()
        assert not feed.recorder.child_pids()
        # A restart: a new Feed on the same folders knows every second recorded before it.
        again = Feed(
            SLUG, cfg, api, segments_dir=cfg.storage.segments_dir, clips_dir=cfg.storage.clips_dir
        )
        for rendition in cfg.recording.renditions:
            old = [(x.path, x.start_t) for x in feed.index.entries(rendition)]
            new = [(x.path, x.start_t) for x in again.index.entries(rendition)]
            assert new == old and new
        assert again.index.gaps("best"), "the restored index sees the offline gap too"


async def test_feed_start_stop_is_idempotent_and_unknown_slug_is_harmless(
    config: Config, fake_media: FakeMedia, tmp_path: Path
) -> None:
    async with kick_world(config, fake_media, tmp_path) as w:
        cfg = w.config
        api = KickApi(cfg.kick)
        feed = Feed("nobodyhere", cfg, api, segments_dir=tmp_path / "s", clips_dir=tmp_path / "c")
        await feed.start()
        await feed.start()
        await eventually(lambda: feed.status.error is not None, 10)
        assert "no such Kick channel" in (feed.status.error or "")
        await feed.stop()
        await feed.stop()
        await api.aclose()
