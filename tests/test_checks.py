"""`python bot.py --check`: one line per check with OK/FAIL/WARN and a hint, as a real process."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.bot_process import bot_env
from tests.fakes.kick_api import FakeKick

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "tok-123456789"  # a stand-in; --check must never print it


async def check(
    tmp_path: Path, *, token: str | None = TOKEN, path: str | None = None, **env: str
) -> tuple[int, list[str]]:
    child = bot_env(CLIPBOT__STORAGE__DATA_DIR=str(tmp_path / "data"))
    if token is not None:
        child["DISCORD_TOKEN"] = token
    if path is not None:
        child["PATH"] = path
    child.update(env)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), "--check", cwd=tmp_path, env=child,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert "Traceback" not in err.decode(), err.decode()
    return proc.returncode or 0, out.decode().splitlines()


def line(lines: list[str], name: str) -> str:
    return next(x for x in lines if x[6:].startswith(f"{name}:"))


async def test_a_good_setup_passes_every_check(tmp_path: Path) -> None:
    async with FakeKick() as kick:
        code, lines = await check(tmp_path, CLIPBOT__KICK__API_BASE=kick.base_url)
    assert code == 0, lines
    for name in ("config", "discord token", "ffmpeg", "streamlink", "kick"):
        assert line(lines, name).startswith("OK    "), lines
    writable = [x for x in lines if "writable:" in x]
    assert {Path(x.split(": ", 1)[1]).name for x in writable} >= {"data", "segments", "clips"}
    assert all(x.startswith("OK") for x in writable)
    assert lines[-1] == "all checks OK"
    assert TOKEN not in "\n".join(lines)
    assert (tmp_path / "data" / "segments").is_dir()  # the check made the folders it needs


async def test_missing_token_fails_with_a_hint(tmp_path: Path) -> None:
    code, lines = await check(tmp_path, token=None, CLIPBOT_CHECK_OFFLINE="1")
    assert code == 1
    token = line(lines, "discord token")
    assert token == (
        "FAIL  discord token: not set (hint: put DISCORD_TOKEN in the environment or in .env)"
    )
    assert all(x[:4] in ("OK  ", "FAIL", "WARN") for x in lines[:-1]), "one line per check"
    assert lines[-1].endswith("checks failed")


async def test_a_dead_ffmpeg_and_an_unwritable_data_folder_fail(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    dead = bin_dir / "ffmpeg"
    dead.write_text("#!/bin/sh\necho 'ffmpeg: cannot load libavcodec' >&2\nexit 127\n")
    dead.chmod(0o755)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    code, lines = await check(
        tmp_path,
        path=f"{bin_dir}:{os.environ['PATH']}",
        CLIPBOT_CHECK_OFFLINE="1",
        CLIPBOT__STORAGE__DATA_DIR=str(blocker),
    )
    assert code == 1
    assert line(lines, "ffmpeg").startswith("FAIL") and "libavcodec" in line(lines, "ffmpeg")
    bad = [x for x in lines if x.startswith("FAIL  writable:")]
    assert bad and all(str(blocker) in x for x in bad)


async def test_kick_refusing_us_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    async with FakeKick() as kick:
        kick.fail_next(403)
        code, lines = await check(tmp_path, CLIPBOT__KICK__API_BASE=kick.base_url)
    assert code == 0, lines
    assert line(lines, "kick").startswith("WARN") and "403" in line(lines, "kick")


async def test_unreachable_kick_is_a_warning(tmp_path: Path) -> None:
    code, lines = await check(tmp_path, CLIPBOT__KICK__API_BASE="http://127.0.0.1:9")
    assert code == 0, lines
    assert line(lines, "kick").startswith("WARN") and "unreachable" in line(lines, "kick")


async def test_a_bad_config_is_a_failed_check(tmp_path: Path) -> None:
    code, lines = await check(tmp_path, CLIPBOT__LIMITS__DAILY_MAX_CLIPS="many")
    assert code == 1
    assert lines[0].startswith("FAIL  config: limits.daily_max_clips: expected a whole number")
    assert "(hint: " in lines[0]
