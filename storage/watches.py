"""Watches (guild x streamer), their threshold overrides and saved detector state, and the
cache of stable Kick channel facts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from storage.db import Database, utcnow


@dataclass(frozen=True, slots=True)
class WatchRow:
    guild_id: int
    streamer: str
    added_by: int | None
    added_at: str
    overrides: dict[str, float] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChannelRow:
    slug: str
    channel_id: int | None
    user_id: int | None
    chatroom_id: int | None
    chatroom_manual: bool


class WatchRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, guild_id: int, streamer: str, added_by: int | None) -> bool:
        """Returns False when the guild already watched this streamer."""
        return (
            await self.db.execute(
                "INSERT OR IGNORE INTO watches (guild_id, streamer, added_by, added_at)"
                " VALUES (?, ?, ?, ?)",
                (guild_id, streamer, added_by, utcnow()),
            )
            > 0
        )

    async def remove(self, guild_id: int, streamer: str) -> bool:
        return (
            await self.db.execute(
                "DELETE FROM watches WHERE guild_id = ? AND streamer = ?", (guild_id, streamer)
            )
            > 0
        )

    async def _overrides(self, guild_id: int, streamer: str) -> dict[str, float]:
        rows = await self.db.fetchall(
            "SELECT name, value FROM thresholds WHERE guild_id = ? AND streamer = ?",
            (guild_id, streamer),
        )
        return {str(r[0]): float(r[1]) for r in rows}

    async def all(self, guild_id: int | None = None) -> list[WatchRow]:
        sql = "SELECT guild_id, streamer, added_by, added_at, detector_state FROM watches"
        params: tuple[Any, ...] = ()
        if guild_id is not None:
            sql += " WHERE guild_id = ?"
            params = (guild_id,)
        rows = await self.db.fetchall(sql + " ORDER BY guild_id, streamer", params)
        out = []
        for r in rows:
            state = json.loads(r[4]) if r[4] else {}
            out.append(
                WatchRow(
                    int(r[0]),
                    str(r[1]),
                    r[2],
                    str(r[3]),
                    await self._overrides(int(r[0]), str(r[1])),
                    state,
                )
            )
        return out

    async def streamers(self, guild_id: int) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT streamer FROM watches WHERE guild_id = ? ORDER BY streamer", (guild_id,)
        )
        return [str(r[0]) for r in rows]

    async def set_threshold(
        self, guild_id: int, streamer: str, name: str, value: float, by: int | None
    ) -> None:
        await self.db.execute(
            "INSERT INTO thresholds (guild_id, streamer, name, value, set_by, set_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, streamer, name) DO UPDATE SET"
            " value = excluded.value, set_by = excluded.set_by, set_at = excluded.set_at",
            (guild_id, streamer, name, value, by, utcnow()),
        )

    async def reset_thresholds(self, guild_id: int, streamer: str, name: str | None) -> int:
        if name is None:
            return await self.db.execute(
                "DELETE FROM thresholds WHERE guild_id = ? AND streamer = ?", (guild_id, streamer)
            )
        return await self.db.execute(
            "DELETE FROM thresholds WHERE guild_id = ? AND streamer = ? AND name = ?",
            (guild_id, streamer, name),
        )

    async def thresholds(self, guild_id: int, streamer: str) -> dict[str, float]:
        return await self._overrides(guild_id, streamer)

    async def save_state(self, guild_id: int, streamer: str, state: dict[str, Any]) -> None:
        await self.db.execute(
            "UPDATE watches SET detector_state = ? WHERE guild_id = ? AND streamer = ?",
            (json.dumps(state), guild_id, streamer),
        )


class ChannelCacheRepo:
    """Stable Kick facts (ids, chatroom id) so a later 403 costs only freshness."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, slug: str) -> ChannelRow | None:
        row = await self.db.fetchone(
            "SELECT slug, channel_id, user_id, chatroom_id, chatroom_manual FROM channels"
            " WHERE slug = ?",
            (slug,),
        )
        if row is None:
            return None
        return ChannelRow(str(row[0]), row[1], row[2], row[3], bool(row[4]))

    async def put(
        self,
        slug: str,
        channel_id: int | None,
        user_id: int | None,
        chatroom_id: int | None,
        manual: bool = False,
    ) -> None:
        """Store looked-up facts; a chatroom id set by hand is never overwritten by a lookup."""
        await self.db.execute(
            "INSERT INTO channels (slug, channel_id, user_id, chatroom_id, chatroom_manual,"
            " updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (slug) DO UPDATE SET"
            " channel_id = coalesce(excluded.channel_id, channels.channel_id),"
            " user_id = coalesce(excluded.user_id, channels.user_id),"
            " chatroom_id = CASE WHEN channels.chatroom_manual AND NOT excluded.chatroom_manual"
            "   THEN channels.chatroom_id ELSE coalesce(excluded.chatroom_id, channels.chatroom_id)"
            "   END,"
            " chatroom_manual = max(channels.chatroom_manual, excluded.chatroom_manual),"
            " updated_at = excluded.updated_at",
            (slug, channel_id, user_id, chatroom_id, int(manual), utcnow()),
        )
