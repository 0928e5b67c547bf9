"""The scheduler (apscheduler) and what it has to say in Discord.

Jobs: sample /stats history (10 s), delete old segments (1 min), check free disk (30 s),
delete rejected clips' files (hourly), and at midnight in the configured timezone post each
guild its daily summary. Job bodies log their errors instead of dying, so one bad run never
stops the schedule; the scheduler is shut down in cog_unload.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord.ext import commands

from cogs.nonces import summary_nonce
from cogs.review_view import refresh_message
from engine.backoff import Backoff
from engine.core.daily import daily_summary as render_summary
from engine.core.daily import day_of, day_range_utc, tally
from engine.core.housekeeping import clean_rejected, clean_segments
from engine.core.maintenance import DiskGuard, disk_status

log = logging.getLogger("cogs.maintenance")

#: The daily summary through a Discord outage: 4 tries, 15 s .. 1 min apart (full jitter), all
#: well inside the few minutes Discord keeps a nonce.
TELL_TRIES = 4
TELL_RETRY_S = 15.0
TELL_RETRY_MAX_S = 60.0


def logged(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[None]]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            await fn(*args, **kwargs)
        except Exception:
            log.exception("scheduled job %s failed; it runs again at its next time", fn.__name__)

    return wrapper


class Maintenance(commands.Cog):
    def __init__(self, bot: Any) -> None:
        self.bot = bot
        self.services = bot.services
        self.config = bot.services.config
        self.scheduler = AsyncIOScheduler(timezone=self.config.limits.timezone)
        sc = self.config.scheduler
        self.disk = DiskGuard(sc.disk_min_free_mb)
        self.clock: Callable[[], float] = time.time
        self.disk_usage: Callable[[Path], Any] = shutil.disk_usage  # a test makes the disk fill
        self.sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep  # retries of a notice

    async def cog_load(self) -> None:
        s = self.scheduler
        opts: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 30}
        s.add_job(self.sample_stats, "interval", seconds=10, id="stats", **opts)
        s.add_job(self.segments, "interval", minutes=1, id="segments", **opts)
        s.add_job(self.check_disk, "interval", seconds=30, id="disk", **opts)
        s.add_job(self.rejected, "interval", hours=1, id="rejected", **opts)
        s.add_job(self.midnight, "cron", hour=0, minute=0, id="midnight", **opts)
        # What each detector learnt (bars, burst history) survives a crash, not only a clean stop.
        s.add_job(self.save_states, "interval", minutes=5, id="states", **opts)
        s.start()

    async def cog_unload(self) -> None:
        self.scheduler.shutdown(wait=False)

    @logged
    async def sample_stats(self) -> None:
        self.services.app.sample_history()

    @logged
    async def segments(self) -> None:
        report = await clean_segments(
            self.services.hub.feeds, self.services.clips, self.config, self.clock()
        )
        if report.count or report.errors:
            log.info("segments: %s", report)

    @logged
    async def rejected(self) -> None:
        report = await clean_rejected(self.services.clips, self.config, self.clock())
        # Their review messages still offer Approve on a clip without files: re-render them
        # (best effort; the clips are deleted either way).
        for clip_id in report.clip_ids:
            try:
                row = await self.services.clips.get(clip_id)
                if row is not None:
                    await refresh_message(self.bot, row)
            except Exception:
                log.warning("clip %s: could not re-render its message", clip_id, exc_info=True)

    @logged
    async def check_disk(self) -> None:
        status = disk_status(
            Path(self.config.storage.data_dir),
            self.config.scheduler.disk_min_free_mb,
            self.disk_usage,
        )
        change = self.disk.update(status)
        # Every check, not only on a change: a feed watched (or restored) while the disk is
        # low must not record either. Idempotent, so feeds already paused are left alone.
        caught = await self.services.hub.pause_recording(self.disk.low)
        if change is None:
            if caught and self.disk.low:
                log.warning("disk still low: paused %d feed(s) started meanwhile", caught)
            return
        if change == "became_low":
            text = (
                f"Disk almost full ({status.free_mb:.0f} MB free, minimum "
                f"{self.config.scheduler.disk_min_free_mb:.0f} MB): recording is paused."
                " Free some space; it resumes by itself."
            )
            log.error("disk low: %.0f MB free; recording paused", status.free_mb)
        else:
            text = f"Disk space is back ({status.free_mb:.0f} MB free): recording resumed."
            log.warning("disk recovered: %.0f MB free; recording resumed", status.free_mb)
        await self.tell_all(text)

    @logged
    async def save_states(self) -> None:
        await self.services.app.save_states()

    @logged
    async def midnight(self) -> None:
        """Post yesterday's summary; the daily limits roll over by themselves (day keys)."""
        tz = self.config.limits.timezone
        yesterday = day_of(self.clock() - 3600, tz)
        start, end = day_range_utc(yesterday, tz)
        await self.services.app.save_states()
        rows = await self.services.clips.created_between(start, end)
        tallied = tally(rows)
        # A quiet day is news too: every guild that watches someone hears from the bot, not
        # only those with clip rows (tell() skips guilds without a review channel).
        watching = {row.guild_id for row in await self.services.watches.all()}
        for guild_id in sorted(watching | set(tallied)):
            text = render_summary(yesterday, tallied.get(guild_id, []), tz)
            # One summary per guild and day: a re-run of the job (a restart at midnight, a
            # retry after a 5xx) within Discord's nonce window gets the first message back.
            await self.tell(guild_id, text, nonce=summary_nonce(guild_id, yesterday))

    async def tell_all(self, text: str) -> None:
        guilds = {gid for gid, _ in self.services.hub.watches}
        for guild_id in guilds:
            await self.tell(guild_id, text)

    async def tell(self, guild_id: int, text: str, *, nonce: str | None = None) -> None:
        """Post a notice in the guild's review channel, best effort. With a `nonce` (a message
        that must go out once, the daily summary) a Discord outage is retried a few times
        with backoff, within the minutes Discord remembers the nonce: a retry after a 5xx
        that had created the message gets it back instead of a second one."""
        settings = await self.services.settings.get(guild_id)
        if not settings.review_channel_id:
            return
        channel = self.bot.get_partial_messageable(settings.review_channel_id)
        backoff = Backoff(TELL_RETRY_S, TELL_RETRY_MAX_S)
        tries = TELL_TRIES if nonce else 1
        for attempt in range(1, tries + 1):
            try:
                await channel.send(text[:2000], nonce=nonce)
                return
            except (discord.DiscordServerError, aiohttp.ClientError, OSError) as exc:
                if attempt == tries:
                    log.warning("could not post to guild %s's review channel: %s", guild_id, exc)
                    return
                delay = backoff.next_delay()
                log.warning(
                    "posting to guild %s's review channel failed (%s); retry %d/%d in %.0f s",
                    guild_id, exc, attempt, tries - 1, delay,
                )  # fmt: skip
                await self.sleep(delay)
            except discord.HTTPException as exc:  # refused (permissions...): retrying won't help
                log.warning("could not post to guild %s's review channel: %s", guild_id, exc)
                return


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Maintenance(bot))
