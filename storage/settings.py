"""Per-guild settings: where clips go, who may review, who wants DM alerts."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database, utcnow


@dataclass(frozen=True, slots=True)
class GuildSettings:
    guild_id: int
    review_channel_id: int | None = None
    reviewer_role_id: int | None = None
    upload_limit: int | None = None


class SettingsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, guild_id: int) -> GuildSettings:
        row = await self.db.fetchone(
            "SELECT guild_id, review_channel_id, reviewer_role_id, upload_limit "
            "FROM guild_settings WHERE guild_id = ?",
            (guild_id,),
        )
        return GuildSettings(*row) if row else GuildSettings(guild_id)

    async def set_review(self, guild_id: int, channel_id: int, role_id: int | None) -> None:
        await self.db.execute(
            "INSERT INTO guild_settings (guild_id, review_channel_id, reviewer_role_id, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET"
            " review_channel_id = excluded.review_channel_id,"
            " reviewer_role_id = excluded.reviewer_role_id, updated_at = excluded.updated_at",
            (guild_id, channel_id, role_id, utcnow()),
        )

    async def set_upload_limit(self, guild_id: int, limit: int) -> None:
        """Remember the guild's upload limit as interactions report it (boosts raise it)."""
        await self.db.execute(
            "INSERT INTO guild_settings (guild_id, upload_limit, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET upload_limit = excluded.upload_limit",
            (guild_id, limit, utcnow()),
        )

    async def subscribe(self, guild_id: int, user_id: int, on: bool) -> bool:
        """Turn a member's super_combo DMs on or off; returns whether anything changed."""
        if on:
            changed = await self.db.execute(
                "INSERT OR IGNORE INTO alert_subscribers (guild_id, user_id, created_at)"
                " VALUES (?, ?, ?)",
                (guild_id, user_id, utcnow()),
            )
        else:
            changed = await self.db.execute(
                "DELETE FROM alert_subscribers WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id),
            )
        return changed > 0

    async def subscribers(self, guild_id: int) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT user_id FROM alert_subscribers WHERE guild_id = ? ORDER BY user_id",
            (guild_id,),
        )
        return [int(r[0]) for r in rows]
