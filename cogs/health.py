"""Writes the heartbeat file (engine/core/health.py) that `bot.py --health` reads.

Gateway state comes from discord.py's own events: READY/RESUMED mean connected, a dropped
socket means not. The file is removed on a clean stop, so a stopped bot is never "healthy".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from discord.ext import commands

from engine.core.health import FeedHealth, heartbeat, write_heartbeat

log = logging.getLogger("cogs.health")


class Health(commands.Cog):
    def __init__(self, bot: Any) -> None:
        self.bot = bot
        cfg = bot.services.config.health
        self.path = Path(cfg.file)
        self.interval_s = cfg.interval_s
        self.clock: Callable[[], float] = time.time
        self.connected = False
        self._write_failed = False
        self._task: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self._task = asyncio.create_task(self._beat_forever(), name="heartbeat")

    async def cog_unload(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        self._set_connected(True)

    @commands.Cog.listener()
    async def on_resumed(self) -> None:
        self._set_connected(True)

    @commands.Cog.listener()
    async def on_disconnect(self) -> None:
        self._set_connected(False)

    def _set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self.beat()  # at once, not at the next tick: the state changed

    def beat(self) -> None:
        feeds: dict[str, FeedHealth] = {}
        paused = False
        for slug, feed in self.bot.app.hub.feeds.items():
            health = getattr(feed, "health", None)
            if health is not None:
                feeds[slug] = health()
            paused = paused or bool(getattr(feed, "recording_paused", False))
        connected = self.connected and not self.bot.is_closed()
        try:
            write_heartbeat(self.path, heartbeat(self.clock(), connected, feeds, paused))
        except OSError as exc:
            if not self._write_failed:  # once, not every tick
                log.warning("cannot write the heartbeat %s: %s", self.path, exc)
            self._write_failed = True
        else:
            self._write_failed = False

    async def _beat_forever(self) -> None:
        while True:
            try:
                self.beat()
            except Exception:
                log.exception("heartbeat failed; trying again in %.0f s", self.interval_s)
            await asyncio.sleep(self.interval_s)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Health(bot))
