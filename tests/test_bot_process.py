"""`python bot.py` as operators run it: a real process, real signals, the fake Discord."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.fakes.discord_server import FakeDiscord
from tests.fakes.kick_api import FakeKick

ROOT = Path(__file__).resolve().parent.parent


def env_without_token(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "KICK_CLIENT_SECRET")}
    env.update(extra)
    return env


def test_missing_token_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bot.py")], cwd=tmp_path, env=env_without_token(),
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
        env=env_without_token(DISCORD_TOKEN="x"), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "clips.before_s: expected a number" in proc.stderr and "Traceback" not in proc.stderr


async def test_runs_against_discord_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    async with FakeDiscord() as fake, FakeKick() as kick:
        guild = fake.add_guild("Clippers")
        raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        raw["discord"].update(
            api_base=fake.api_base, gateway_url=fake.gateway_url, sync_guilds=[guild.id]
        )
        raw["kick"].update(kick.config_overrides())
        data = tmp_path / "data"
        raw["storage"] = {
            "data_dir": str(data), "database": str(data / "db.sqlite3"),
            "segments_dir": str(data / "segments"), "clips_dir": str(data / "clips"),
        }  # fmt: skip
        raw["logging"]["file"] = str(data / "logs" / "bot.log")
        cfg = tmp_path / "config.yaml"
        cfg.write_text(yaml.safe_dump(raw), encoding="utf-8")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "bot.py", "--config", str(cfg), cwd=ROOT,
            env=env_without_token(DISCORD_TOKEN=fake.token),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await fake.wait_for_sync(guild, timeout=30)
            await fake.wait_for_identify(1, timeout=30)
            await asyncio.sleep(0.5)
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
        assert fake.token not in text
        log_file = (data / "logs" / "bot.log").read_text(encoding="utf-8")
        assert "stopping (signal)" in log_file and fake.token not in log_file
        assert fake.commands_for(guild), "slash commands were synced to the guild"
