"""`python bot.py` as operators run it: a real process, real signals, the fake Discord."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import discord
import yaml

from tests.bot_harness import final_message
from tests.bot_process import bot_env, wait_for_log
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.kick_api import FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FakeKick
from tests.fakes.pusher_server import FakePusher

ROOT = Path(__file__).resolve().parent.parent


def test_missing_token_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bot.py")], cwd=tmp_path, env=bot_env(),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert not list(tmp_path.iterdir()), "a refused start leaves nothing behind"
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "DISCORD_TOKEN" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_config_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("clips:\n  before_s: soon\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "--config", str(bad)], cwd=tmp_path,
        env=bot_env(DISCORD_TOKEN="x"), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "clips.before_s: expected a number" in proc.stderr and "Traceback" not in proc.stderr


def test_a_database_that_cannot_be_opened_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "clipbot.sqlite3").write_bytes(b"this is not a database, it is a text file " * 100)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bot.py")], cwd=tmp_path,
        env=bot_env(
            DISCORD_TOKEN="x", CLIPBOT__STORAGE__DATA_DIR=str(data),
            CLIPBOT__DISCORD__API_BASE="http://127.0.0.1:9/api/v10",
        ),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    (line,) = [ln for ln in proc.stderr.splitlines() if "database" in ln]
    assert "cannot open the database" in line and "clipbot.sqlite3" in line
    assert "DatabaseError: file is not a database" in line


async def bot_health(cfg: Path, data: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "bot.py", "--config", str(cfg), "--health", cwd=ROOT,
        env=bot_env(CLIPBOT__STORAGE__DATA_DIR=str(data)), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode()


async def test_runs_against_discord_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """The whole life of a process: start, /watch through Kick's official API (so the client
    secret is used), healthy, SIGTERM, a clean stop; and neither secret in any log line, even
    at DEBUG level (set through a CLIPBOT__ variable, as the image does)."""
    async with FakeDiscord() as fake, FakeKick() as kick, FakePusher() as pusher:
        guild = fake.add_guild("Clippers")
        general = fake.add_channel(guild, "general")
        admins = fake.add_role(guild, "Admins", discord.Permissions(manage_guild=True))
        manager = fake.add_member(guild, "manager", roles=[admins])
        kick.add_channel("xqc", live=False, viewers=0)
        raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        raw["discord"].update(
            api_base=fake.api_base, gateway_url=fake.gateway_url, sync_guilds=[guild.id]
        )
        raw["kick"].update(kick.config_overrides(), **pusher.config_overrides())
        cfg = tmp_path / "config.yaml"
        cfg.write_text(yaml.safe_dump(raw), encoding="utf-8")
        data = tmp_path / "data"
        env = bot_env(
            DISCORD_TOKEN=fake.token,
            KICK_CLIENT_ID=FAKE_CLIENT_ID,
            KICK_CLIENT_SECRET=FAKE_CLIENT_SECRET,
            CLIPBOT__STORAGE__DATA_DIR=str(data),
            CLIPBOT__LOGGING__LEVEL="DEBUG",
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "bot.py", "--config", str(cfg), cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await fake.wait_for_sync(guild, timeout=30)
            await fake.wait_for_identify(1, timeout=30)
            rec = await fake.inject_slash(guild, general, manager, "watch", {"streamer": "xqc"})
            reply = await final_message(rec, timeout=30)
            assert "xqc" in (reply.content or "") + str(reply.embeds), reply
            assert kick.tokens_issued, "the official API was used, with the client secret"
            for _ in range(100):  # the heartbeat is written at once on READY, then every 15 s
                code, line = await bot_health(cfg, data)
                if code == 0 and "1 feeds running" in line:
                    break
                await asyncio.sleep(0.2)
            assert (code, line.split(":")[0]) == (0, "healthy"), line
            assert "gateway connected; 1 feeds running" in line
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            _out, err = await asyncio.wait_for(proc.communicate(), timeout=15)
            elapsed = time.monotonic() - started
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        text = err.decode()
        assert proc.returncode == 0, text
        assert elapsed < 10, f"stopped after {elapsed:.1f} s"
        assert "Traceback" not in text and "ERROR" not in text, text
        log_file = (data / "logs" / "clipbot.log").read_text(encoding="utf-8")
        assert "stopping (signal)" in log_file
        assert "DEBUG" in log_file, "the CLIPBOT__LOGGING__LEVEL override took effect"
        for secret in (fake.token, FAKE_CLIENT_SECRET):
            assert secret not in text and secret not in log_file
        assert fake.commands_for(guild), "slash commands were synced to the guild"
        assert not (data / "health.json").exists()
        code, line = await bot_health(cfg, data)
        assert code == 1 and line.startswith("unhealthy: no heartbeat")


async def test_waits_for_an_unreachable_discord_then_comes_up_by_itself(tmp_path: Path) -> None:
    """Network not up yet at boot: clear retry lines, no traceback, and the bot logs in as soon
    as Discord answers. Then SIGTERM still stops it cleanly."""
    fake = FakeDiscord()
    fake.port = free_port()
    guild = fake.add_guild("Clippers")
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["discord"].update(
        api_base=fake.api_base, gateway_url=fake.gateway_url, sync_guilds=[guild.id]
    )
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(raw), encoding="utf-8")
    env = bot_env(DISCORD_TOKEN=fake.token, CLIPBOT__STORAGE__DATA_DIR=str(tmp_path))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "bot.py", "--config", str(cfg), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await wait_for_log(tmp_path / "logs" / "clipbot.log", "cannot reach Discord")
        async with fake:  # Discord is back
            await fake.wait_for_sync(guild, timeout=30)
            await fake.wait_for_identify(1, timeout=30)
            proc.send_signal(signal.SIGTERM)
            _out, err = await asyncio.wait_for(proc.communicate(), timeout=15)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = err.decode()
    assert proc.returncode == 0, text
    assert "Traceback" not in text and "ERROR" not in text, text
    assert "retrying in" in text and fake.token not in text


async def test_sigterm_while_discord_is_unreachable_stops_at_once(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["discord"]["api_base"] = f"http://127.0.0.1:{free_port()}/api/v10"  # nobody listens
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(raw), encoding="utf-8")
    env = bot_env(DISCORD_TOKEN="x" * 20, CLIPBOT__STORAGE__DATA_DIR=str(tmp_path))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "bot.py", "--config", str(cfg), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await wait_for_log(tmp_path / "logs" / "clipbot.log", "cannot reach Discord")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(proc.communicate(), timeout=15)
        elapsed = time.monotonic() - started
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0 and elapsed < 5, (proc.returncode, elapsed, err.decode())
    assert "Traceback" not in err.decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
