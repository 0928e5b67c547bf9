"""Starting and stopping the dashboard from bot.py, beside the feeds.

bot.py builds the storage-backed Library (only it composes storage with the rest) and calls
`start`; the dashboard is then registered as `extra["dashboard"]`, where /dashboard finds it.
A dashboard that cannot listen (port taken, bad secret) is logged and the bot runs on without
it: /dashboard then says it is off.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import discord

from engine.config import Config
from engine.core.app import App
from engine.core.library import Library
from engine.core.login import LoginLinks
from web.members import discord_members
from web.secret import session_secret
from web.server import Dashboard

log = logging.getLogger("web.launch")


async def start(
    client: discord.Client,
    config: Config,
    app: App,
    library: Library,
    extra: dict[str, Any],
    publisher: Any = None,
) -> Dashboard | None:
    if not config.web.enabled:
        return None
    try:
        secret = session_secret(config.storage.data_dir, os.environ)
        board = Dashboard(
            config, app, library, LoginLinks(), discord_members(client), secret, publisher=publisher
        )
        await board.start()
    except (OSError, ValueError) as exc:
        log.error(
            "the web dashboard could not start on %s:%s (%s); fix web.bind/web.port or set "
            "web.enabled: false. The bot runs on without it.",
            config.web.bind,
            config.web.port,
            exc,
        )
        return None
    extra["dashboard"] = board
    return board


async def stop(extra: dict[str, Any]) -> None:
    board = extra.pop("dashboard", None)
    if board is None:
        return
    try:
        await board.stop()
    except Exception:  # shutdown goes on: the feeds and the database still need closing
        log.exception("stopping the web dashboard failed")
