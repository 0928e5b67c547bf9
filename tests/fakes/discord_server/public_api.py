"""The test-facing half of ``FakeDiscord`` (a mixin, so server.py stays about plumbing):
world building, interaction injection, gateway controls, waiting helpers.

Changes made while a bot is connected are pushed as the gateway events Discord would send
(GUILD_CREATE, CHANNEL_CREATE, GUILD_ROLE_CREATE, GUILD_MEMBER_ADD/UPDATE, CHANNEL_UPDATE), so a
bot's cache stays as truthful as it would be in production.
"""

# ruff: noqa: ASYNC109  -- test helpers take a timeout= argument on purpose (wait_for API).

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import discord

from .commands import CommandStore
from .gateway import GUILD_MEMBERS, Gateway
from .interactions import Injector
from .messages import Message
from .records import (
    CommandSync,
    InteractionRecord,
    MessageEdit,
    Notifier,
    ScriptedError,
    ScriptedRateLimit,
)
from .state import (
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    TEXT_CHANNEL,
    Channel,
    Guild,
    Member,
    Overwrite,
    Role,
    User,
    World,
    id_of,
)

T = TypeVar("T")


class PublicApi:
    """Methods tests call; the state they use is set up by ``FakeDiscord.__init__``."""

    world: World
    gateway: Gateway
    commands: CommandStore
    notifier: Notifier
    messages: list[Message]
    edits: list[MessageEdit]
    command_syncs: list[CommandSync]
    _injector: Injector

    rate_limits: list[ScriptedRateLimit]
    scripted_errors: list[ScriptedError]

    def rate_limit_next(
        self, method: str, path: str, *, retry_after: float = 0.3, count: int = 1
    ) -> None:
        """Answer the next `count` `method` requests whose path matches the regex `path` with
        Discord's 429, e.g. ``rate_limit_next("POST", r"/channels/\\d+/messages$")``."""
        self.rate_limits.append(ScriptedRateLimit(method, re.compile(path), retry_after, count))

    def fail_next(
        self, method: str, path: str, status: int, code: int, message: str, *, count: int = 1
    ) -> None:
        """Answer the next `count` matching requests with a Discord error, e.g. 400 / 30046
        ("Maximum number of edits to messages older than 1 hour reached")."""
        self.scripted_errors.append(
            ScriptedError(method, re.compile(path), status, code, message, count)
        )

    def fail_after_next(
        self,
        method: str,
        path: str,
        status: int = 502,
        code: int = 0,
        message: str = "Bad Gateway",
        *,
        count: int = 1,
    ) -> None:
        """Carry out the next `count` matching requests, then answer them with this error
        anyway: a message is created and the bot sees a 5xx (discord.py retries 500/502/504
        itself, re-sending the same nonce)."""
        self.scripted_errors.append(
            ScriptedError(method, re.compile(path), status, code, message, count, after=True)
        )

    def notify(self) -> None:  # provided by FakeDiscord
        raise NotImplementedError

    def new_message(self, channel: Channel, *, author: User | None = None) -> Message:
        raise NotImplementedError

    def store_message(self, msg: Message) -> None:
        raise NotImplementedError

    # -- world building -------------------------------------------------------------------
    def add_user(self, username: str, *, dms_open: bool = True, bot: bool = False) -> User:
        """A Discord user (not yet in any guild). ``dms_open=False``: DMs fail with 50007."""
        return self.world.add_user(username, dms_open=dms_open, bot=bot)

    def add_guild(
        self,
        name: str = "Test Guild",
        *,
        owner: User | int | str | None = None,
        premium_tier: int = 0,
        upload_limit: int | None = None,
        everyone_permissions: int | discord.Permissions = DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: int | discord.Permissions = DEFAULT_BOT_PERMISSIONS,
    ) -> Guild:
        """A guild with @everyone, an owner member and the bot (with a managed role)."""
        guild = self.world.add_guild(
            name,
            owner=owner,
            premium_tier=premium_tier,
            upload_limit=upload_limit,
            everyone_permissions=everyone_permissions,
            bot_permissions=bot_permissions,
        )
        for session in self.gateway.live_sessions():
            if session.wants_guild(guild.id):
                self.gateway.send_guild_create(session, guild.id, unavailable=None)
        self.notify()
        return guild

    def add_role(
        self, guild: Guild | int, name: str, permissions: int | discord.Permissions = 0
    ) -> Role:
        role = self.world.add_role(guild, name, permissions)
        self._push("GUILD_ROLE_CREATE", {"guild_id": str(role.guild_id), "role": role.payload()})
        return role

    def add_channel(
        self, guild: Guild | int, name: str, *, type: int = TEXT_CHANNEL, topic: str | None = None
    ) -> Channel:
        channel = self.world.add_channel(guild, name, type=type, topic=topic)
        self._push("CHANNEL_CREATE", self.world.channel_payload(channel))
        return channel

    def add_member(
        self,
        guild: Guild | int,
        user: User | int | str,
        *,
        roles: Iterable[Role | int] = (),
        nick: str | None = None,
    ) -> Member:
        """Add a user (or a new one, by username) to a guild with the given roles."""
        member = self.world.add_member(guild, user, roles=roles, nick=nick)
        data = member.payload() | {"guild_id": str(member.guild_id)}
        self._push("GUILD_MEMBER_ADD", data, intent=GUILD_MEMBERS)
        return member

    def set_member_roles(
        self, guild: Guild | int, member: Member | User | int, roles: Iterable[Role | int]
    ) -> Member:
        m = self.world.member(guild, member)
        m.roles = [id_of(r) for r in roles]
        self._push("GUILD_MEMBER_UPDATE", m.payload() | {"guild_id": str(m.guild_id)})
        return m

    def set_overwrite(
        self,
        channel: Channel | int,
        target: Role | Member | User | int,
        *,
        allow: int | discord.Permissions = 0,
        deny: int | discord.Permissions = 0,
    ) -> Overwrite:
        """A channel permission overwrite for a role or a member."""
        overwrite = self.world.set_overwrite(channel, target, allow=allow, deny=deny)
        self._push("CHANNEL_UPDATE", self.world.channel_payload(self.world.channel(channel)))
        return overwrite

    def set_dms_open(self, user: User | Member | int, open_: bool) -> None:
        self.world.user_from(user).dms_open = open_

    def permissions(
        self, guild: Guild | int, member: Member | User | int, channel: Channel | int | None = None
    ) -> discord.Permissions:
        """What the fake computes (and sends in interactions) for a member."""
        return discord.Permissions(self.world.permissions(guild, member, channel))

    def _push(self, event: str, data: dict[str, Any], *, intent: int = 0) -> None:
        self.gateway.dispatch(event, data, intent=intent)
        self.notify()

    # -- injection ------------------------------------------------------------------------
    async def inject_slash(
        self,
        guild: Guild | int,
        channel: Channel | int,
        member: Member | User | int,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        ack_timeout: float | None = None,
    ) -> InteractionRecord:
        """A member runs ``/name [subcommand] options...`` (``subcommand`` may be "group sub").

        Options are Python values checked against the synced definition; users, channels and
        roles may be objects or IDs, attachments ``(filename, bytes)``."""
        return await self._injector.slash(
            guild, channel, member, name, options, subcommand=subcommand, ack_timeout=ack_timeout
        )

    async def inject_autocomplete(
        self,
        guild: Guild | int,
        channel: Channel | int,
        member: Member | User | int,
        name: str,
        options: dict[str, Any],
        focused: str,
        *,
        subcommand: str | None = None,
    ) -> InteractionRecord:
        """The member is typing into option ``focused`` (type 4); expect a type 8 callback."""
        return await self._injector.slash(
            guild, channel, member, name, options, subcommand=subcommand, focused=focused
        )

    async def inject_button(
        self,
        message: Message | int,
        custom_id: str,
        member: Member | User | int,
        *,
        ack_timeout: float | None = None,
    ) -> InteractionRecord:
        """Click a button that is really on a stored message (and not disabled)."""
        return await self._injector.button(message, custom_id, member, ack_timeout=ack_timeout)

    async def inject_select(
        self,
        message: Message | int,
        custom_id: str,
        member: Member | User | int,
        values: list[Any],
        *,
        ack_timeout: float | None = None,
    ) -> InteractionRecord:
        return await self._injector.select(
            message, custom_id, member, values, ack_timeout=ack_timeout
        )

    async def inject_modal_submit(
        self,
        opened: InteractionRecord,
        values: dict[str, Any],
        *,
        ack_timeout: float | None = None,
    ) -> InteractionRecord:
        """Submit the modal the bot opened in answer to ``opened`` with ``{custom_id: value}``."""
        return await self._injector.modal_submit(opened, values, ack_timeout=ack_timeout)

    def inject_message(
        self, channel: Channel | int, author: Member | User | int, content: str
    ) -> Message:
        """A user posts in a channel; the bot gets MESSAGE_CREATE if its intents allow."""
        ch = self.world.channel(channel)
        msg = self.new_message(ch, author=self.world.user_from(author))
        msg.content = content
        self.store_message(msg)
        return msg

    # -- gateway controls -----------------------------------------------------------------
    async def drop_gateway(self, code: int = 4000, *, invalidate: bool = False) -> None:
        """Close the bot's websocket(s); it RESUMEs, or re-IDENTIFYs when ``invalidate``."""
        await self.gateway.drop(code, invalidate=invalidate)

    def request_reconnect(self) -> None:
        self.gateway.request_reconnect()

    def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send any gateway event to every session; returns how many sessions got it."""
        count = self.gateway.dispatch(event, data)
        self.notify()
        return count

    # -- waiting --------------------------------------------------------------------------
    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:
        """Re-check ``predicate`` on every change of the fake; return its first truthy value."""
        return await self.notifier.wait_for(predicate, timeout)

    async def wait_for_message(
        self,
        predicate: Callable[[Message], bool] | None = None,
        *,
        channel: Channel | int | None = None,
        since: int = 0,
        timeout: float = 5.0,
    ) -> Message:
        """First message (index >= ``since`` in ``messages``) matching channel and predicate."""
        cid = None if channel is None else id_of(channel)

        def find() -> Message | None:
            for msg in self.messages[since:]:
                if (cid is None or msg.channel_id == cid) and (predicate is None or predicate(msg)):
                    return msg
            return None

        return await self.notifier.wait_for(find, timeout, "a matching message")

    async def wait_for_edit(
        self,
        message: Message | int | None = None,
        *,
        predicate: Callable[[MessageEdit], bool] | None = None,
        since: int = 0,
        timeout: float = 5.0,
    ) -> MessageEdit:
        mid = None if message is None else id_of(message)

        def find() -> MessageEdit | None:
            for edit in self.edits[since:]:
                if (mid is None or edit.message.id == mid) and (
                    predicate is None or predicate(edit)
                ):
                    return edit
            return None

        return await self.notifier.wait_for(find, timeout, "a matching edit")

    async def wait_for_sync(
        self, guild: Guild | int | None = None, *, timeout: float = 5.0
    ) -> CommandSync:
        gid = None if guild is None else id_of(guild)
        return await self.notifier.wait_for(
            lambda: next((s for s in self.command_syncs if s.guild_id == gid), None),
            timeout,
            "a command sync",
        )

    async def wait_for_identify(self, count: int = 1, *, timeout: float = 5.0) -> None:
        await self.notifier.wait_for(
            lambda: len(self.gateway.identifies) >= count, timeout, "IDENTIFY"
        )

    async def wait_for_resume(self, count: int = 1, *, timeout: float = 5.0) -> None:
        await self.notifier.wait_for(lambda: len(self.gateway.resumes) >= count, timeout, "RESUME")

    # -- convenience views ----------------------------------------------------------------
    @property
    def dms(self) -> list[Message]:
        return [m for m in self.messages if m.is_dm]

    def channel_messages(self, channel: Channel | int) -> list[Message]:
        cid = id_of(channel)
        return [m for m in self.messages if m.channel_id == cid and not m.deleted]

    def commands_for(self, guild: Guild | int | None = None) -> list[dict[str, Any]]:
        return self.commands.list(None if guild is None else id_of(guild))
