"""`/stats [streamer]`: one embed per watched streamer, each with a PNG chart of its last 30 min.

The chart is rendered in a worker thread (engine.core.chart) after the interaction is deferred, so a
slow render never makes Discord show "interaction failed". Discord takes at most 10 embeds, 10
files and 6000 embed characters per message, so a long answer is split over followups (charts
stay with their embeds) and capped at MAX_MESSAGES of them.
"""

from __future__ import annotations

import io
import logging

import discord
from discord import app_commands
from discord.ext import commands

from cogs import embeds, safe_send
from cogs.checks import app_of, guild_id_of, services_of
from cogs.watch import streamer_autocomplete
from engine.core.chart import render_chart_async

log = logging.getLogger("cogs.stats")

MAX_PER_MESSAGE = 10
MAX_MESSAGES = 3  # beyond 30 streamers the answer names how many more, instead of a flood
CHART_MINUTES = 30.0


class Stats(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="stats", description="Live state, chat activity and today's clips")
    @app_commands.describe(streamer="Only this streamer (default: every streamer watched here)")
    @app_commands.autocomplete(streamer=streamer_autocomplete)
    @app_commands.guild_only()
    async def stats(self, interaction: discord.Interaction, streamer: str | None = None) -> None:
        gid = guild_id_of(interaction)
        app = app_of(self.bot)
        await safe_send.defer(interaction)
        found = await app.stats(gid, streamer)
        waiting = await self._waiting(gid)
        if not found:
            text = "This server watches nobody yet; use /watch first."
            await safe_send.send(interaction, f"{text}\n{waiting}" if waiting else text)
            return
        shown = found[: MAX_PER_MESSAGE * MAX_MESSAGES]
        tz = app.config.limits.timezone
        now = app.clock()
        pages: list[discord.Embed] = []
        charts: list[discord.File | None] = []
        for item in shown:
            name: str | None = f"chart-{item.streamer}.png"
            try:
                series = app.chart_series(item.streamer, CHART_MINUTES)
                png = await render_chart_async(series, item.streamer, now)
            except Exception:  # a broken chart must not hide the numbers
                log.exception("rendering the /stats chart of %s failed", item.streamer)
                name, chart = None, None
            else:
                chart = discord.File(io.BytesIO(png), filename=f"chart-{item.streamer}.png")
            pages.append(embeds.stats_embed(item, tz, name))
            charts.append(chart)
        extra = len(found) - len(shown)
        more = f"{extra} more streamer(s) not shown; ask for one by name." if extra else None
        note = "\n".join(t for t in (waiting, more) if t) or None
        # A busy streamer's embed is ~660 characters and Discord allows 6000 over all embeds of
        # one message: split into followups, each chart travelling with its embed.
        start = 0
        for count in embeds.pack([len(e) for e in pages]):
            group = slice(start, start + count)
            files = [f for f in charts[group] if f is not None]
            start += count
            last = start == len(pages)
            await safe_send.send(
                interaction, note if last else None, embeds=pages[group], files=files
            )

    async def _waiting(self, guild_id: int) -> str | None:
        """Clips cut but not posted yet (the outbox retries them), and why, if any."""
        counts = await app_of(self.bot).clips.status_counts(guild_id)
        count = counts.get("ready", 0) + counts.get("posting", 0)
        if not count:
            return None
        outbox = services_of(self.bot).extra.get("outbox")
        why = outbox.status(guild_id) if outbox is not None else None
        return f"⏳ {why}" if why else f"⏳ {count} clip(s) waiting to post."


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Stats(bot))
