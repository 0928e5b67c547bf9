"""Synced application commands, and building slash/autocomplete ``data`` checked against them.

Discord only ever sends interactions for commands the bot registered, with option values of the
declared types; injecting anything else raises ``InvalidInteraction`` in the test, so a test
cannot pass by exercising a command shape that production would never deliver.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import Any

from . import validate
from .messages import StoredAttachment
from .records import InvalidInteraction
from .state import ALL_PERMISSIONS, Channel, Member, Snowflakes, User, World, id_of


class CommandStore:
    """Definitions per scope (``None`` = global), as the last bulk overwrite left them."""

    def __init__(self, ids: Snowflakes, application_id: int) -> None:
        self._ids = ids
        self._app_id = application_id
        self.definitions: dict[int | None, list[dict[str, Any]]] = {}

    def overwrite(self, guild_id: int | None, commands: Any) -> list[dict[str, Any]]:
        """Bulk overwrite: a command keeps its ID when name and type match, as on Discord."""
        validate.command_definitions(commands)
        previous = {(c["name"], c["type"]): c for c in self.definitions.get(guild_id, [])}
        stored: list[dict[str, Any]] = []
        for cmd in commands:
            kind = int(cmd.get("type", 1))
            prev = previous.get((cmd["name"], kind))
            item = copy.deepcopy(cmd)
            item.update(
                id=prev["id"] if prev else str(self._ids()),
                application_id=str(self._app_id),
                version=str(self._ids()),
                type=kind,
                description=cmd.get("description") or "",
                default_member_permissions=cmd.get("default_member_permissions"),
                nsfw=bool(cmd.get("nsfw", False)),
            )
            if guild_id is not None:
                item["guild_id"] = str(guild_id)
            stored.append(item)
        self.definitions[guild_id] = stored
        return copy.deepcopy(stored)

    def list(self, guild_id: int | None) -> list[dict[str, Any]]:
        return copy.deepcopy(self.definitions.get(guild_id, []))

    def find(self, guild_id: int, name: str, kind: int = 1) -> dict[str, Any]:
        """Guild commands shadow global ones, like in the Discord client."""
        for scope in (guild_id, None):
            for cmd in self.definitions.get(scope, []):
                if cmd["name"] == name and cmd["type"] == kind:
                    return cmd
        known = sorted({c["name"] for s in (guild_id, None) for c in self.definitions.get(s, [])})
        raise InvalidInteraction(f"/{name} is not synced for guild {guild_id} (synced: {known})")


def check_member_may_use(defn: dict[str, Any], member_permissions: int) -> None:
    """``default_member_permissions`` hides a command from members without those bits."""
    required = defn.get("default_member_permissions")
    if required is None or member_permissions == ALL_PERMISSIONS:
        return
    bits = int(required)
    if bits == 0 or member_permissions & bits != bits:
        raise InvalidInteraction(
            f"/{defn['name']} needs permissions {bits}; Discord would not offer it to this member"
        )


AttachmentMaker = Callable[[str, bytes, str | None], StoredAttachment]


class OptionBuilder:
    """Turns ``{"name": python value}`` into Discord option payloads plus ``resolved`` data."""

    def __init__(
        self, world: World, guild_id: int, invoker: Member, make_attachment: AttachmentMaker
    ) -> None:
        self.world = world
        self.guild = world.guild(guild_id)
        self.invoker = invoker
        self.make_attachment = make_attachment
        self.resolved: dict[str, dict[str, Any]] = {}

    def command_data(
        self,
        defn: dict[str, Any],
        subcommand: str | None,
        options: dict[str, Any],
        focused: str | None = None,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"id": defn["id"], "name": defn["name"], "type": defn["type"]}
        if "guild_id" in defn:
            data["guild_id"] = defn["guild_id"]
        defs = defn.get("options") or []
        path = subcommand.split() if subcommand else []
        has_subs = any(o["type"] in (1, 2) for o in defs)
        if has_subs != bool(path):
            subs = [o["name"] for o in defs if o["type"] in (1, 2)]
            raise InvalidInteraction(
                f"/{defn['name']}: subcommand {subcommand!r} vs defined {subs}"
            )
        chain: list[dict[str, Any]] = []
        for part in path:
            sub = next((o for o in defs if o["name"] == part and o["type"] in (1, 2)), None)
            if sub is None:
                raise InvalidInteraction(f"/{defn['name']}: unknown subcommand {part!r}")
            chain.append({"name": part, "type": sub["type"], "options": []})
            defs = sub.get("options") or []
        if chain and chain[-1]["type"] != 1:
            raise InvalidInteraction(f"/{defn['name']} {subcommand}: a group needs a subcommand")
        leaf = self._options(defs, options, focused)
        if chain:
            chain[-1]["options"] = leaf
            for outer, inner in itertools.pairwise(chain):
                outer["options"] = [inner]
            data["options"] = [chain[0]]
        else:
            data["options"] = leaf
        if self.resolved:
            data["resolved"] = self.resolved
        return data

    def _options(
        self, defs: list[dict[str, Any]], given: dict[str, Any], focused: str | None
    ) -> list[dict[str, Any]]:
        by_name = {d["name"]: d for d in defs}
        unknown = set(given) - set(by_name)
        if unknown:
            raise InvalidInteraction(
                f"unknown option(s) {sorted(unknown)}; defined: {sorted(by_name)}"
            )
        if focused is None:
            missing = [d["name"] for d in defs if d.get("required") and d["name"] not in given]
            if missing:
                raise InvalidInteraction(f"missing required option(s) {missing}")
        elif focused not in given or not by_name[focused].get("autocomplete"):
            raise InvalidInteraction(f"option {focused!r} is not an autocomplete option given here")
        out = []
        for name, value in given.items():
            d = by_name[name]
            opt: dict[str, Any] = {"name": name, "type": d["type"]}
            if name == focused:
                if not isinstance(value, str | int | float):
                    raise InvalidInteraction(f"focused option {name!r} must be typed text")
                opt["value"], opt["focused"] = value, True
            else:
                opt["value"] = self._convert(d, value)
            out.append(opt)
        return out

    def _convert(self, d: dict[str, Any], value: Any) -> Any:
        kind, name = d["type"], d["name"]

        def bad(expected: str) -> InvalidInteraction:
            return InvalidInteraction(
                f"option {name!r} is {validate.OPTION_TYPES[kind]}: {expected}, got {value!r}"
            )

        if kind == 3:
            if not isinstance(value, str):
                raise bad("str")
            if not d.get("min_length", 0) <= len(value) <= d.get("max_length", 6000):
                raise bad("length within min_length/max_length")
        elif kind in (4, 10):
            ok = int if kind == 4 else int | float
            if isinstance(value, bool) or not isinstance(value, ok):
                raise bad("int" if kind == 4 else "number")
            if d.get("min_value") is not None and value < d["min_value"]:
                raise bad(f">= {d['min_value']}")
            if d.get("max_value") is not None and value > d["max_value"]:
                raise bad(f"<= {d['max_value']}")
        elif kind == 5:
            if not isinstance(value, bool):
                raise bad("bool")
        elif kind == 11:
            return self._attachment(value, bad)
        else:
            return self.resolve_id(kind, d, value, bad)
        if d.get("choices") and value not in [c["value"] for c in d["choices"]]:
            raise bad(f"one of {[c['value'] for c in d['choices']]}")
        return value

    def resolve_id(self, kind: int, d: dict[str, Any], value: Any, bad: Any) -> str:
        """User/channel/role/mentionable: the value is an ID, the objects go to ``resolved``."""
        try:
            target_id = id_of(value)
        except (TypeError, ValueError, AttributeError) as exc:
            raise bad("an ID or object") from exc
        role = self.guild.roles.get(target_id)
        if kind == 8 or (kind == 9 and role is not None and not isinstance(value, User | Member)):
            if role is None:
                raise bad("a role of this guild")
            self.resolved.setdefault("roles", {})[str(role.id)] = role.payload()
        elif kind in (6, 9):
            user = self.world.users.get(target_id)
            if user is None:
                raise bad("a known user")
            self.resolved.setdefault("users", {})[str(user.id)] = user.payload()
            member = self.guild.members.get(user.id)
            if member is not None:
                entry = member.payload(with_user=False)
                entry["permissions"] = str(self.world.permissions(self.guild, member))
                self.resolved.setdefault("members", {})[str(user.id)] = entry
        else:  # 7 channel
            channel = self.guild.channels.get(target_id)
            if channel is None:
                raise bad("a channel of this guild")
            if d.get("channel_types") and channel.type not in d["channel_types"]:
                raise bad(f"a channel of type {d['channel_types']}")
            self.resolved.setdefault("channels", {})[str(channel.id)] = self._channel(channel)
        return str(target_id)

    def _channel(self, channel: Channel) -> dict[str, Any]:
        perms = self.world.permissions(self.guild, self.invoker, channel)
        return {
            "id": str(channel.id),
            "name": channel.name,
            "type": channel.type,
            "permissions": str(perms),
            "parent_id": None,
            "guild_id": str(self.guild.id),
        }

    def _attachment(self, value: Any, bad: Any) -> str:
        """An attachment option is given as ``(filename, bytes[, content_type])``."""
        if not isinstance(value, tuple) or len(value) not in (2, 3):
            raise bad("(filename, bytes[, content_type])")
        filename, data, *rest = value
        att = self.make_attachment(filename, bytes(data), rest[0] if rest else None)
        self.resolved.setdefault("attachments", {})[str(att.id)] = att.payload()
        return str(att.id)
