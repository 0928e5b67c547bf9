"""`/dashboard`: a one-time link to the web dashboard, for reviewers only, ephemeral.

The link is made by the dashboard (web/, registered by bot.py as services.extra["dashboard"]);
this cog only checks the member and hands it over. Anyone who is not a reviewer is refused
here, and again by the dashboard when the link is opened.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs import safe_send
from cogs.checks import guild_id_of, reviewer_only, services_of

DASHBOARD_OFF = (
    "The web dashboard is off on this bot (web.enabled in config.yaml), or it failed to start: "
    "see the bot's log."
)


class Dashboard(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @app_commands.command(
        name="dashboard", description="A one-time login link to the web dashboard"
    )
    @app_commands.guild_only()
    @reviewer_only()
    async def dashboard(self, interaction: discord.Interaction) -> None:
        gid = guild_id_of(interaction)
        board = services_of(self.bot).extra.get("dashboard")
        if board is None:
            await safe_send.send(interaction, DASHBOARD_OFF)
            return
        url = board.login_url(gid, interaction.user.id)
        await safe_send.send(
            interaction,
            f"Your dashboard link (one use, valid 10 minutes; do not share it):\n{url}",
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Dashboard(bot))
