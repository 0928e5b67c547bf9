"""Health: the heartbeat verdicts, the real bot writing its heartbeat, and `bot.py --health`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from engine.core.health import (
    FeedHealth,
    Heartbeat,
    check_file,
    feed_health,
    read_heartbeat,
    verdict,
    write_heartbeat,
)
from tests.bot_process import bot_env
from tests.kick_world import eventually

if TYPE_CHECKING:  # registered as a plugin in conftest.py, so its asserts are rewritten
    from tests.bot_harness import BotHarness


ROOT = Path(__file__).resolve().parent.parent
NOW = 1_800_000_000.0


def beat(**kw: object) -> Heartbeat:
    base: dict[str, object] = {"t": NOW - 5, "pid": 1, "gateway_connected": True}
    base.update(kw)
    return Heartbeat(**base)  # type: ignore[arg-type]


def test_fresh_connected_heartbeat_is_healthy_and_says_what_it_sees() -> None:
    feeds = {
        "xqc": FeedHealth("running", live=True, chat_connected=True, recording=True),
        "amouranth": FeedHealth("running", live=False, chat_connected=True),
    }
    healthy, line = verdict(beat(feeds=feeds), NOW, 60)
    assert healthy
    assert "gateway connected" in line
    assert "2 feeds running (1 live, chat connected 2/2)" in line


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"t": NOW - 61}, "61 s old"),
        ({"gateway_connected": False}, "gateway is disconnected"),
        ({"feeds": {"xqc": FeedHealth("died", error="poller: boom")}}, "feed task died: xqc"),
    ],
)
def test_stale_disconnected_or_dead_feed_is_unhealthy(kw: dict, reason: str) -> None:
    healthy, line = verdict(beat(**kw), NOW, 60)
    assert not healthy
    assert reason in line


def test_a_channel_that_no_longer_exists_is_reported_but_not_unhealthy() -> None:
    """Restarting the container cannot bring a deleted channel back."""
    feeds = {"gone": FeedHealth("gave_up", error="no such Kick channel: gone")}
    healthy, line = verdict(beat(feeds=feeds, recording_paused=True), NOW, 60)
    assert healthy
    assert "not watching gone (channel not found)" in line
    assert "recording paused" in line


def test_feed_states_from_a_feeds_facts() -> None:
    facts = {"live": True, "chat_connected": True, "recording": True, "error": None}
    assert feed_health(task_done=False, task_error=None, running=True, **facts).state == "running"
    assert feed_health(task_done=False, task_error=None, running=False, **facts).state == "stopped"
    assert feed_health(task_done=True, task_error=None, running=True, **facts).state == "gave_up"
    died = feed_health(task_done=True, task_error=RuntimeError("boom"), running=True, **facts)
    assert died.state == "died" and "boom" in (died.error or "")


def test_heartbeat_round_trips_and_bad_files_are_clear(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "health.json"
    original = beat(feeds={"xqc": FeedHealth("running", live=True)})
    write_heartbeat(path, original)
    assert read_heartbeat(path) == original
    assert list(path.parent.iterdir()) == [path]  # no temp file left behind
    assert check_file(tmp_path / "missing.json", NOW, 60) == (
        False,
        f"no heartbeat at {tmp_path / 'missing.json'}: the bot is starting or not running",
    )
    path.write_text("{not json", encoding="utf-8")
    healthy, line = check_file(path, NOW, 60)
    assert not healthy and "cannot read" in line
    path.write_text(json.dumps({"t": NOW}), encoding="utf-8")
    healthy, line = check_file(path, NOW, 60)
    assert not healthy and "is not a heartbeat" in line


BOT_HEALTH = [sys.executable, str(ROOT / "bot.py"), "--health"]
LIGHT_HEALTH = [sys.executable, "-m", "engine.core.health"]  # the image's HEALTHCHECK


def run_health(data_dir: Path, cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd,
        cwd=data_dir,
        env=bot_env(  # --health needs no token
            CLIPBOT__STORAGE__DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT)
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("cmd", [BOT_HEALTH, LIGHT_HEALTH], ids=["bot.py", "engine.core.health"])
def test_health_command_exit_codes(tmp_path: Path, cmd: list[str]) -> None:
    proc = run_health(tmp_path, cmd)
    assert proc.returncode == 1
    assert proc.stdout.startswith("unhealthy: no heartbeat at")
    write_heartbeat(tmp_path / "health.json", beat(t=time.time()))
    proc = run_health(tmp_path, cmd)
    assert (proc.returncode, proc.stdout.split(":")[0]) == (0, "healthy"), proc.stdout
    write_heartbeat(tmp_path / "health.json", beat(t=time.time() - 3600))
    proc = run_health(tmp_path, cmd)
    assert proc.returncode == 1 and "the bot is stuck" in proc.stdout
    assert not (tmp_path / "logs").exists()  # a health probe writes nothing


def test_the_light_health_check_does_not_load_the_bot() -> None:
    """It runs every 30 s in the container: discord.py and the engine's media stack stay out."""
    code = (
        "import sys, engine.core.health; "
        "print(sorted({'discord', 'av', 'httpx'} & set(sys.modules)))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "[]"


async def wait_beat(
    path: Path, ok: Callable[[Heartbeat], bool], within_s: float = 10.0
) -> Heartbeat:
    """The first heartbeat the bot writes that satisfies `ok`."""
    seen: list[Heartbeat] = []

    def matching() -> bool:
        if path.exists():
            seen.append(read_heartbeat(path))
            return ok(seen[-1])
        return False

    await eventually(matching, within_s, step=0.05)
    return seen[-1]


async def test_real_bot_keeps_a_heartbeat_through_a_gateway_drop(harness: BotHarness) -> None:
    h = harness
    path = Path(h.config.health.file)
    first = await wait_beat(path, lambda b: b.gateway_connected)
    assert verdict(first, time.time(), h.config.health.max_age_s)[0]
    await h.setup_review()
    h.kick.add_channel("healthy", live=True, viewers=50)
    await h.answer(h.cast.reviewer, "watch", {"streamer": "healthy"})
    running = await wait_beat(path, lambda b: "healthy" in b.feeds and b.feeds["healthy"].live)
    assert running.feeds["healthy"].state == "running"
    assert running.t > first.t  # rewritten, not written once

    await h.fake.drop_gateway(4000)
    await h.fake.wait_for_resume()
    back = await wait_beat(path, lambda b: b.gateway_connected and b.t > running.t)
    assert verdict(back, time.time(), h.config.health.max_age_s)[0]

    await h.stop()
    assert not path.exists()  # a stopped bot is never "healthy"
