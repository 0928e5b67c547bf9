"""`/watch` and `/unwatch`, plus the streamer autocomplete every command shares.

Kick can take seconds to answer (and retries 403/429 behind the scenes), longer than Discord's
3 s to acknowledge, so /watch defers first and answers in the followup; /unwatch too, because
stopping the last guild's feed waits for its recorder (ffmpeg/streamlink) to exit.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs import safe_send
from cogs.checks import app_of, guild_id_of, reviewer_only

MAX_CHOICES = 25  # Discord shows at most 25 autocomplete choices


async def streamer_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The guild's watched streamers matching what the member typed so far."""
    if interaction.guild_id is None:
        return []
    names = await app_of(interaction.client).streamers(interaction.guild_id)
    typed = current.strip().lower()
    hits = [n for n in names if typed in n]
    hits.sort(key=lambda n: (not n.startswith(typed), n))
    return [app_commands.Choice(name=n, value=n) for n in hits[:MAX_CHOICES]]


class Watching(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(name="watch", description="Start clipping a Kick streamer")
    @app_commands.describe(streamer="The Kick channel name, as in kick.com/<name>")
    @app_commands.guild_only()
    @reviewer_only()
    async def watch(self, interaction: discord.Interaction, streamer: str) -> None:
        gid = guild_id_of(interaction)
        await safe_send.defer(interaction)
        result = await app_of(self.bot).watch(gid, streamer, interaction.user.id)
        if not result.live_known:
            state = (
                "Kick blocked the status lookup, so live or not is unknown for now; "
                "recording starts as soon as a status poll sees it live"
            )
        elif result.live:
            state = f"live now with {result.viewers:,} viewers"
            if result.title:
                state += f": “{discord.utils.escape_markdown(result.title[:200])}”"
        else:
            state = "offline; recording starts when the stream goes live"
        if result.already:
            head = f"This server already watches `{result.streamer}`"
        else:
            head = f"Now watching `{result.streamer}`"
        once = (
            " Kick offers this stream in one quality only, so it is recorded once and previews "
            "are cut from it (re-encoded only when a clip is over the upload limit)."
            if result.recorded_once
            else ""
        )
        await safe_send.send(interaction, f"{head} ({state}).{once}")

    @app_commands.command(name="unwatch", description="Stop clipping a streamer")
    @app_commands.describe(streamer="A streamer this server watches")
    @app_commands.autocomplete(streamer=streamer_autocomplete)
    @app_commands.guild_only()
    @reviewer_only()
    async def unwatch(self, interaction: discord.Interaction, streamer: str) -> None:
        gid = guild_id_of(interaction)
        await safe_send.defer(interaction)  # stopping a live recorder can take seconds
        slug = await app_of(self.bot).unwatch(gid, streamer)
        await safe_send.send(
            interaction, f"Stopped watching `{slug}`. Clips already posted stay where they are."
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Watching(bot))
