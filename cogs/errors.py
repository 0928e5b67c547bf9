"""The one error path to users, for slash commands, buttons and modals alike.

- UserError (engine.core.app): a refusal worded for the operator; shown as is.
- StoreBusy: the database stayed locked past its timeout: "busy, try again" (a warning in the
  log, not a bug report).
- CheckFailure: the member may not do this; shown ephemerally (cogs.checks words it).
- Anything else is a bug: logged with a short reference id, and the member sees only the id,
  so a report in the support channel finds the traceback in the log without leaking details.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs import safe_send
from cogs.checks import BUSY
from engine.core.app import UserError
from engine.core.stores import StoreBusy

log = logging.getLogger("cogs.errors")

DEFAULT_REFUSAL = "You are not allowed to use this command."


def unwrap(error: BaseException) -> BaseException:
    """The exception the handler raised (discord.py wraps it in CommandInvokeError)."""
    while isinstance(error, app_commands.CommandInvokeError | commands.CommandInvokeError):
        error = error.original
    return error


async def report(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the member what went wrong, ephemerally, whatever state the interaction is in."""
    error = unwrap(error)
    if isinstance(error, UserError):
        text = str(error)
    elif isinstance(error, StoreBusy):
        log.warning(
            "database busy in %s for user %s: %s", _name(interaction), interaction.user.id, error
        )
        text = BUSY
    elif isinstance(error, app_commands.CheckFailure):
        text = str(error) or DEFAULT_REFUSAL
        if type(error) is app_commands.CheckFailure and text.startswith("The check functions"):
            text = DEFAULT_REFUSAL
    else:
        ref = secrets.token_hex(4)
        log.error(
            "unexpected error (ref %s) in %s for user %s in guild %s",
            ref,
            _name(interaction),
            interaction.user.id,
            interaction.guild_id,
            exc_info=error,
        )
        text = f"Something went wrong (ref {ref}). Tell the bot's operator this reference."
    try:
        await safe_send.send(interaction, text, ephemeral=True)
    except discord.HTTPException as exc:  # the answer itself failed: the log is all we have
        log.warning("could not tell user %s about an error: %s", interaction.user.id, exc)


def _name(interaction: discord.Interaction) -> str:
    return interaction.command.qualified_name if interaction.command else _component(interaction)


def _component(interaction: discord.Interaction) -> str:
    data: Any = interaction.data or {}
    return str(data.get("custom_id", "an interaction"))


class Errors(commands.Cog):
    """Installs `report` as the app command tree's error handler while loaded."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self._previous = bot.tree.on_error

    async def cog_load(self) -> None:
        self.bot.tree.on_error = self._on_tree_error  # type: ignore[method-assign]

    async def cog_unload(self) -> None:
        self.bot.tree.on_error = self._previous  # type: ignore[method-assign]

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report(interaction, error)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Errors(bot))
