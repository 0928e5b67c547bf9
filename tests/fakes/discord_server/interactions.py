"""Injecting interactions as Discord would send them over the gateway (INTERACTION_CREATE).

The envelope carries what discord.py needs and nothing less: ``version``,
``attachment_size_limit``, the channel, and the member with ``permissions`` computed by the fake
(discord.py's only source of ``interaction.permissions``). Every injection is checked against
what the bot really registered or posted; an impossible one raises ``InvalidInteraction``.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import TYPE_CHECKING, Any

from .commands import OptionBuilder, check_member_may_use
from .messages import Message, StoredAttachment, iter_components
from .records import InteractionRecord, InvalidInteraction
from .state import DM_UPLOAD_LIMIT, Channel, Guild, Member, Perm, User, id_of

if TYPE_CHECKING:
    from .server import FakeDiscord

#: Select menu type -> option type resolved alike (user, role, mentionable, channel).
_SELECT_RESOLVES = {5: 6, 6: 8, 7: 9, 8: 7}


class Injector:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    # -- context --------------------------------------------------------------------------
    def _context(self, guild: Any, channel: Any, member: Any) -> tuple[Guild, Channel, Member, int]:
        world = self.fake.world
        try:
            g = world.guild(guild)
            ch = world.channel(channel)
        except KeyError as exc:
            raise InvalidInteraction(f"unknown guild or channel: {exc}") from exc
        if ch.guild_id != g.id:
            raise InvalidInteraction(f"channel {ch.id} is not in guild {g.id}")
        m = g.members.get(id_of(member))
        if m is None:
            raise InvalidInteraction(f"user {id_of(member)} is not a member of guild {g.id}")
        perms = world.permissions(g, m, ch)
        if not perms & Perm.VIEW_CHANNEL:
            raise InvalidInteraction(f"{m.user.username} cannot see channel {ch.name!r}")
        return g, ch, m, perms

    def _make_attachment(self, channel_id: int) -> Any:
        def make(filename: str, data: bytes, content_type: str | None) -> StoredAttachment:
            return self.fake.store_attachment(channel_id, filename, data, content_type)

        return make

    # -- application commands -------------------------------------------------------------
    async def slash(
        self,
        guild: Any,
        channel: Any,
        member: Any,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        focused: str | None = None,
        ack_timeout: float | None = None,
    ) -> InteractionRecord:
        g, ch, m, perms = self._context(guild, channel, member)
        if not perms & Perm.USE_APPLICATION_COMMANDS:
            raise InvalidInteraction(f"{m.user.username} may not use application commands here")
        defn = self.fake.commands.find(g.id, name)
        check_member_may_use(defn, perms)
        builder = OptionBuilder(self.fake.world, g.id, m, self._make_attachment(ch.id))
        data = builder.command_data(defn, subcommand, options or {}, focused)
        itype = 4 if focused is not None else 2
        return self._begin(itype, g, ch, m.user, perms, data, ack_timeout=ack_timeout)

    # -- components -----------------------------------------------------------------------
    def _component(
        self, message: Message | int, custom_id: str, user: Any, kinds: set[int]
    ) -> tuple[Message, dict[str, Any]]:
        msg = self.fake.find_message(id_of(message))
        if msg is None or msg.deleted:
            raise InvalidInteraction(f"message {id_of(message)} does not exist")
        if msg.ephemeral and msg.interaction_id is not None:
            owner = self.fake.interactions[msg.interaction_id].user_id
            if owner != id_of(user):
                raise InvalidInteraction("only the user who got an ephemeral message can click it")
        for comp in iter_components(msg.components):
            if comp.get("custom_id") == custom_id and comp.get("type") in kinds:
                if comp.get("disabled"):
                    raise InvalidInteraction(f"component {custom_id!r} is disabled")
                return msg, comp
        raise InvalidInteraction(
            f"no component {custom_id!r} on message {msg.id}: {msg.custom_ids()}"
        )

    def _component_context(
        self, msg: Message, user: Any
    ) -> tuple[Guild | None, Channel, User, int]:
        world = self.fake.world
        if msg.guild_id is None:
            ch = world.channel(msg.channel_id)
            u = world.users[id_of(user)]
            if ch.recipient_ids != [u.id]:
                raise InvalidInteraction(f"user {u.id} is not in DM channel {ch.id}")
            return None, ch, u, 0
        g, ch, m, perms = self._context(msg.guild_id, msg.channel_id, user)
        return g, ch, m.user, perms

    async def button(
        self,
        message: Message | int,
        custom_id: str,
        member: Any,
        *,
        ack_timeout: float | None = None,
    ) -> InteractionRecord:
        msg, comp = self._component(message, custom_id, member, {2})
        if comp.get("style") in (5, 6):
            raise InvalidInteraction("link and premium buttons do not send interactions")
        g, ch, user, perms = self._component_context(msg, member)
        data = {"custom_id": custom_id, "component_type": 2}
        return self._begin(3, g, ch, user, perms, data, source=msg, ack_timeout=ack_timeout)

    async def select(
        self,
        message: Message | int,
        custom_id: str,
        member: Any,
        values: list[Any],
        *,
        ack_timeout: float | None = None,
    ) -> InteractionRecord:
        msg, comp = self._component(message, custom_id, member, {3, 5, 6, 7, 8})
        g, ch, user, perms = self._component_context(msg, member)
        low, high = comp.get("min_values", 1), comp.get("max_values", 1)
        if not low <= len(values) <= high:
            raise InvalidInteraction(
                f"select {custom_id!r} takes {low}..{high} values, got {len(values)}"
            )
        kind = comp["type"]
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": kind}
        if kind == 3:
            allowed = [o["value"] for o in comp.get("options") or []]
            if any(v not in allowed for v in values):
                raise InvalidInteraction(f"select {custom_id!r} values must be among {allowed}")
            data["values"] = list(values)
        else:
            if g is None:
                raise InvalidInteraction("entity selects are only modelled in guilds")
            builder = OptionBuilder(
                self.fake.world, g.id, g.members[user.id], self._make_attachment(ch.id)
            )
            spec = {"name": custom_id, "channel_types": comp.get("channel_types")}

            def bad(expected: str) -> InvalidInteraction:
                return InvalidInteraction(f"select {custom_id!r}: expected {expected}")

            data["values"] = [
                builder.resolve_id(_SELECT_RESOLVES[kind], spec, v, bad) for v in values
            ]
            data["resolved"] = builder.resolved
        return self._begin(3, g, ch, user, perms, data, source=msg, ack_timeout=ack_timeout)

    # -- modals ---------------------------------------------------------------------------
    async def modal_submit(
        self,
        opened: InteractionRecord,
        values: dict[str, Any],
        *,
        ack_timeout: float | None = None,
    ) -> InteractionRecord:
        modal = opened.modal
        if modal is None:
            raise InvalidInteraction(f"interaction {opened.id} did not open a modal")
        unused = set(values)
        submitted: list[dict[str, Any]] = []
        for comp in modal.get("components") or []:
            if comp.get("type") == 1:
                children = [
                    self._submitted(c, values, unused) for c in comp.get("components") or []
                ]
                submitted.append({"type": 1, "components": children})
            elif comp.get("type") == 18:
                inner = self._submitted(comp["component"], values, unused)
                submitted.append({"type": 18, "id": comp.get("id", 0), "component": inner})
        if unused:
            raise InvalidInteraction(f"modal {modal['custom_id']!r} has no inputs {sorted(unused)}")
        data = {"custom_id": modal["custom_id"], "components": submitted}
        world = self.fake.world
        channel = world.channel(opened.channel_id)
        user = world.users[opened.user_id]
        guild = world.guilds.get(opened.guild_id) if opened.guild_id else None
        perms = world.permissions(guild, user, channel) if guild else 0
        return self._begin(
            5,
            guild,
            channel,
            user,
            perms,
            data,
            source=opened.source_message,
            parent=opened,
            ack_timeout=ack_timeout,
        )

    @staticmethod
    def _submitted(
        comp: dict[str, Any], values: dict[str, Any], unused: set[str]
    ) -> dict[str, Any]:
        cid = comp.get("custom_id")
        unused.discard(cid or "")
        kind = comp.get("type")
        if kind == 4:
            value = values.get(cid or "", comp.get("value") or "")
            if not isinstance(value, str):
                raise InvalidInteraction(f"text input {cid!r} takes a str")
            if comp.get("required", True) and not value:
                raise InvalidInteraction(f"text input {cid!r} is required")
            if value and not comp.get("min_length", 0) <= len(value) <= comp.get(
                "max_length", 4000
            ):
                raise InvalidInteraction(f"text input {cid!r} length out of min/max_length")
            return {"type": 4, "custom_id": cid, "value": value, "id": comp.get("id", 0)}
        if cid is None:
            return {"type": kind, "id": comp.get("id", 0)}
        return {
            "type": kind,
            "custom_id": cid,
            "values": list(values.get(cid, [])),
            "id": comp.get("id", 0),
        }

    # -- envelope -------------------------------------------------------------------------
    def _begin(
        self,
        itype: int,
        guild: Guild | None,
        channel: Channel,
        user: User,
        perms: int,
        data: dict[str, Any],
        *,
        source: Message | None = None,
        parent: InteractionRecord | None = None,
        ack_timeout: float | None = None,
    ) -> InteractionRecord:
        fake = self.fake
        world = fake.world
        iid = fake.ids()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(fake.application_id),
            "type": itype,
            "token": token,
            "version": 1,
            "locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "channel_id": str(channel.id),
            "channel": world.channel_payload(channel),
            "data": data,
        }
        if guild is not None:
            bot_perms = fake.bot_permissions(channel) if world.bot_user.id in guild.members else 0
            payload["channel"]["permissions"] = str(perms)
            member = guild.members[user.id].payload() | {"permissions": str(perms)}
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=member,
                app_permissions=str(bot_perms),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
                attachment_size_limit=guild.upload_limit,
            )
        else:
            payload.update(
                user=user.payload(),
                app_permissions="0",
                authorizing_integration_owners={"0": str(user.id)},
                context=1,
                attachment_size_limit=DM_UPLOAD_LIMIT,
            )
        if source is not None:
            payload["message"] = source.payload()
        timeout = fake.ack_timeout if ack_timeout is None else ack_timeout
        loop = asyncio.get_running_loop()
        rec = InteractionRecord(
            id=iid,
            token=token,
            type=itype,
            payload=payload,
            guild_id=guild.id if guild else 0,
            channel_id=channel.id,
            user_id=user.id,
            deadline=loop.time() + timeout,
            notifier=fake.notifier,
            source_message=source,
            parent=parent,
        )
        fake.register_interaction(rec, timeout)
        rec.delivered_to = fake.gateway.dispatch("INTERACTION_CREATE", payload)
        fake.notify()
        return rec
