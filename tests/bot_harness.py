"""The real ClipBot against local fakes: FakeDiscord, FakeKick and FakePusher on 127.0.0.1.

`BotHarness` starts the three fakes, a temp data dir and a Config pointing every URL at them,
builds the services with bot.build_services and runs a real ClipBot (discord.py unmodified)
that can be stopped and restarted on the same data dir, which is how restarts are tested. The
recorder runs stand-in processes (sleep / cat): these tests are about Discord, not video.

The `harness` fixture also fails a test that logged an ERROR it did not expect, hit a Discord
route the fake does not serve, or left tasks running.
"""

# ruff: noqa: ASYNC109  -- helpers take timeout= like the fakes' wait helpers

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest

from bot import ClipBot, Services, build_services
from engine.config import Config, HealthConfig, StorageConfig, load_config
from engine.core.app import App
from engine.events import Moment
from engine.media import probe as media_probe
from tests.conftest import seed_bars
from tests.fakes.discord_server import (
    Channel,
    FakeDiscord,
    Guild,
    InteractionRecord,
    Member,
    Message,
    Role,
)
from tests.fakes.hls_stream import FakeHLS
from tests.fakes.kick_api import FakeKick
from tests.fakes.pusher_server import FakePusher

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("tests.bot_harness")
UPLOAD_LIMIT = 1024 * 1024  # a small guild limit keeps "too large" files cheap


class HarnessBot(ClipBot):
    """ClipBot with test timings: no 2 s guild wait, no 5 s identify pause; `only` loads a
    subset of the cogs."""

    def __init__(self, services: Services, only: Sequence[str] | None = None) -> None:
        super().__init__(services, guild_ready_timeout=0.05)
        self._only = set(only) if only is not None else None

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Discord rate-limits IDENTIFY; the fake does not, so restarts take milliseconds."""

    async def load_extension(self, name: str, *, package: str | None = None) -> None:
        if self._only is not None and name not in self._only:
            log.info("harness: not loading %s", name)
            return
        await super().load_extension(name, package=package)


@dataclass
class Cast:
    """The test guild: a review channel, a command channel, roles and members."""

    guild: Guild
    review: Channel
    general: Channel
    managers: Role
    reviewers: Role
    manager: Member  # Manage Server
    reviewer: Member  # the reviewer role only
    plain: Member  # nothing
    closed: Member  # a reviewer whose DMs are closed


def _script(path: Path, body: str) -> str:
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


class BotHarness:
    def __init__(
        self,
        fake: FakeDiscord,
        kick: FakeKick,
        pusher: FakePusher,
        data_dir: Path,
        cogs: Sequence[str] | None = None,
        video: FakeHLS | None = None,
    ) -> None:
        self.fake, self.kick, self.pusher, self.data_dir = fake, kick, pusher, data_dir
        self.cogs = cogs
        self.video = video
        self.cast = self._world()
        self.config = self._config()
        bin_dir = data_dir / "bin"
        bin_dir.mkdir(parents=True, exist_ok=True)
        # Without a fake stream the recorder runs stand-ins; with one, real streamlink + ffmpeg.
        self.recorder_kwargs: dict[str, Any] = (
            {}
            if video
            else {
                "streamlink": [_script(bin_dir / "streamlink", "exec sleep 600")],
                "ffmpeg": _script(bin_dir / "ffmpeg", "exec cat >/dev/null"),
            }
        )
        self.bot: HarnessBot | None = None
        self._task: asyncio.Task[None] | None = None
        self._moments = 0
        self.expected_errors: list[re.Pattern[str]] = []

    def _world(self) -> Cast:
        fake = self.fake
        guild = fake.add_guild("Clippers", upload_limit=UPLOAD_LIMIT)
        review = fake.add_channel(guild, "clip-review")
        general = fake.add_channel(guild, "general")
        managers = fake.add_role(guild, "Admins", discord.Permissions(manage_guild=True))
        reviewers = fake.add_role(guild, "Reviewers")
        return Cast(
            guild,
            review,
            general,
            managers,
            reviewers,
            fake.add_member(guild, "manager", roles=[managers]),
            fake.add_member(guild, "reviewer", roles=[reviewers]),
            fake.add_member(guild, "plain"),
            fake.add_member(guild, fake.add_user("closed", dms_open=False), roles=[reviewers]),
        )

    def _config(self) -> Config:
        base = seed_bars(load_config(ROOT / "config.yaml"))
        d = self.data_dir
        urls: dict[str, Any] = {**self.kick.config_overrides(), **self.pusher.config_overrides()}
        kick = dataclasses.replace(
            base.kick, **urls, poll_interval_s=0.5, backoff_initial_s=0.01, backoff_max_s=0.05
        )
        if self.video is not None:  # real video: short windows and segments keep tests quick
            kick = dataclasses.replace(kick, stream_url=self.video.url_template("master"))
            base = dataclasses.replace(
                base,
                clips=dataclasses.replace(base.clips, before_s=8.0, after_s=6.0),
                recording=dataclasses.replace(
                    base.recording, segment_s=4.0, restart_backoff_initial_s=0.2
                ),
            )
        renditions = base.recording.renditions if self.video else ("best",)
        return dataclasses.replace(
            base,
            discord=dataclasses.replace(
                base.discord,
                api_base=self.fake.api_base,
                gateway_url=self.fake.gateway_url,
                sync_guilds=(self.cast.guild.id,),
            ),
            kick=kick,
            recording=dataclasses.replace(base.recording, renditions=renditions, stop_timeout_s=1),
            storage=StorageConfig(
                data_dir=str(d),
                database=str(d / "clipbot.sqlite3"),
                segments_dir=str(d / "segments"),
                clips_dir=str(d / "clips"),
            ),
            scheduler=dataclasses.replace(base.scheduler, disk_min_free_mb=0),
            health=HealthConfig(file=str(d / "health.json"), interval_s=0.5),
            web=dataclasses.replace(base.web, port=0),  # any free port: tests run in parallel
        )

    # -- the bot -------------------------------------------------------------------------------

    @property
    def services(self) -> Services:
        assert self.bot is not None, "the bot is not running"
        return self.bot.services

    @property
    def app(self) -> App:
        return self.services.app

    async def start(self) -> HarnessBot:
        services = await build_services(
            self.config, feed_kwargs={"recorder_kwargs": self.recorder_kwargs}
        )
        bot = HarnessBot(services, self.cogs)
        self.bot = bot
        self._task = asyncio.create_task(bot.start(self.fake.token), name="clipbot")
        ready = asyncio.ensure_future(bot.wait_until_ready())
        try:
            done, _ = await asyncio.wait(
                {self._task, ready}, timeout=10, return_when="FIRST_COMPLETED"
            )
            if ready not in done:
                if self._task in done:
                    self._task.result()  # login or setup_hook failed: raise why
                raise TimeoutError("the bot did not become ready")
        finally:
            ready.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ready
        return bot

    async def stop(self) -> None:
        if self.bot is None or self._task is None:
            return
        await self.bot.close()
        await self._task
        self.bot, self._task = None, None

    async def restart(self) -> HarnessBot:
        await self.stop()
        return await self.start()

    def expect_error(self, pattern: str) -> None:
        """Allow ERROR records matching `pattern` (a test that provokes one on purpose)."""
        self.expected_errors.append(re.compile(pattern))

    # -- driving it ----------------------------------------------------------------------------

    async def slash(
        self,
        member: Member,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        channel: Channel | None = None,
    ) -> InteractionRecord:
        return await self.fake.inject_slash(
            self.cast.guild,
            channel or self.cast.general,
            member,
            name,
            options,
            subcommand=subcommand,
        )

    async def answer(
        self,
        member: Member,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        subcommand: str | None = None,
    ) -> Message:
        """Run a slash command and return the message the member finally sees."""
        rec = await self.slash(member, name, options, subcommand=subcommand)
        return await final_message(rec)

    async def final_message(self, rec: InteractionRecord) -> Message:
        return await final_message(rec)

    async def setup_review(self) -> None:
        msg = await self.answer(
            self.cast.manager,
            "setup",
            {"channel": self.cast.review, "reviewer_role": self.cast.reviewers},
        )
        assert "Clips will be posted" in msg.content, msg.content

    async def ready_clip(
        self,
        streamer: str = "xqc",
        *,
        trigger: str = "keyword",
        triggers: Sequence[str] = (),
        preview: bytes | None = b"\x00\x00\x00\x18ftypmp42 fake preview",
        thumbnail: bytes | None = b"\xff\xd8\xff\xe0 fake jpeg",
    ) -> int:
        """A clip as the pipeline leaves it: a stored moment, files on disk, status ready."""
        self._moments += 1
        t = time.time() - 60 + self._moments
        moment = Moment(
            t=t,
            streamer=streamer,
            trigger=trigger,
            triggers=tuple(triggers or (trigger,)),
            confidence=0.87,
            clip_start=t - 20,
            clip_end=t + 25,
            details={
                "velocity": 42.5,
                "baseline": 6.1,
                "viewers": 15234,
                "samples": [
                    {"t": t, "user": f"fan{i}", "text": text}
                    for i, text in enumerate(["CLIP IT", "NO SHOT", "@everyone [emote:37226:KEKW]"])
                ],
            },
            key=f"{streamer}-{int(t * 1000)}",
        )
        clips = self.services.clips
        clip_id, _ = await clips.record_moment(self.cast.guild.id, moment)
        folder = Path(self.config.storage.clips_dir) / streamer
        folder.mkdir(parents=True, exist_ok=True)
        original = folder / f"{streamer}-{clip_id}.mp4"
        original.write_bytes(b"original " * 10)
        paths: dict[str, str | None] = {"original_path": str(original)}
        for key, data, suffix in (
            ("preview_path", preview, "-preview.mp4"),
            ("thumbnail_path", thumbnail, ".jpg"),
        ):
            path = folder / f"{streamer}-{clip_id}{suffix}"
            if data is not None:
                path.write_bytes(data)
            paths[key] = str(path) if data is not None else None
        assert await clips.transition(clip_id, ("detected",), status="ready", **paths)
        return clip_id

    async def post(self, clip_id: int) -> None:
        await self.services.extra["poster"](clip_id)

    def review_messages(self) -> list[Message]:
        return self.fake.channel_messages(self.cast.review)


async def final_message(rec: InteractionRecord, timeout: float = 5.0) -> Message:
    """The visible answer: the response message, or the followup that replaced "thinking"."""
    callback = await rec.response()
    if callback.type == 5:
        await rec.wait_followups(1, timeout)
    msg = rec.original if rec.original is not None else callback.message
    assert msg is not None, f"interaction answered with type {callback.type} and no message"
    return msg


async def clip_post(
    fake: FakeDiscord, channel: Channel, folder: Path, *, length_s: float, timeout: float = 120
) -> tuple[Message, Path]:
    """Wait for a clip's review message; check its video is a playable clip of `length_s`.

    Returns the message and the attached mp4, saved under `folder`.
    """
    msg = await fake.wait_for_message(
        lambda m: bool(m.attachments) and any("clip:approve" in c for c in m.custom_ids()),
        channel=channel,
        timeout=timeout,
    )
    video = msg.attachments[0]
    assert video.filename.endswith(".mp4")
    path = folder / video.filename
    path.write_bytes(msg.file(video.filename))
    info = media_probe.probe(path)
    assert info.has_video and info.has_audio
    assert info.duration == pytest.approx(length_s, abs=2.0)
    assert media_probe.is_faststart(path)
    return msg, path


@contextlib.asynccontextmanager
async def running_harness(
    tmp_path: Path, cogs: Sequence[str] | None = None, video: FakeHLS | None = None
) -> AsyncIterator[BotHarness]:
    async with (
        FakeDiscord() as fake,
        fake.patch_discord(),
        FakeKick() as kick,
        FakePusher() as pusher,
    ):
        h = BotHarness(fake, kick, pusher, tmp_path / "data", cogs, video)
        try:
            await h.start()
            yield h
        finally:
            await h.stop()
        fake.assert_clean()
        assert not kick.unknown_requests, [r.path for r in kick.unknown_requests]


@pytest.fixture
async def harness(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> AsyncIterator[BotHarness]:
    """A running bot; fails the test on unexpected ERROR logs or leftover tasks."""
    caplog.set_level(logging.INFO)
    async with running_harness(tmp_path) as h:
        yield h
    await _no_leftover_tasks()
    errors = [
        r
        for phase in ("setup", "call", "teardown")
        for r in caplog.get_records(phase)  # type: ignore[arg-type]
        if r.levelno >= logging.ERROR
        and not any(p.search(r.getMessage()) for p in h.expected_errors)
    ]
    assert not errors, [f"{r.name}: {r.getMessage()}" for r in errors]


async def _no_leftover_tasks(grace_s: float = 2.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace_s
    while True:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
        if not tasks or loop.time() > deadline:
            break
        await asyncio.sleep(0.02)
    assert not tasks, f"tasks left running: {tasks}"


async def updated(rec: InteractionRecord) -> None:
    """A click or modal submit handled the way the bot does it: acknowledged at once (type 6,
    before any database write), then the clicked message edited through @original."""
    callback = await rec.response()
    assert callback.type == 6, f"answered with type {callback.type}, not a deferred update"
    await rec.wait_original_edits(1)
