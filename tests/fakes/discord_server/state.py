"""World model of the fake Discord: users, guilds, roles, channels, members and permission math.

Discord computes a member's permissions server-side and sends them with every interaction
(``member.permissions``); that is the only source of discord.py's ``interaction.permissions``.
So the fake computes them the way Discord documents it (owner, @everyone, roles, administrator,
channel overwrites), or a bot's permission checks would test nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import discord

from .models import (
    ALL_PERMISSIONS,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    DM_CHANNEL,
    DM_UPLOAD_LIMIT,
    TEXT_CHANNEL,
    UPLOAD_LIMIT_BY_TIER,
    Channel,
    Guild,
    Member,
    Overwrite,
    Perm,
    Role,
    Snowflakes,
    User,
    id_of,
    now_iso,
    perm_value,
)

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "DM_CHANNEL",
    "DM_UPLOAD_LIMIT",
    "TEXT_CHANNEL",
    "Channel",
    "Guild",
    "Member",
    "Overwrite",
    "Perm",
    "Role",
    "Snowflakes",
    "User",
    "World",
    "id_of",
    "now_iso",
]


class World:
    """The scriptable state the fake serves: every lookup raises KeyError when missing so the
    REST layer can turn it into Discord's "Unknown X" errors."""

    def __init__(self, ids: Snowflakes, bot_user: User) -> None:
        self.ids = ids
        self.bot_user = bot_user
        self.users: dict[int, User] = {bot_user.id: bot_user}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}

    # -- building -------------------------------------------------------------------------
    def add_user(
        self, username: str, *, id: int | None = None, bot: bool = False, dms_open: bool = True
    ) -> User:
        user = User(id=id or self.ids(), username=username, bot=bot, dms_open=dms_open)
        self.users[user.id] = user
        return user

    def user_from(self, who: User | Member | int | str) -> User:
        """A User from an object or ID; a plain string that is not numeric is a new username."""
        if isinstance(who, User):
            return who
        if isinstance(who, Member):
            return who.user
        if isinstance(who, str) and not who.isdigit():
            return self.add_user(who)
        return self.users[id_of(who)]

    def add_guild(
        self,
        name: str,
        *,
        owner: User | int | str | None = None,
        id: int | None = None,
        premium_tier: int = 0,
        upload_limit: int | None = None,
        everyone_permissions: int | discord.Permissions = DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: int | discord.Permissions = DEFAULT_BOT_PERMISSIONS,
        bot_member: bool = True,
    ) -> Guild:
        owner_user = self.user_from(owner) if owner is not None else self.add_user(f"{name}-owner")
        gid = id or self.ids()
        guild = Guild(
            id=gid,
            name=name,
            owner_id=owner_user.id,
            premium_tier=premium_tier,
            upload_limit=upload_limit or UPLOAD_LIMIT_BY_TIER[premium_tier],
        )
        guild.roles[gid] = Role(gid, gid, "@everyone", perm_value(everyone_permissions))
        self.guilds[gid] = guild
        self.add_member(guild, owner_user)
        if bot_member:
            bot_role = self.add_role(guild, self.bot_user.username, bot_permissions, managed=True)
            guild.bot_role_id = bot_role.id
            self.add_member(guild, self.bot_user, roles=[bot_role])
        return guild

    def add_role(
        self,
        guild: Guild | int,
        name: str,
        permissions: int | discord.Permissions = 0,
        *,
        position: int | None = None,
        managed: bool = False,
    ) -> Role:
        g = self.guild(guild)
        pos = position if position is not None else len(g.roles)
        role = Role(self.ids(), g.id, name, perm_value(permissions), pos, managed)
        g.roles[role.id] = role
        return role

    def add_channel(
        self, guild: Guild | int, name: str, *, type: int = TEXT_CHANNEL, topic: str | None = None
    ) -> Channel:
        g = self.guild(guild)
        channel = Channel(self.ids(), name, type, g.id, position=len(g.channels), topic=topic)
        g.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def add_member(
        self,
        guild: Guild | int,
        user: User | int | str,
        *,
        roles: Iterable[Role | int] = (),
        nick: str | None = None,
    ) -> Member:
        g = self.guild(guild)
        u = self.user_from(user)
        member = Member(u, g.id, [id_of(r) for r in roles], nick)
        unknown = [r for r in member.roles if r not in g.roles]
        if unknown:
            raise KeyError(f"roles {unknown} are not in guild {g.id}")
        g.members[u.id] = member
        return member

    def set_overwrite(
        self,
        channel: Channel | int,
        target: Role | Member | User | int,
        *,
        allow: int | discord.Permissions = 0,
        deny: int | discord.Permissions = 0,
    ) -> Overwrite:
        ch = self.channel(channel)
        kind = (
            0 if isinstance(target, Role) or id_of(target) in self.guild(ch.guild_id).roles else 1
        )
        ow = Overwrite(id_of(target), kind, perm_value(allow), perm_value(deny))
        ch.overwrites[ow.id] = ow
        return ow

    def dm_channel(self, user: User | int) -> Channel:
        """The DM channel between the bot and ``user`` (created on first use, like Discord)."""
        uid = id_of(user)
        for ch in self.channels.values():
            if ch.is_dm and ch.recipient_ids == [uid]:
                return ch
        ch = Channel(self.ids(), "", DM_CHANNEL, recipient_ids=[uid])
        self.channels[ch.id] = ch
        return ch

    # -- lookups --------------------------------------------------------------------------
    def guild(self, guild: Guild | int | None) -> Guild:
        if guild is None:
            raise KeyError("no guild")
        return guild if isinstance(guild, Guild) else self.guilds[id_of(guild)]

    def channel(self, channel: Channel | int) -> Channel:
        return channel if isinstance(channel, Channel) else self.channels[id_of(channel)]

    def member(self, guild: Guild | int, user: Member | User | int) -> Member:
        return self.guild(guild).members[id_of(user)]

    def bot_guilds(self) -> list[Guild]:
        return [g for g in self.guilds.values() if self.bot_user.id in g.members]

    # -- permissions ----------------------------------------------------------------------
    def base_permissions(self, guild: Guild | int, user: Member | User | int) -> int:
        """Guild-level permissions: owner and administrator get everything."""
        g = self.guild(guild)
        member = self.member(g, user)
        if member.id == g.owner_id:
            return ALL_PERMISSIONS
        perms = g.everyone_role.permissions
        for role_id in member.roles:
            perms |= g.roles[role_id].permissions
        if perms & Perm.ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def permissions(
        self, guild: Guild | int, user: Member | User | int, channel: Channel | int | None = None
    ) -> int:
        """Permissions in a channel: overwrites for @everyone, then roles, then the member."""
        base = self.base_permissions(guild, user)
        if channel is None or base == ALL_PERMISSIONS:
            return base
        ch = self.channel(channel)
        member = self.member(guild, user)
        perms = base
        everyone = ch.overwrites.get(ch.guild_id or 0)
        if everyone is not None:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in member.roles:
            ow = ch.overwrites.get(role_id)
            if ow is not None:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        own = ch.overwrites.get(member.id)
        if own is not None and own.type == 1:
            perms = (perms & ~own.deny) | own.allow
        # Implicit rules: no view means nothing; no send means no send-dependent permissions.
        if not perms & Perm.VIEW_CHANNEL:
            return 0
        if not perms & Perm.SEND_MESSAGES:
            perms &= ~(
                Perm.SEND_TTS_MESSAGES
                | Perm.MENTION_EVERYONE
                | Perm.EMBED_LINKS
                | Perm.ATTACH_FILES
            )
        return perms

    # -- payloads -------------------------------------------------------------------------
    def channel_payload(self, channel: Channel) -> dict[str, Any]:
        if channel.is_dm:
            return {
                "id": str(channel.id),
                "type": DM_CHANNEL,
                "recipients": [self.users[u].payload() for u in channel.recipient_ids],
                "last_message_id": _opt_str(channel.last_message_id),
                "flags": 0,
            }
        return {
            "id": str(channel.id),
            "type": channel.type,
            "guild_id": str(channel.guild_id),
            "name": channel.name,
            "position": channel.position,
            "topic": channel.topic,
            "nsfw": False,
            "parent_id": None,
            "rate_limit_per_user": 0,
            "last_message_id": _opt_str(channel.last_message_id),
            "permission_overwrites": [ow.payload() for ow in channel.overwrites.values()],
            "flags": 0,
        }

    def guild_payload(
        self, guild: Guild, *, members: Iterable[Member] | None = None
    ) -> dict[str, Any]:
        """A GUILD_CREATE body; ``members`` defaults to all (the gateway trims it by intents)."""
        chosen = list(guild.members.values()) if members is None else list(members)
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "owner_id": str(guild.owner_id),
            "premium_tier": guild.premium_tier,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "features": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "system_channel_flags": 0,
            "afk_timeout": 300,
            "large": False,
            "member_count": len(guild.members),
            "joined_at": now_iso(),
            "roles": [r.payload() for r in guild.roles.values()],
            "channels": [self.channel_payload(c) for c in guild.channels.values()],
            "members": [m.payload() for m in chosen],
            "emojis": [],
            "stickers": [],
            "threads": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


def _opt_str(value: int | None) -> str | None:
    return None if value is None else str(value)
