"""The Docker image as operators run it, with podman: `--check`, a missing token, non-root with
a /data volume, and a whole life inside the container against the project's fakes on the host
network: healthy once connected, /setup and /watch, a chat burst, a real clip cut by the image's
own streamlink and Debian ffmpeg and posted with its mp4, then `podman stop` within 10 s.

Skipped unless CLIPBOT_IMAGE names a built image: tests/docker/build.sh builds it (root, apt and
a few minutes) and runs these.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import discord
import pytest

from tests.bot_harness import clip_post, final_message
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.hls_stream import FakeHLS, FakeMedia
from tests.fakes.kick_api import FakeKick
from tests.fakes.pusher_server import FakePusher, emote

IMAGE = os.environ.get("CLIPBOT_IMAGE", "")
pytestmark = [
    pytest.mark.skipif(not IMAGE, reason="run by tests/docker/build.sh (needs podman, root)"),
    pytest.mark.slow,
]
SLUG = "containerclip"
# podman's periodic healthchecks need systemd timers, absent here; `podman healthcheck run`
# runs the image's HEALTHCHECK command on demand instead.
RUN = ("run", "--network=host", "--health-interval=disable")


def podman(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


async def apodman(*args: str, limit_s: float = 120) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(podman, *args, timeout=limit_s)


def free_port() -> int:
    """A port free on the host: the containers share its network (--network=host)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - http://127.0.0.1
        return int(resp.status)


def test_check_passes_inside_the_image() -> None:
    proc = podman(
        *RUN, "--rm", "-e", "DISCORD_TOKEN=not-a-real-token", "-e", "CLIPBOT_CHECK_OFFLINE=1",
        "-e", f"CLIPBOT__WEB__PORT={free_port()}", IMAGE, "--check",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for name in ("ffmpeg", "streamlink", "chromium", "writable: /data", "web: dashboard can"):
        assert any(x.startswith("OK") and name in x for x in lines), (name, lines)
    assert lines[-1] == "all checks OK"
    assert "not-a-real-token" not in proc.stdout + proc.stderr


def test_missing_token_is_one_line_and_exit_2() -> None:
    proc = podman(*RUN, "--rm", IMAGE)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "DISCORD_TOKEN is not set" in proc.stderr and "Traceback" not in proc.stderr


def test_runs_as_a_non_root_user_that_owns_data() -> None:
    proc = podman(
        *RUN, "--rm", "--entrypoint", "sh", IMAGE, "-c", "id -u; stat -c %u /data; touch /data/x"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["10001", "10001"]


def test_chromium_runs_headless_for_streamlinks_kick_plugin() -> None:
    """The Debian wrapper adds CHROMIUM_FLAGS (no sandbox inside a container)."""
    proc = podman(
        *RUN, "--rm", "--entrypoint", "chromium", IMAGE, "--headless",
        "--disable-gpu", "--dump-dom", "data:text/html,<p id=ok>chromium works</p>",
        timeout=60,
    )  # fmt: skip
    assert "chromium works" in proc.stdout, proc.stderr[-2000:]


async def wait_until(check: object, within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_clip_is_cut_and_posted_from_inside_the_container(
    fake_media: FakeMedia, tmp_path: Path
) -> None:
    hls = FakeHLS(fake_media).start()
    name = f"clipbot-test-{uuid.uuid4().hex[:8]}"
    async with FakeDiscord() as fake, FakeKick() as kick, FakePusher() as pusher:
        guild = fake.add_guild("Clippers")
        review = fake.add_channel(guild, "clip-review")
        general = fake.add_channel(guild, "general")
        admins = fake.add_role(guild, "Admins", discord.Permissions(manage_guild=True))
        reviewers = fake.add_role(guild, "Reviewers")
        manager = fake.add_member(guild, "manager", roles=[admins])
        channel = kick.add_channel(SLUG, live=True, viewers=4321, title="Boss fight")
        hls.go_live(SLUG)
        env = {
            "DISCORD_TOKEN": fake.token,
            "CLIPBOT__DISCORD__API_BASE": fake.api_base,
            "CLIPBOT__DISCORD__GATEWAY_URL": fake.gateway_url,
            "CLIPBOT__DISCORD__SYNC_GUILDS": f"[{guild.id}]",
            **{f"CLIPBOT__KICK__{k.upper()}": v for k, v in kick.config_overrides().items()},
            **{f"CLIPBOT__KICK__{k.upper()}": v for k, v in pusher.config_overrides().items()},
            "CLIPBOT__KICK__STREAM_URL": hls.url_template("master"),
            "CLIPBOT__KICK__POLL_INTERVAL_S": "1",
            "CLIPBOT__RECORDING__SEGMENT_S": "4",
            "CLIPBOT__CLIPS__BEFORE_S": "8",
            "CLIPBOT__CLIPS__AFTER_S": "6",
            "CLIPBOT__SCHEDULER__DISK_MIN_FREE_MB": "0",
            # The seed's fixed bars, as tests/bot_harness uses: the scripted burst comes a few
            # seconds after /watch, before the adaptive bars have seen this channel's chat.
            "CLIPBOT__TRIGGERS__ADAPTIVE__ENABLED": "false",
            "CLIPBOT__WEB__PORT": str(web_port := free_port()),  # the image binds 0.0.0.0
        }
        args = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
        started = await apodman(*RUN, "-d", "--name", name, "-v", f"{name}:/data", *args, IMAGE)
        assert started.returncode == 0, started.stderr
        try:
            await fake.wait_for_sync(guild, timeout=60)

            async def healthy() -> bool:
                return (await apodman("healthcheck", "run", name)).returncode == 0

            await wait_until(healthy, 30, "the container to report healthy")
            healthz = f"http://127.0.0.1:{web_port}/healthz"
            assert await asyncio.to_thread(http_status, healthz) == 200  # the dashboard is up

            setup = await fake.inject_slash(
                guild, general, manager, "setup", {"channel": review, "reviewer_role": reviewers}
            )
            assert "Clips will be posted" in (await final_message(setup, 30)).content
            watch = await fake.inject_slash(guild, general, manager, "watch", {"streamer": SLUG})
            answer = await final_message(watch, 30)
            assert "live" in answer.content.lower() and "4,321" in answer.content, answer.content

            async def recorded_12_s() -> bool:
                ls = await apodman("exec", name, "sh", "-c", f"ls /data/segments/{SLUG}/best")
                return len([f for f in ls.stdout.split() if f.endswith(".ts")]) >= 4

            await wait_until(recorded_12_s, 60, "12 s of recorded segments")
            for i in range(10):
                await pusher.send_chat(channel.chatroom_id, f"fan{i}", "CLIP IT " + emote("KEKW"))
            await clip_post(fake, review, tmp_path, length_s=14.0)  # 8 s before + 6 s after

            health = await apodman("exec", name, "python", "/app/bot.py", "--health")
            assert health.stdout.startswith("healthy: gateway connected; 1 feeds running (1 live")

            t0 = time.monotonic()
            stopped = await apodman("stop", "-t", "10", name)
            elapsed = time.monotonic() - t0
            assert stopped.returncode == 0, stopped.stderr
            assert elapsed < 10, f"stopped after {elapsed:.1f} s"
            state = await apodman("inspect", name, "--format", "{{.State.ExitCode}}")
            assert state.stdout.strip() == "0"
            logs = await apodman("logs", name)
            text = logs.stdout + logs.stderr
            assert "stopping (signal)" in text and "Traceback" not in text, text[-3000:]
            assert fake.token not in text
            files = await apodman(
                "run", "--rm", "-v", f"{name}:/data", "--entrypoint", "ls", IMAGE, "/data",
                "/data/logs",
            )  # fmt: skip
            for expected in ("clipbot.sqlite3", "clips", "segments", "clipbot.log"):
                assert expected in files.stdout.split(), files.stdout
        finally:
            await apodman("rm", "-f", name)
            await apodman("volume", "rm", "-f", name)
            hls.stop()
