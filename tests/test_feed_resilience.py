"""The Feed when Kick's signals disagree or refuse: push vs poll, a refused chat socket.

Against the fake Kick world (API, Pusher, HLS) with the real KickApi, ChatClient and Recorder.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path

import pytest
from kick_world import SLUG, eventually, kick_world

from engine.config import Config
from engine.core.feed import Feed
from engine.events import Event, LiveChange, ViewerSample
from engine.kick.api import KickApi
from tests.fakes.hls_stream import FakeMedia

pytestmark = pytest.mark.slow


def make_feed(cfg: Config, api: KickApi, **kwargs: object) -> Feed:
    st = cfg.storage
    return Feed(SLUG, cfg, api, segments_dir=st.segments_dir, clips_dir=st.clips_dir, **kwargs)  # type: ignore[arg-type]


async def test_a_stray_offline_push_is_overruled_by_the_next_poll(
    config: Config, fake_media: FakeMedia, tmp_path: Path
) -> None:
    """StopStreamBroadcast while Kick's status still says live: the Feed goes offline at once
    (the push is usually right and early) but the next poll puts it back live, recording, and
    forwarding chat and viewer samples again."""
    async with kick_world(config, fake_media, tmp_path) as w:
        api = KickApi(w.config.kick)
        feed = make_feed(w.config, api)
        seen: list[Event] = []
        feed.subscribe(seen.append)
        await feed.start()
        try:
            await w.pusher.wait_for_subscription(f"channel.{w.channel.id}", within_s=20)
            await eventually(lambda: feed.status.live and feed.recorder.running, 20)
            assert await w.pusher.send_live(w.channel.id, live=False) == 1
            await eventually(lambda: any(isinstance(e, LiveChange) and not e.live for e in seen))
            mark = len(seen)
            await eventually(lambda: feed.status.live and feed.recorder.running, 10)
            lives = [e.live for e in seen if isinstance(e, LiveChange)]
            assert lives == [True, False, True]
            await eventually(lambda: any(isinstance(e, ViewerSample) for e in seen[mark:]), 10)
        finally:
            await feed.stop()
            await api.aclose()
        assert not feed.recorder.child_pids()


class ChatSleeps:
    """The chat client's pauses: recorded, and slept only a token amount."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0.02)


async def test_a_refused_chat_waits_chat_refused_retry_s_with_one_error(
    config: Config, fake_media: FakeMedia, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with kick_world(config, fake_media, tmp_path, live=False) as w:
        kick_cfg = dataclasses.replace(w.config.kick, pusher_key="eb1d5f283081a78b932c")
        cfg = dataclasses.replace(w.config, kick=kick_cfg)
        api = KickApi(cfg.kick)
        sleeps = ChatSleeps()
        feed = make_feed(cfg, api, chat_kwargs={"sleep": sleeps})
        with caplog.at_level(logging.INFO):
            await feed.start()
            try:
                await eventually(lambda: len(sleeps.delays) >= 3, 10, step=0.02)
            finally:
                await feed.stop()
                await api.aclose()
    assert sleeps.delays[:3] == [cfg.kick.chat_refused_retry_s] * 3
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert "4001" in errors[0] and "not in this cluster" in errors[0]
    assert not [r for r in caplog.records if "died" in r.getMessage()], "no normal backoff"


async def test_a_refused_chat_with_no_retry_stays_off(
    config: Config, fake_media: FakeMedia, tmp_path: Path
) -> None:
    """kick.chat_refused_retry_s: null means give up: the Feed does not reconnect on its own
    backoff (a wrong key stays wrong); the poller keeps going."""
    async with kick_world(config, fake_media, tmp_path, live=False) as w:
        kick_cfg = dataclasses.replace(
            w.config.kick, pusher_key="eb1d5f283081a78b932c", chat_refused_retry_s=None
        )
        cfg = dataclasses.replace(w.config, kick=kick_cfg)
        api = KickApi(cfg.kick)
        feed = make_feed(cfg, api)
        await feed.start()
        try:
            await eventually(lambda: "4001" in (feed.status.error or ""), 10)
            polls = len(w.kick.requests)
            # the Feed's backoff is at most 0.5 s here: 4 of them would have reconnected
            await asyncio.sleep(2.0)
            assert w.pusher.rejected == 1
            assert len(w.kick.requests) > polls, "the poller still runs"
        finally:
            await feed.stop()
            await api.aclose()
