"""Shared pieces of the publishing tests: a small source clip made by the real ffmpeg, an
approved clip row on a real SQLite file, and a PublishService pointed at FakeYouTube."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from engine.config import Config, load_config
from engine.events import Moment
from engine.media.ffmpeg_bin import ffmpeg_exe
from publishing.service import PublishService
from publishing.youtube import YouTubeTarget
from publishing.youtube_oauth import YouTubeTokens
from storage.clips import ClipRepo
from storage.db import Database
from storage.publish import PublishRepo
from tests.fakes.youtube_api import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, FakeYouTube

ROOT = Path(__file__).resolve().parent.parent
GUILD = 111


def make_source(path: Path, seconds: float = 4.0, size: str = "1280x720", rate: int = 30) -> Path:
    """A test-pattern clip with a tone: H.264 + AAC, faststart, like the clipper's originals."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
             "-f", "lavfi", "-i", f"testsrc2=s={size}:r={rate}:d={seconds}",
             "-f", "lavfi", "-i", f"sine=f=440:d={seconds}",
             "-c:v", "libx264", "-preset", "ultrafast", "-g", str(rate), "-c:a", "aac",
             "-shortest", "-movflags", "+faststart", str(path)],
            check=True, timeout=120,
        )  # fmt: skip
    return path


def publish_config(fake: FakeYouTube, **publish: Any) -> Config:
    base = load_config(ROOT / "config.yaml")
    yt = dataclasses.replace(base.publish.youtube, **fake.config_overrides(), chunk_mb=0.25)
    return dataclasses.replace(
        base, publish=dataclasses.replace(base.publish, youtube=yt, preset="ultrafast", **publish)
    )


async def approved_clip(
    clips: ClipRepo,
    original: Path,
    *,
    streamer: str = "xqc",
    confidence: float = 0.9,
    title: str | None = None,
) -> int:
    t = time.time()
    moment = Moment(t=t, streamer=streamer, trigger="hype_moment", triggers=("keyword",),
                    confidence=confidence, clip_start=t - 2, clip_end=t + 2, details={},
                    key=f"{streamer}-{t}")  # fmt: skip
    clip_id, _ = await clips.record_moment(GUILD, moment)
    await clips.transition(clip_id, None, status="approved", original_path=str(original),
                           title=title)  # fmt: skip
    return clip_id


@dataclasses.dataclass
class World:
    db: Database
    clips: ClipRepo
    store: PublishRepo
    http: httpx.AsyncClient
    service: PublishService
    announced: list[tuple[str, float]]

    async def close(self) -> None:
        await self.service.stop()
        await self.http.aclose()
        await self.db.close()


async def open_world(
    db_path: Path, fake: FakeYouTube, config: Config, clock: Callable[[], float] = time.time
) -> World:
    db = await Database.open(db_path)
    clips, store = ClipRepo(db), PublishRepo(db)
    if not await store.refresh_token("youtube"):
        await store.save_refresh_token("youtube", REFRESH_TOKEN, "youtube", "Fake Clips Channel")
    http = httpx.AsyncClient(timeout=10)
    yt = config.publish.youtube
    tokens = YouTubeTokens(http, yt, CLIENT_ID, CLIENT_SECRET, store, clock)

    async def no_wait(_s: float) -> None:
        await asyncio.sleep(0)

    target = YouTubeTarget(http, yt, tokens, sleep=no_wait, clock=clock)
    service = PublishService(config.publish, store, clips, {"youtube": target}, clock=clock)
    announced: list[tuple[str, float]] = []

    async def listen(job: Any) -> None:
        announced.append((job.state, job.progress))

    service.listeners.append(listen)
    return World(db, clips, store, http, service, announced)


async def wait_state(store: PublishRepo, job_id: int, *states: str, limit_s: float = 60) -> Any:
    """Poll the row until it reaches one of `states` (bounded: real ffmpeg and HTTP run)."""
    deadline = time.monotonic() + limit_s
    while True:
        job = await store.get(job_id)
        if job is not None and job.state in states:
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} is {job and job.state}, wanted {states}")
        await asyncio.sleep(0.05)
