"""The bot's view of a server member, for the dashboard's rights check.

The gateway keeps guilds and their roles cached (the `guilds` intent) but not members (no
privileged intent), so the member is fetched over REST each time: the answer is what Discord
says now, which is how a removed role loses dashboard access at the next action.
"""

from __future__ import annotations

import logging

import discord

from engine.core.access import MemberFacts
from web.auth import MemberLookup

log = logging.getLogger("web.members")


def discord_members(client: discord.Client) -> MemberLookup:
    async def lookup(guild_id: int, user_id: int) -> MemberFacts | None:
        guild = client.get_guild(guild_id)
        if guild is None:
            return None
        try:
            member = await guild.fetch_member(user_id)
        except discord.NotFound:
            return None
        except discord.HTTPException as exc:  # Discord down: refuse rather than guess
            log.warning("cannot check member %s of guild %s: %s", user_id, guild_id, exc)
            return None
        perms = member.guild_permissions
        return MemberFacts(
            guild_id,
            user_id,
            perms.manage_guild,
            frozenset(r.id for r in member.roles),
            member.display_name,
        )

    return lookup
