"""Publishing end to end below Discord: a real vertical render, the real resumable-upload client
against FakeYouTube (partial 308s, a dropped connection, an expired token), exactly once across
a restart mid-upload, quota waits and the errors an operator must act on. Uploaded bytes are
probed with PyAV."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.core.app import UserError
from engine.media import probe
from publishing.model import next_quota_reset
from tests.fakes.youtube_api import FakeYouTube
from tests.publish_support import (
    GUILD,
    approved_clip,
    make_source,
    open_world,
    publish_config,
    wait_state,
)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("pubsrc") / "xqc-1.mp4", seconds=4.0)


def _clip_copy(source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / source.name
    dest.write_bytes(source.read_bytes())
    return dest


async def test_vertical_upload_survives_partial_progress_a_drop_and_token_expiry(
    tmp_path: Path, source: Path
) -> None:
    async with FakeYouTube() as fake:
        fake.scripts.keep_less = 1
        fake.scripts.drop, fake.scripts.drop_after_chunks = 1, 2
        fake.scripts.expire_token = 1
        world = await open_world(tmp_path / "db.sqlite3", fake, publish_config(fake))
        try:
            clip_id = await approved_clip(world.clips, _clip_copy(source, tmp_path / "clips"))
            await world.service.start()
            first = await world.service.enqueue(GUILD, clip_id, "youtube", 42)
            again = await world.service.enqueue(GUILD, clip_id, "youtube", 43)
            assert first.created and not again.created and again.job.id == first.job.id
            job = await wait_state(world.store, first.job.id, "published", "failed")
            assert job.state == "published", job.error
        finally:
            await world.close()
    assert len(fake.videos) == 1 and len(fake.sessions) == 1
    assert (fake.scripts.keep_less, fake.scripts.drop, fake.scripts.expire_token) == (0, 0, 0)
    video = next(iter(fake.videos.values()))
    assert (
        job.remote_id == video.video_id and job.url == f"https://youtube.com/shorts/{job.remote_id}"
    )
    assert fake.refreshes == 2  # the first token, then again after the 401
    uploaded = tmp_path / "uploaded.mp4"
    uploaded.write_bytes(bytes(video.data))
    assert uploaded.read_bytes() == Path(job.file_path).read_bytes()
    info = probe.probe(uploaded)
    assert (info.width, info.height) == (1080, 1920)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.duration == pytest.approx(4.0, abs=0.3)
    assert probe.is_faststart(uploaded)
    snippet = video.metadata["snippet"]
    assert snippet["title"] == "xqc: hype moment #Shorts"
    assert (
        "https://kick.com/xqc" in snippet["description"] and "hype moment" in snippet["description"]
    )
    assert snippet["tags"] == ["kick", "clips", "xqc"]
    assert video.metadata["status"]["privacyStatus"] == "private"
    states = [s for s, _ in world.announced]
    assert states[0] == "queued" and states[-1] == "published"
    assert {"rendering", "uploading"} <= set(states)
    assert any(s == "rendering" and p > 0 for s, p in world.announced)  # ffmpeg's progress
    progress = [p for s, p in world.announced if s == "uploading"]
    assert progress == sorted(progress) and len(progress) <= 12  # throttled, never backwards


async def test_restart_mid_upload_resumes_the_same_session_and_uploads_once(
    tmp_path: Path, source: Path
) -> None:
    db_path = tmp_path / "db.sqlite3"
    async with FakeYouTube() as fake:
        config = publish_config(fake)
        fake.scripts.hold_after_chunks = 3
        world = await open_world(db_path, fake, config)
        clip_id = await approved_clip(world.clips, _clip_copy(source, tmp_path / "clips"))
        await world.service.start()
        job_id = (await world.service.enqueue(GUILD, clip_id)).job.id
        await wait_state(world.store, job_id, "uploading")
        while not fake.held:  # bounded by the test timeout; the 4th chunk is in flight
            await world.service.jobs(clip_id)
        job = await world.store.get(job_id)
        assert job.session_uri and job.session_uri.endswith("/s1")
        await world.close()  # the bot stops mid-chunk (as a crash would, from the row's view)
        fake.scripts.hold_after_chunks = None
        fake.scripts.release.set()

        world = await open_world(db_path, fake, config)
        try:
            await world.service.start()  # resumes the stored job by itself
            job = await wait_state(world.store, job_id, "published", "failed")
        finally:
            await world.close()
    assert job.state == "published", job.error
    assert list(fake.sessions) == ["s1"] and len(fake.videos) == 1
    assert ("PUT", "/upload/sessions/s1") in fake.requests
    assert bytes(fake.videos[job.remote_id].data) == Path(job.file_path).read_bytes()


async def test_quota_waits_until_midnight_pacific_then_publishes(
    tmp_path: Path, source: Path, caplog: pytest.LogCaptureFixture
) -> None:
    now = [datetime(2026, 3, 10, 20, 0, tzinfo=UTC).timestamp()]  # 13:00 in Los Angeles (PDT)
    async with FakeYouTube() as fake:
        fake.scripts.quota = True
        world = await open_world(
            tmp_path / "db.sqlite3", fake, publish_config(fake), lambda: now[0]
        )
        try:
            clip_id = await approved_clip(world.clips, _clip_copy(source, tmp_path / "clips"))
            job_id = (await world.service.enqueue(GUILD, clip_id)).job.id
            await world.service.run_job(job_id)
            job = await world.store.get(job_id)
            reset = datetime(2026, 3, 11, 7, 0, tzinfo=UTC).timestamp()  # 00:00 PDT
            assert job.state == "queued" and job.not_before == reset == next_quota_reset(now[0])
            assert "quota" in job.error and "midnight Pacific" in job.error
            assert "quota is used up" in caplog.text
            await world.service.run_job(job_id)  # woken early: still waits, sends nothing
            assert (await world.store.get(job_id)).state == "queued"
            fake.scripts.quota = False
            now[0] = reset + 1
            await world.service.run_job(job_id)
            job = await world.store.get(job_id)
        finally:
            await world.close()
    assert job.state == "published" and len(fake.videos) == 1


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("upload_limit", "reached its upload limit (uploadLimitExceeded)"),
        ("revoked", "revoked the bot's access (invalid_grant)"),
        ("invalid_client", "rejected YOUTUBE_CLIENT_ID/YOUTUBE_CLIENT_SECRET (invalid_client)"),
        ("expire_token", "rejected the bot's credentials (401 twice, invalid credentials)"),
    ],
)
async def test_errors_an_operator_must_act_on_fail_the_job_with_one_line(
    tmp_path: Path, source: Path, caplog: pytest.LogCaptureFixture, script: str, expected: str
) -> None:
    caplog.set_level(logging.INFO)
    async with FakeYouTube() as fake:
        setattr(fake.scripts, script, 2 if script == "expire_token" else True)
        world = await open_world(tmp_path / "db.sqlite3", fake, publish_config(fake))
        try:
            clip_id = await approved_clip(world.clips, _clip_copy(source, tmp_path / "clips"))
            job_id = (await world.service.enqueue(GUILD, clip_id)).job.id
            await world.service.run_job(job_id)
            job = await world.store.get(job_id)
            assert job.state == "failed" and expected in job.error and "\n" not in job.error
            errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
            assert len(errors) == 1 and expected in errors[0]
            setattr(fake.scripts, script, 0 if script == "expire_token" else False)
            retried = await world.service.retry(GUILD, clip_id)
            assert retried.created and retried.job.state == "queued"
            await world.service.run_job(job_id)
            assert (await world.store.get(job_id)).state == "published"
        finally:
            await world.close()
    assert "fake-yt-secret" not in caplog.text and "refresh-token" not in caplog.text
    assert "ya29." not in caplog.text


async def test_only_approved_clips_and_a_connected_channel(tmp_path: Path, source: Path) -> None:
    async with FakeYouTube() as fake:
        world = await open_world(tmp_path / "db.sqlite3", fake, publish_config(fake))
        try:
            clip_id = await approved_clip(world.clips, _clip_copy(source, tmp_path / "clips"))
            await world.clips.transition(clip_id, None, status="posted")
            with pytest.raises(UserError, match="Only approved clips"):
                await world.service.enqueue(GUILD, clip_id)
            with pytest.raises(UserError, match="no longer exists"):
                await world.service.enqueue(GUILD + 1, clip_id)
            await world.clips.transition(clip_id, None, status="approved")
            await world.db.execute("DELETE FROM oauth_tokens")
            with pytest.raises(UserError, match="--youtube-auth"):
                await world.service.enqueue(GUILD, clip_id)
            assert await world.service.jobs(clip_id) == []
        finally:
            await world.close()


async def test_review_hook_prerenders_on_approval_and_cleans_up_on_delete(
    tmp_path: Path, source: Path
) -> None:
    async with FakeYouTube() as fake:
        config = publish_config(fake, render_on_approval=True)
        world = await open_world(tmp_path / "db.sqlite3", fake, config)
        try:
            original = _clip_copy(source, tmp_path / "clips")
            clip_id = await approved_clip(world.clips, original)
            await world.service.start()
            await world.service.on_review(await world.clips.get(clip_id), "approve")
            renders: list[Path] = []
            while not renders:  # bounded by the test timeout: a real render runs
                await asyncio.sleep(0.05)
                renders = list(original.parent.glob("xqc-1-vertical-*.mp4"))
            assert probe.probe(renders[0]).height == 1920
            assert await world.service.jobs(clip_id) == []  # rendered, not published
            await world.clips.transition(clip_id, None, status="deleted")
            await world.service.on_review(await world.clips.get(clip_id), "delete")
            assert list(original.parent.glob("*-vertical-*")) == []
        finally:
            await world.close()
    assert fake.videos == {}


async def test_answer_lost_after_the_last_chunk_is_not_a_second_video(
    tmp_path: Path, source: Path
) -> None:
    """The original file (no render); the final 201 never arrives: asking the session finds the
    finished video instead of uploading it again."""
    async with FakeYouTube() as fake:
        fake.scripts.drop_final = True
        base = publish_config(fake)
        yt = dataclasses.replace(base.publish.youtube, variant="original")
        config = dataclasses.replace(base, publish=dataclasses.replace(base.publish, youtube=yt))
        world = await open_world(tmp_path / "db.sqlite3", fake, config)
        try:
            original = _clip_copy(source, tmp_path / "clips")
            clip_id = await approved_clip(world.clips, original, title="Big <moment>")
            job_id = (await world.service.enqueue(GUILD, clip_id)).job.id
            # Woken twice at once (two workers, the timer and a retry): one run, one upload.
            await asyncio.gather(world.service.run_job(job_id), world.service.run_job(job_id))
            job = await world.store.get(job_id)
        finally:
            await world.close()
    assert job.state == "published" and job.file_path == str(original)
    assert len(fake.sessions) == 1
    assert len(fake.videos) == 1 and not fake.scripts.drop_final
    video = fake.videos[job.remote_id]
    assert job.url == f"https://youtu.be/{job.remote_id}"  # not vertical: not a Short
    assert video.metadata["snippet"]["title"] == "Big ‹moment›"
    assert bytes(video.data) == original.read_bytes()
