"""Running `bot.py` as a child process the way operators do: a clean environment, and waiting
for a line in its log file."""

from __future__ import annotations

import os
from pathlib import Path

from tests.kick_world import eventually

SECRETS = ("DISCORD_TOKEN", "KICK_CLIENT_ID", "KICK_CLIENT_SECRET")


def bot_env(**extra: str) -> dict[str, str]:
    """This process's environment without anything that configures the bot (the secrets and
    every CLIPBOT* variable), plus `extra`: a developer's shell never leaks into a test."""
    env = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith("CLIPBOT")}
    env["CLIPBOT__WEB__PORT"] = "0"  # the dashboard on any free port: parallel runs never collide
    env.update(extra)
    return env


async def wait_for_log(path: Path, text: str, within_s: float = 10.0) -> None:
    def logged() -> bool:
        return path.exists() and text in path.read_text(encoding="utf-8")

    await eventually(logged, within_s, step=0.05)
