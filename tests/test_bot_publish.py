"""Publishing from Discord, end to end: the real ClipBot against FakeDiscord and FakeYouTube.

An approved clip's card gets a Publish button (reviewers only); the click queues the job, the
card follows it (queued, rendering, uploading n%, published with the link), a failure shows its
reason and a Retry button, and `/publish layout` stores a streamer's rectangles and answers
with a preview frame."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image

from engine.media import probe
from tests.bot_harness import updated
from tests.fakes.discord_server import Message
from tests.fakes.youtube_api import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, FakeYouTube
from tests.publish_support import make_source

if TYPE_CHECKING:
    from tests.bot_harness import BotHarness


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("botpub") / "src.mp4", seconds=3.0)


@pytest.fixture
async def youtube(harness: BotHarness, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The harness bot restarted with publishing pointed at a FakeYouTube it is connected to."""
    async with FakeYouTube() as fake:
        monkeypatch.setenv("YOUTUBE_CLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("YOUTUBE_CLIENT_SECRET", CLIENT_SECRET)
        cfg = harness.config
        yt = dataclasses.replace(cfg.publish.youtube, **fake.config_overrides(), chunk_mb=0.25)
        harness.config = dataclasses.replace(
            cfg, publish=dataclasses.replace(cfg.publish, youtube=yt, preset="ultrafast")
        )
        await harness.restart()
        assert harness.services.publisher is not None
        store = harness.services.publisher.service.store
        await store.save_refresh_token("youtube", REFRESH_TOKEN, "youtube", "Fake Clips Channel")
        yield fake
        await harness.stop()  # before the fake goes: no upload is left talking to it


def field(msg: Message, name: str) -> str | None:
    return next((f["value"] for f in msg.embeds[0]["fields"] if f["name"] == name), None)


def link_buttons(msg: Message) -> list[str]:
    return [c["url"] for row in msg.components for c in row["components"] if c.get("url")]


async def until(check: Any, limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def approved_card(h: BotHarness, source: Path) -> tuple[int, Message]:
    clip_id = await h.ready_clip()
    row = await h.app.clips.get(clip_id)
    Path(row.original_path).write_bytes(source.read_bytes())  # a real video to render
    await h.post(clip_id)
    msg = await h.fake.wait_for_message(
        lambda m: f"clip:approve:{clip_id}" in m.custom_ids(), channel=h.cast.review
    )
    assert f"publish:go:{clip_id}" not in msg.custom_ids()  # not before approval
    click = await h.fake.inject_button(msg, f"clip:approve:{clip_id}", h.cast.reviewer)
    await updated(click)
    assert f"publish:go:{clip_id}" in msg.custom_ids()
    return clip_id, msg


async def test_publish_button_follows_the_job_to_the_video_link(
    harness: BotHarness, youtube: FakeYouTube, source: Path
) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    clip_id, msg = await approved_card(h, source)

    refused = await h.fake.inject_button(msg, f"publish:go:{clip_id}", cast.plain)
    answer = await refused.response()
    assert answer.ephemeral and "Only reviewers" in (answer.content or "")
    assert await h.services.publisher.service.jobs(clip_id) == []  # type: ignore[union-attr]

    seen: list[str] = []
    click = await h.fake.inject_button(msg, f"publish:go:{clip_id}", cast.reviewer)
    assert (await click.response()).type == 7
    await until(lambda: seen.append(field(msg, "YouTube") or "") or "published" in seen[-1])
    shown = field(msg, "YouTube") or ""
    (video,) = youtube.videos.values()
    assert shown == f"✅ published: https://youtube.com/shorts/{video.video_id}"
    assert link_buttons(msg) == [f"https://youtube.com/shorts/{video.video_id}"]
    assert any(s.startswith("⏳ queued") for s in seen) or any("rendering" in s for s in seen)

    service = h.services.publisher.service  # type: ignore[union-attr]
    again = await service.enqueue(cast.guild.id, clip_id, "youtube", cast.manager.id)
    assert not again.created and again.message.startswith("Already published: https://")
    assert len(youtube.videos) == 1 and len(youtube.sessions) == 1
    uploaded = h.data_dir / "uploaded.mp4"
    uploaded.write_bytes(bytes(video.data))
    info = probe.probe(uploaded)
    assert (info.width, info.height, info.video_codec, info.audio_codec) == (
        1080, 1920, "h264", "aac"
    )  # fmt: skip
    assert info.duration == pytest.approx(3.0, abs=0.3)


async def test_failure_shows_the_reason_and_retry_publishes(
    harness: BotHarness, youtube: FakeYouTube, source: Path
) -> None:
    h, cast = harness, harness.cast
    h.expect_error(r"publishing to youtube failed: YouTube: this channel reached its upload limit")
    await h.setup_review()
    clip_id, msg = await approved_card(h, source)
    youtube.scripts.upload_limit = True
    click = await h.fake.inject_button(msg, f"publish:go:{clip_id}", cast.reviewer)
    await click.response()
    await until(lambda: f"publish:retry:{clip_id}" in msg.custom_ids())
    assert (field(msg, "YouTube") or "").startswith(
        "⚠️ failed: YouTube: this channel reached its upload limit (uploadLimitExceeded)"
    )
    youtube.scripts.upload_limit = False
    await h.restart()  # the Retry button is a DynamicItem: it still works after a restart
    retry = await h.fake.inject_button(msg, f"publish:retry:{clip_id}", cast.reviewer)
    assert (await retry.response()).type == 7
    await until(lambda: "published" in (field(msg, "YouTube") or ""))
    assert len(youtube.videos) == 1


async def test_publish_layout_stores_rectangles_and_shows_a_preview(
    harness: BotHarness, youtube: FakeYouTube, source: Path
) -> None:
    h, cast = harness, harness.cast
    await h.setup_review()
    await h.answer(cast.manager, "watch", {"streamer": "xqc"})
    options = {"streamer": "xqc", "layout": "split", "facecam": "0,0,25,30",
               "gameplay": "12.5,0,75,100"}  # fmt: skip
    refused = await h.answer(cast.plain, "publish", options, subcommand="layout")
    assert "Only reviewers" in refused.content
    bad = await h.answer(cast.reviewer, "publish", {**options, "facecam": "90,0,30,30"},
                         subcommand="layout")  # fmt: skip
    assert "reaches past the frame's edge" in bad.content
    no_clip = await h.answer(cast.reviewer, "publish", options, subcommand="layout")
    assert "No clip of xqc on disk yet" in no_clip.embeds[0]["footer"]["text"]

    clip_id, _ = await approved_card(h, source)
    shown = await h.answer(cast.reviewer, "publish", {"streamer": "xqc"}, subcommand="layout")
    embed = shown.embeds[0]
    assert "split: facecam 0,0,25,30 over gameplay 12.5,0,75,100" in embed["description"]
    assert embed["footer"]["text"].startswith(f"Preview: a frame of clip #{clip_id}")
    png = Image.open(io.BytesIO(shown.file("layout-preview.png")))
    assert png.size == (540, 960)
    layout = await h.services.publisher.service.layouts.get(cast.guild.id, "xqc")  # type: ignore[union-attr]
    assert layout.kind == "split" and layout.facecam is not None and layout.facecam.w == 0.25


async def test_auto_publish_of_approved_clips_above_the_score(
    harness: BotHarness, youtube: FakeYouTube, source: Path
) -> None:
    h = harness
    h.config = dataclasses.replace(
        h.config, publish=dataclasses.replace(h.config.publish, auto_publish_min_score=0.8)
    )
    await h.restart()
    await h.setup_review()
    clip_id, msg = await approved_card(h, source)  # confidence 0.87 >= 0.8: no click needed
    await until(lambda: "published" in (field(msg, "YouTube") or ""))
    (job,) = await h.services.publisher.service.jobs(clip_id)  # type: ignore[union-attr]
    assert job.requested_by is None and len(youtube.videos) == 1


async def test_the_dashboard_publishes_too_and_shows_the_job(
    harness: BotHarness, youtube: FakeYouTube, source: Path
) -> None:
    """The clip page's Publish section and POST /api/clips/{id}/publish call the same service
    as the card's button: one job, one video, refused before approval."""
    from tests.web_client import logged_in

    h = harness
    await h.setup_review()
    clip_id, _ = await approved_card(h, source)
    pending = await h.ready_clip()
    async with logged_in(h, h.cast.reviewer) as user:
        status, body = await user.call("POST", f"/api/clips/{pending}/publish")
        assert status == 400 and "approved" in body["error"]
        async with user.http.get(f"{user.base}/clips/{clip_id}") as r:
            page = await r.text()
        assert 'id="publish"' in page and "Not published yet." in page
        status, body = await user.call("POST", f"/api/clips/{clip_id}/publish")
        assert status == 200 and body["changed"] and body["publish"][0]["target"] == "youtube"
        service = h.services.publisher.service  # type: ignore[union-attr]

        async def published() -> bool:
            return any(j.state == "published" for j in await service.jobs(clip_id))

        deadline = time.monotonic() + 60
        while not await published():
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.1)
        status, body = await user.call("GET", f"/api/clips/{clip_id}")
        assert body["publish"][0]["state"] == "published" and body["publish"][0]["url"]
        status, body = await user.call("POST", f"/api/clips/{clip_id}/publish")
        assert status == 200 and not body["changed"] and "Already published" in body["message"]
    assert len(youtube.videos) == 1
