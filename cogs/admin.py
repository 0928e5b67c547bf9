"""`/setup`: where clips go and who reviews them; and the guild's upload limit, learnt for free.

Every interaction carries the guild's current upload limit (it rises with boosts), which the
clipper needs to size previews; remembering it from whatever interaction comes by costs one
dict lookup, and a database write only when it changed.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from cogs import safe_send
from cogs.checks import app_of, guild_id_of, manager_only, services_of

log = logging.getLogger("cogs.admin")

#: What the bot needs in the review channel to post a clip and find it again after a crash.
NEEDED = ("view_channel", "send_messages", "embed_links", "attach_files", "read_message_history")


class Admin(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self._limits: dict[int, int] = {}

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        gid, limit = interaction.guild_id, getattr(interaction, "filesize_limit", None)
        if gid is None or not limit or self._limits.get(gid) == limit:
            return
        self._limits[gid] = limit
        try:
            await app_of(self.bot).settings.set_upload_limit(gid, int(limit))
        except Exception:  # a missed update only costs a conservative preview size
            self._limits.pop(gid, None)
            log.warning("could not store the upload limit of guild %s", gid, exc_info=True)

    @app_commands.command(name="setup", description="Choose the review channel and reviewer role")
    @app_commands.describe(
        channel="Where clips are posted for review",
        reviewer_role="Who may approve/reject clips (members with Manage Server always can)",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @manager_only()
    async def setup(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        reviewer_role: discord.Role | None = None,
    ) -> None:
        gid = guild_id_of(interaction)
        app = app_of(self.bot)
        await safe_send.defer(interaction)  # before the write: a locked database waits 5 s
        await app.setup(gid, channel.id, reviewer_role.id if reviewer_role else None)
        lines = [f"Clips will be posted in {channel.mention}."]
        if reviewer_role is not None:
            lines.append(f"Reviewers: {reviewer_role.mention} and members with Manage Server.")
        else:
            lines.append("Reviewers: members with Manage Server (no reviewer role set).")
        missing = self._missing_permissions(interaction, channel.id)
        if missing:
            lines.append(
                f"Warning: I am missing {', '.join(missing)} in {channel.mention}; "
                "clips cannot be posted until that is fixed."
            )
        backlog = await app.clips.with_status("ready", "posting", guild_id=gid)
        if backlog:
            lines.append(f"Posting {len(backlog)} clip(s) that were waiting for a channel.")
        await safe_send.send(interaction, "\n".join(lines))
        await self._post_backlog([int(row.id) for row in backlog])

    def _missing_permissions(self, interaction: discord.Interaction, channel_id: int) -> list[str]:
        guild = interaction.guild
        target = guild.get_channel(channel_id) if guild else None
        if guild is None or target is None:
            return []
        perms = target.permissions_for(guild.me)
        return [name.replace("_", " ") for name in NEEDED if not getattr(perms, name)]

    async def _post_backlog(self, clip_ids: list[int]) -> None:
        poster = services_of(self.bot).extra.get("poster")
        if poster is None:
            return
        for clip_id in clip_ids:
            try:
                await poster(clip_id)
            except Exception:  # one clip must not keep the rest of the backlog back
                log.exception("posting waiting clip %s after /setup failed", clip_id)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Admin(bot))
