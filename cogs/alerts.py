"""`/alerts on|off` and the super_combo DMs they subscribe to.

A DM is a nudge, not a record: the clip is in the review channel either way. So the clip is
marked alerted *before* the DMs go out (at most once: a restart never DMs anyone twice), and a
member with closed DMs (403 / 50007) is logged and skipped, never a failure of the post.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs import safe_send
from cogs.checks import app_of, guild_id_of
from cogs.nonces import alert_nonce

log = logging.getLogger("cogs.alerts")

ALERT_TRIGGERS = frozenset({"super_combo"})


def wants_alert(row: Any) -> bool:
    return row.trigger in ALERT_TRIGGERS and not row.alerted


def alert_text(row: Any, jump_url: str) -> str:
    name = f" “{row.title}”" if row.title else ""
    return (
        f"🔥 Super combo on **{row.streamer}**{name} ({row.confidence:.0%} confidence): "
        f"{jump_url}\n-# /alerts off in that server stops these."
    )


async def send_alerts(client: discord.Client, row: Any, jump_url: str) -> int:
    """DM every subscribed member of the clip's guild once; returns how many DMs went out."""
    app = app_of(client)
    if not wants_alert(row):
        return 0
    await app.clips.transition(row.id, None, alerted=1)
    text = alert_text(row, jump_url)
    sent = 0
    for user_id in await app.settings.subscribers(row.guild_id):
        try:
            user = client.get_user(user_id) or await client.fetch_user(user_id)
            # Its own nonce: a retry (discord.py's, after a 5xx) returns the DM already sent.
            await user.send(text, nonce=alert_nonce(row, user_id))
            sent += 1
        except discord.Forbidden as exc:
            log.info("clip %s: user %s does not accept DMs (%s)", row.id, user_id, exc.code)
        except discord.HTTPException as exc:
            log.warning("clip %s: could not DM user %s: %s", row.id, user_id, exc)
    log.info("clip %s: super_combo alert sent to %d member(s)", row.id, sent)
    return sent


@app_commands.guild_only()
class Alerts(commands.GroupCog, group_name="alerts"):
    """DM me when a super combo clip is posted in this server."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        super().__init__()

    async def _set(self, interaction: discord.Interaction, on: bool) -> None:
        gid = guild_id_of(interaction)
        await safe_send.defer(interaction)  # before the write: a locked database waits 5 s
        changed = await app_of(self.bot).alerts(gid, interaction.user.id, on)
        if on:
            text = "You will get a DM when a super combo clip is posted here."
            if not changed:
                text = "Already on: " + text[0].lower() + text[1:]
            text += " Make sure this server may send you direct messages."
        else:
            text = "Super combo DMs are off." if changed else "Super combo DMs were already off."
        await safe_send.send(interaction, text)

    @app_commands.command(name="on", description="DM me when a super combo clip is posted")
    async def on(self, interaction: discord.Interaction) -> None:
        await self._set(interaction, True)

    @app_commands.command(name="off", description="Stop the super combo DMs")
    async def off(self, interaction: discord.Interaction) -> None:
        await self._set(interaction, False)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Alerts(bot))
