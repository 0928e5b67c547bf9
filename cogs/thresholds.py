"""`/thresholds show|set|reset`: per-streamer trigger tuning, effective on the next chat line.

The trigger choices come from engine.detection.thresholds.TUNABLES, the same table the Detector
and the
validation use, so the menu, the allowed range and the error message cannot disagree. The range
is in each choice's label, because Discord shows choices but not a per-choice description.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from cogs import embeds, safe_send
from cogs.checks import app_of, guild_id_of, reviewer_only
from cogs.watch import streamer_autocomplete
from engine.detection.thresholds import TUNABLES


def _label(name: str) -> str:
    t = TUNABLES[name]
    return f"{name} ({t.lo:g}-{t.hi:g}): {t.help}"[:100]


TRIGGER_CHOICES = [app_commands.Choice(name=_label(n), value=n) for n in TUNABLES]


@app_commands.guild_only()
class Thresholds(commands.GroupCog, group_name="thresholds"):
    """Show and tune a streamer's triggers (this server only)."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="show", description="Show a streamer's thresholds")
    @app_commands.describe(streamer="A streamer this server watches")
    @app_commands.autocomplete(streamer=streamer_autocomplete)
    async def show(self, interaction: discord.Interaction, streamer: str) -> None:
        gid = guild_id_of(interaction)
        await safe_send.defer(interaction)  # reads can queue behind a write waiting for a lock
        app = app_of(self.bot)
        views = await app.thresholds(gid, streamer)
        learnt = await app.learnt(gid, streamer)
        slug = streamer.strip().lower()
        await safe_send.send(interaction, embed=embeds.thresholds_embed(slug, views, learnt))

    @app_commands.command(name="set", description="Change one threshold (takes effect at once)")
    @app_commands.describe(
        streamer="A streamer this server watches",
        trigger="What to change; the allowed range is in each label",
        value="The new value, inside the range shown for the trigger",
    )
    @app_commands.autocomplete(streamer=streamer_autocomplete)
    @app_commands.choices(trigger=TRIGGER_CHOICES)
    @reviewer_only()
    async def set_(
        self, interaction: discord.Interaction, streamer: str, trigger: str, value: float
    ) -> None:
        gid = guild_id_of(interaction)
        app = app_of(self.bot)
        await safe_send.defer(interaction)  # before the write: a locked database waits 5 s
        applied = await app.set_threshold(gid, streamer, trigger, value, interaction.user.id)
        t = TUNABLES[trigger]
        await safe_send.send(
            interaction,
            f"`{trigger}` for `{streamer.strip().lower()}` is now **{applied:g}** ({t.help}); "
            "in effect from the next chat message.",
        )

    @app_commands.command(name="reset", description="Back to the defaults (one or all)")
    @app_commands.describe(
        streamer="A streamer this server watches",
        trigger="Only this one (default: every threshold of the streamer)",
    )
    @app_commands.autocomplete(streamer=streamer_autocomplete)
    @app_commands.choices(trigger=TRIGGER_CHOICES)
    @reviewer_only()
    async def reset(
        self, interaction: discord.Interaction, streamer: str, trigger: str | None = None
    ) -> None:
        gid = guild_id_of(interaction)
        await safe_send.defer(interaction)  # before the write: a locked database waits 5 s
        removed = await app_of(self.bot).reset_thresholds(gid, streamer, trigger)
        what = f"`{trigger}`" if trigger else "every threshold"
        slug = streamer.strip().lower()
        if removed:
            text = f"Reset {what} of `{slug}` to the default ({removed} override(s) removed)."
        else:
            text = f"Nothing to reset: {what} of `{slug}` already uses the default."
        await safe_send.send(interaction, text)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Thresholds(bot))
