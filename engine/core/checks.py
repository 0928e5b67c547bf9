"""`python bot.py --check`: is this installation able to run? One line per check, with a hint.

Hard requirements (config, token, ffmpeg, streamlink, writable data folders) decide the exit
code; Kick's reachability is reported but only warns, because Kick blocks some networks from
time to time and a bot started then recovers by itself (and CI has no internet at all).
"""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from engine.config import Config
from engine.media.ffmpeg_bin import ffmpeg_exe, streamlink_cmd


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    hint: str = ""
    hard: bool = True

    def line(self) -> str:
        """One line per check, the hint on the same line, so `grep FAIL` shows what to do."""
        word = "OK" if self.ok else ("FAIL" if self.hard else "WARN")
        text = f"{word:<4}  {self.name}: {self.detail}"
        return f"{text} (hint: {self.hint})" if self.hint and not self.ok else text


async def _version(cmd: list[str]) -> tuple[bool, str]:
    try:
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    except (OSError, TimeoutError) as exc:
        return False, str(exc)
    first = out.decode(errors="replace").strip().splitlines()[:1]
    return proc.returncode == 0, first[0] if first else f"exit {proc.returncode}"


def _writable(path: Path) -> tuple[bool, str]:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".check-"):
            pass
    except OSError as exc:
        return False, f"{path}: {exc.strerror or exc}"
    return True, str(path)


# The names streamlink's ChromiumWebbrowser looks for on PATH.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "chrome", "google-chrome", "google-chrome-stable")


def _chromium(config: Config) -> Check:
    """streamlink's Kick plugin opens a headless Chromium when Kick answers with a JS challenge;
    without one, kick.com streams fail on such networks. Other stream URLs never need it."""
    found = next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)
    if found:
        return Check("chromium", True, found)
    needed = "kick.com" in config.kick.stream_url
    return Check(
        "chromium",
        not needed,
        "not found" + ("" if needed else " (not needed for this stream_url)"),
        "install chromium (apt install chromium): streamlink's Kick plugin needs it when "
        "Kick serves a JS challenge",
        hard=False,
    )


def _web(config: Config) -> Check:
    """The dashboard's address: can it listen there? A running bot holds the port itself, so a
    busy port only warns."""
    web = config.web
    if not web.enabled:
        return Check("web", True, "dashboard off (web.enabled: false)")
    where = f"{web.bind}:{web.port}"
    try:
        with socket.socket(socket.AF_INET6 if ":" in web.bind else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((web.bind, web.port))
    except OSError as exc:
        busy = exc.errno == errno.EADDRINUSE
        return Check(
            "web",
            False,
            f"cannot listen on {where} ({exc.strerror or exc})",
            "the port is in use: the bot itself if it runs, else change web.port"
            if busy
            else "fix web.bind (an address of this machine, 0.0.0.0 for all) or web.port",
            hard=not busy,
        )
    return Check("web", True, f"dashboard can listen on {where}; links use {_base(config)}")


def _base(config: Config) -> str:
    return config.web.public_url or f"http://{config.web.bind}:{config.web.port}"


async def _kick(config: Config) -> Check:
    url = config.kick.api_base.rstrip("/") + "/api/v2/channels/kick"
    try:
        async with httpx.AsyncClient(timeout=8, headers={"Accept": "application/json"}) as c:
            resp = await c.get(url)
    except httpx.HTTPError as exc:
        return Check(
            "kick",
            False,
            f"{url} unreachable ({type(exc).__name__})",
            "check the network/DNS; the bot retries by itself",
            hard=False,
        )
    if resp.status_code == 403:
        return Check(
            "kick",
            False,
            f"{url} answered 403 (blocked by Cloudflare)",
            "try another network, or set kick.chatrooms by hand; see README",
            hard=False,
        )
    return Check(
        "kick",
        resp.status_code < 500,
        f"{url} answered {resp.status_code}",
        "Kick may be down; the bot retries by itself",
        hard=False,
    )


async def collect(config: Config, token: str, *, kick: bool = True) -> list[Check]:
    checks = [Check("config", True, "loaded")]
    checks.append(
        Check(
            "discord token",
            bool(token),
            "DISCORD_TOKEN is set" if token else "not set",
            "put DISCORD_TOKEN in the environment or in .env",
        )
    )
    ok, detail = await _version([ffmpeg_exe(), "-version"])
    checks.append(Check("ffmpeg", ok, detail, "install ffmpeg or `pip install imageio-ffmpeg`"))
    ok, detail = await _version([*streamlink_cmd(), "--version"])
    checks.append(Check("streamlink", ok, detail, "pip install 'streamlink>=8.1.1'"))
    checks.append(_chromium(config))
    checks.append(_web(config))
    st = config.storage
    folders = {
        Path(config.health.file).parent,
        Path(st.data_dir),
        Path(st.segments_dir),
        Path(st.clips_dir),
        Path(st.database).parent,
    }
    if config.logging.file:
        folders.add(Path(config.logging.file).parent)
    for folder in sorted(folders):
        ok, detail = _writable(folder)
        checks.append(Check("writable", ok, detail, "fix the folder's owner or the volume mount"))
    if kick:
        checks.append(await _kick(config))
    return checks


async def run_checks(config: Config, token: str, extra: list[Check] | None = None) -> int:
    """Print every check; `extra` are the fronts' own (publishing's title font)."""
    offline = os.environ.get("CLIPBOT_CHECK_OFFLINE", "") not in ("", "0")
    checks = await collect(config, token, kick=not offline) + list(extra or [])
    for c in checks:
        print(c.line(), file=sys.stdout)
    failed = [c for c in checks if c.hard and not c.ok]
    # Not "N passed, N failed": CI reads that shape as a test runner's result line.
    summary = f"{len(failed)} of {len(checks)} checks failed" if failed else "all checks OK"
    print(summary, file=sys.stdout)
    return 1 if failed else 0
