"""A whole fake Kick on 127.0.0.1 for end-to-end tests: API, Pusher chat and a live HLS stream,
plus a Config whose every Kick URL and data folder points at them."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from engine.config import Config
from tests.fakes.hls_stream import FakeHLS, FakeMedia
from tests.fakes.kick_api import FakeChannel, FakeKick
from tests.fakes.pusher_server import FakePusher

SLUG = "clipme"


@dataclass
class KickWorld:
    kick: FakeKick
    pusher: FakePusher
    hls: FakeHLS
    config: Config
    channel: FakeChannel

    async def chat(self, user: str, text: str) -> None:
        await self.pusher.send_chat(self.channel.chatroom_id, user, text)

    async def burst(self, n: int, text: str, prefix: str = "fan", gap_s: float = 0.02) -> None:
        for i in range(n):
            await self.chat(f"{prefix}{i}", text)
            await asyncio.sleep(gap_s)


def world_config(
    base: Config, kick: FakeKick, pusher: FakePusher, hls: FakeHLS, data: Path, **clips: float
) -> Config:
    """Every Kick URL at the fakes, data under `data`, fast polls and a short clip window."""
    k = dataclasses.replace(
        base.kick,
        **kick.config_overrides(),
        **pusher.config_overrides(),
        stream_url=hls.url_template("master"),
        poll_interval_s=0.5,
        backoff_initial_s=0.05,
        backoff_max_s=0.5,
        chat_pause_s=0.05,
    )
    st = dataclasses.replace(
        base.storage,
        data_dir=str(data),
        database=str(data / "bot.sqlite3"),
        segments_dir=str(data / "segments"),
        clips_dir=str(data / "clips"),
    )
    rec = dataclasses.replace(
        base.recording, segment_s=4.0, restart_backoff_initial_s=0.2, restart_backoff_max_s=1.0
    )
    cl = dataclasses.replace(base.clips, **{"before_s": 8.0, "after_s": 6.0, **clips})
    logging = dataclasses.replace(base.logging, file="")
    return dataclasses.replace(base, kick=k, storage=st, recording=rec, clips=cl, logging=logging)


@asynccontextmanager
async def kick_world(
    base: Config, media: FakeMedia, data: Path, *, live: bool = True, viewers: int = 1200
) -> AsyncIterator[KickWorld]:
    async with FakeKick() as kick, FakePusher() as pusher:
        hls = FakeHLS(media).start()
        try:
            channel = kick.add_channel(SLUG, live=live, viewers=viewers, title="Speedrun day")
            if live:
                hls.go_live(SLUG)
            yield KickWorld(kick, pusher, hls, world_config(base, kick, pusher, hls, data), channel)
        finally:
            hls.stop()


async def eventually(pred: Callable[[], object], within_s: float = 30.0, step: float = 0.1) -> None:
    """Wait until pred() is truthy (real processes take real time); fail with a clear message."""
    deadline = time.monotonic() + within_s
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within_s} s")
        await asyncio.sleep(step)
