"""Answer an interaction correctly whatever state it is in.

Discord allows exactly one acknowledgement per interaction (a second is refused with 40060), a
followup only after it (10015 before), and everything only within 3 s of the click (10062) or
15 min of the acknowledgement. Handlers and the error handler reach the user from any of these
states, so they all go through `send`, which picks the response or the followup, and swallows an
expired interaction with a log line instead of raising a second error out of an error path.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

log = logging.getLogger("cogs.safe_send")

_EXPIRED = (10062, 10015)  # unknown interaction, unknown webhook: the token is gone


async def send(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    ephemeral: bool = True,
    embed: discord.Embed | None = None,
    embeds: list[discord.Embed] | None = None,
    file: discord.File | None = None,
    files: list[discord.File] | None = None,
    view: discord.ui.View | None = None,
) -> bool:
    """Reply (ephemeral by default); returns False when the interaction had expired."""
    kwargs: dict[str, Any] = {"ephemeral": ephemeral}
    if content is not None:
        kwargs["content"] = content
    if embed is not None:
        kwargs["embed"] = embed
    if embeds:
        kwargs["embeds"] = embeds
    if file is not None:
        kwargs["file"] = file
    if files:
        kwargs["files"] = files
    if view is not None:
        kwargs["view"] = view
    try:
        if interaction.response.is_done():
            await interaction.followup.send(**kwargs)
        else:
            await interaction.response.send_message(**kwargs)
    except discord.NotFound as exc:
        if exc.code not in _EXPIRED:
            raise
        log.warning("interaction %s expired before the answer was sent", interaction.id)
        return False
    except discord.HTTPException as exc:
        if exc.code != 40060:  # acknowledged meanwhile (a race): fall back to the followup
            raise
        await interaction.followup.send(**kwargs)
    return True


async def defer(interaction: discord.Interaction, *, ephemeral: bool = True) -> None:
    """Acknowledge now ("thinking...") when the answer may take longer than Discord's 3 s."""
    if interaction.response.is_done():
        return
    try:
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    except discord.NotFound as exc:
        if exc.code not in _EXPIRED:
            raise
        log.warning("interaction %s expired before it could be deferred", interaction.id)


async def defer_update(interaction: discord.Interaction) -> None:
    """Acknowledge a button click or modal submit now, without a message (type 6): the work
    that follows (the database, Discord edits) may take longer than Discord's 3 s, and the
    result is then shown by editing the original message or in an ephemeral followup."""
    if interaction.response.is_done():
        return
    try:
        await interaction.response.defer()
    except discord.NotFound as exc:
        if exc.code not in _EXPIRED:
            raise
        log.warning("interaction %s expired before it could be acknowledged", interaction.id)
