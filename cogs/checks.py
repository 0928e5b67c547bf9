"""Who may do what, and how a cog reaches the App.

Reviewers are members with Manage Server or the guild's configured reviewer role. Discord's
`default_permissions` only hides a command in the client by default (a server admin can grant it
to anyone under Integrations), so every guarded command also checks at run time. Refusals raise
a CheckFailure subclass carrying the sentence to show; cogs/errors.py answers it ephemerally.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands

from engine.core.access import NOT_REVIEWER as NOT_REVIEWER  # the one wording, both fronts
from engine.core.stores import StoreBusy

if TYPE_CHECKING:
    from engine.core.app import App

NOT_MANAGER = "Only members with Manage Server can change this bot's setup."
GUILD_ONLY = "This only works inside a server."


class Refused(app_commands.CheckFailure):
    """A check failed; the message is meant for the member as is."""


def app_of(client: discord.Client) -> App:
    """The App the bot was built with (bot.ClipBot sets it; cogs never import bot.py, which may
    be running as __main__)."""
    app = getattr(client, "app", None)
    if app is None:
        raise RuntimeError("this client carries no App (is it a ClipBot?)")
    return cast("App", app)


def services_of(client: discord.Client) -> Any:
    return client.services  # type: ignore[attr-defined]


#: The most a check may spend reading the database before the interaction is acknowledged:
#: the bot's one database connection runs statements in turn, so a read can queue behind a write
#: that waits for a lock another program holds (up to the 5 s busy timeout), past Discord's 3 s.
PRE_ACK_BUDGET_S = 2.0


BUSY = (
    "The bot's database is busy right now (another program is writing to it): try again in a "
    "few seconds."
)


class Busy(Refused):
    """The database did not answer before Discord's deadline (a CheckFailure, so the tree's
    error handler gets it: discord.py hands only AppCommandErrors from checks to on_error)."""


async def may_review_now(interaction: discord.Interaction) -> bool:
    """`may_review` within PRE_ACK_BUDGET_S, for checks that run before the acknowledgement;
    a database that does not answer in time (or stays locked) is Busy ("busy, try again")."""
    try:
        async with asyncio.timeout(PRE_ACK_BUDGET_S):
            return await may_review(interaction)
    except (TimeoutError, StoreBusy) as exc:
        raise Busy(BUSY) from exc


async def may_review(interaction: discord.Interaction) -> bool:
    """The App's reviewer rule (Manage Server, or the role set with /setup) on this
    interaction's facts."""
    if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
        return False
    return await app_of(interaction.client).may_review(
        interaction.guild_id,
        interaction.permissions.manage_guild,
        [r.id for r in interaction.user.roles],
    )


def reviewer_only() -> Any:
    """app_commands check: refuse (ephemerally, via the error handler) non-reviewers."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:
            raise Refused(GUILD_ONLY)
        if not await may_review_now(interaction):
            raise Refused(NOT_REVIEWER)
        return True

    return app_commands.check(predicate)


def manager_only() -> Any:
    """The run-time half of `default_permissions(manage_guild=True)`."""

    async def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:
            raise Refused(GUILD_ONLY)
        if not interaction.permissions.manage_guild:
            raise Refused(NOT_MANAGER)
        return True

    return app_commands.check(predicate)


def guild_id_of(interaction: discord.Interaction) -> int:
    """Every command here is guild-only; this narrows the type and guards DMs."""
    if interaction.guild_id is None:
        raise Refused(GUILD_ONLY)
    return interaction.guild_id
