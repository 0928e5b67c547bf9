"""The product end to end: real discord.py, streamlink, ffmpeg and SQLite against local fakes.

/setup -> /watch a live fake streamer -> chat burst -> a playable mp4 posted with buttons in
the review channel -> Approve -> restart the bot -> the old message's buttons still work.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from kick_world import eventually

from engine.config import Config
from tests.fakes.hls_stream import FakeHLS, FakeMedia
from tests.fakes.pusher_server import emote

pytestmark = pytest.mark.slow
SLUG = "clipme"


async def test_watch_burst_post_approve_restart(
    config: Config, fake_media: FakeMedia, tmp_path: Path
) -> None:
    from tests.bot_harness import clip_post, running_harness, updated

    hls = FakeHLS(fake_media).start()
    try:
        async with running_harness(tmp_path, video=hls) as h:
            cast = h.cast
            channel = h.kick.add_channel(SLUG, live=True, viewers=4321, title="Boss fight")
            hls.go_live(SLUG)
            await h.setup_review()
            answer = await h.answer(cast.reviewer, "watch", {"streamer": SLUG})
            assert "live" in answer.content.lower() and "4,321" in answer.content, answer.content

            feed: Any = h.services.hub.feeds[SLUG]
            await eventually(lambda: feed.status.live, 20)
            await eventually(
                lambda: (feed.index.covered_from("best") or 1e12) < time.time() - 12, 40
            )
            for i in range(10):
                await h.pusher.send_chat(channel.chatroom_id, f"fan{i}", "CLIP IT " + emote("KEKW"))

            msg, _video = await clip_post(h.fake, cast.review, tmp_path, length_s=14.0)  # 8 + 6
            assert len(msg.custom_ids()) == 5
            clip_id = int(next(c for c in msg.custom_ids() if "approve" in c).rsplit(":", 1)[1])

            click = await h.fake.inject_button(msg, f"clip:approve:{clip_id}", cast.reviewer)
            await updated(click)
            row = await h.app.clips.get(clip_id)
            assert row.status == "approved" and row.reviewed_by == cast.reviewer.id

            await h.restart()
            assert SLUG in h.services.hub.feeds, "the watch is restored after a restart"
            again = await h.fake.inject_button(msg, f"clip:reject:{clip_id}", cast.manager)
            await updated(again)
            assert (await h.app.clips.get(clip_id)).status == "rejected"
            posts = [m for m in h.review_messages() if f"clip:approve:{clip_id}" in m.custom_ids()]
            assert len(posts) == 1, "posted exactly once"
    finally:
        hls.stop()
