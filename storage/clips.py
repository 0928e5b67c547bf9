"""Clips through their lifecycle, and the outbox that makes posting exactly-once.

detected -> cutting -> ready -> posting -> posted -> approved | rejected -> deleted
(failed when the video cannot be cut). Every step is a row update, so a restart resumes where
it stopped: detected/cutting clips are cut again, ready ones are posted, and a clip left in
`posting` (the bot died between sending and recording the message) is looked up in the channel
before it is sent again. `posts.clip_id` is the primary key, so a clip cannot own two messages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from storage.db import Database, utcnow

STATUSES = (
    "detected",
    "cutting",
    "ready",
    "posting",
    "posted",
    "approved",
    "rejected",
    "deleted",
    "failed",
)
REVIEWABLE = ("posted", "approved", "rejected")
_SELECT = (
    "SELECT c.id, c.guild_id, c.streamer, c.moment_key, c.t, c.trigger, c.triggers, c.confidence,"
    " c.clip_start, c.clip_end, c.details, c.status, c.original_path, c.preview_path,"
    " c.thumbnail_path, c.note, c.title, c.favorite, c.reviewed_by, c.reviewed_at, c.alerted,"
    " c.error, c.created_at, c.updated_at, p.channel_id, p.message_id"
    " FROM clips c LEFT JOIN posts p ON p.clip_id = c.id"
)
_EDITABLE = {
    "status",
    "original_path",
    "preview_path",
    "thumbnail_path",
    "note",
    "title",
    "favorite",
    "reviewed_by",
    "reviewed_at",
    "alerted",
    "error",
}


@dataclass(slots=True)
class ClipRow:
    id: int
    guild_id: int
    streamer: str
    moment_key: str
    t: float
    trigger: str
    triggers: list[str]
    confidence: float
    clip_start: float
    clip_end: float
    details: dict[str, Any]
    status: str
    original_path: str | None
    preview_path: str | None
    thumbnail_path: str | None
    note: str | None
    title: str | None
    favorite: bool
    reviewed_by: int | None
    reviewed_at: str | None
    alerted: bool
    error: str | None
    created_at: str
    updated_at: str
    channel_id: int | None = None
    message_id: int | None = None


def _row(r: Any) -> ClipRow:
    v = list(r)
    v[6] = json.loads(v[6])
    v[10] = json.loads(v[10])
    v[17] = bool(v[17])
    v[20] = bool(v[20])
    return ClipRow(*v)


class ClipRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record_moment(self, guild_id: int, moment: Any) -> tuple[int, bool]:
        """Store a detector Moment; returns (clip id, whether it is a new clip).

        Revision 0 inserts the clip; later revisions upgrade it (trigger, confidence, end)
        while it has not been cut yet. Replaying the same moment twice changes nothing.
        """
        now = utcnow()
        triggers = json.dumps(list(moment.triggers))
        await self.db.execute(
            "INSERT OR IGNORE INTO moments (guild_id, streamer, moment_key, revision, t, trigger,"
            " triggers, confidence, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                guild_id,
                moment.streamer,
                moment.key,
                moment.revision,
                moment.t,
                moment.trigger,
                triggers,
                moment.confidence,
                now,
            ),
        )
        details = json.dumps(moment.details, default=str)
        new = await self.db.execute(
            "INSERT OR IGNORE INTO clips (guild_id, streamer, moment_key, t, trigger, triggers,"
            " confidence, clip_start, clip_end, details, status, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'detected', ?, ?)",
            (
                guild_id,
                moment.streamer,
                moment.key,
                moment.t,
                moment.trigger,
                triggers,
                moment.confidence,
                moment.clip_start,
                moment.clip_end,
                details,
                now,
                now,
            ),
        )
        if not new:
            await self.db.execute(
                "UPDATE clips SET trigger = ?, triggers = ?, confidence = max(confidence, ?),"
                " clip_end = max(clip_end, ?), details = ?, updated_at = ?"
                " WHERE guild_id = ? AND moment_key = ? AND status = 'detected'",
                (
                    moment.trigger,
                    triggers,
                    moment.confidence,
                    moment.clip_end,
                    details,
                    now,
                    guild_id,
                    moment.key,
                ),
            )
        row = await self.db.fetchone(
            "SELECT id FROM clips WHERE guild_id = ? AND moment_key = ?", (guild_id, moment.key)
        )
        assert row is not None
        return int(row[0]), bool(new)

    async def get(self, clip_id: int) -> ClipRow | None:
        row = await self.db.fetchone(_SELECT + " WHERE c.id = ?", (clip_id,))
        return _row(row) if row else None

    async def update(self, clip_id: int, **fields: Any) -> None:
        await self.transition(clip_id, None, **fields)

    async def transition(
        self, clip_id: int, from_status: Iterable[str] | None, **fields: Any
    ) -> bool:
        """Compare-and-set: apply `fields` only if the status is one of `from_status`.

        Two reviewers clicking at once both call this; exactly one wins, the other sees False.
        """
        bad = set(fields) - _EDITABLE
        if bad:
            raise ValueError(f"not editable: {sorted(bad)}")
        if "status" in fields and fields["status"] not in STATUSES:
            raise ValueError(f"unknown status {fields['status']!r}")
        sets = ", ".join(f"{k} = ?" for k in fields)
        params: list[Any] = [*fields.values(), utcnow(), clip_id]
        sql = f"UPDATE clips SET {sets}, updated_at = ? WHERE id = ?"  # noqa: S608 - keys checked
        if from_status is not None:
            allowed = tuple(from_status)
            sql += f" AND status IN ({', '.join('?' * len(allowed))})"
            params.extend(allowed)
        return await self.db.execute(sql, tuple(params)) > 0

    async def record_post(
        self, clip_id: int, guild_id: int, channel_id: int, message_id: int
    ) -> bool:
        """Remember the message that carries a clip; False if it already had one."""
        added = await self.db.execute(
            "INSERT OR IGNORE INTO posts (clip_id, guild_id, channel_id, message_id, posted_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (clip_id, guild_id, channel_id, message_id, utcnow()),
        )
        await self.transition(clip_id, ("ready", "posting"), status="posted")
        return added > 0

    async def with_status(self, *statuses: str, guild_id: int | None = None) -> list[ClipRow]:
        sql = _SELECT + f" WHERE c.status IN ({', '.join('?' * len(statuses))})"
        params: list[Any] = list(statuses)
        if guild_id is not None:
            sql += " AND c.guild_id = ?"
            params.append(guild_id)
        rows = await self.db.fetchall(sql + " ORDER BY c.id", tuple(params))
        return [_row(r) for r in rows]

    async def by_message(self, message_id: int) -> ClipRow | None:
        row = await self.db.fetchone(_SELECT + " WHERE p.message_id = ?", (message_id,))
        return _row(row) if row else None

    async def listing(
        self, guild_id: int, status: str, streamer: str | None = None, limit: int = 25
    ) -> list[ClipRow]:
        sql = _SELECT + " WHERE c.guild_id = ? AND c.status = ?"
        params: list[Any] = [guild_id, status]
        if streamer:
            sql += " AND c.streamer = ?"
            params.append(streamer)
        rows = await self.db.fetchall(sql + " ORDER BY c.id LIMIT ?", (*params, limit))
        return [_row(r) for r in rows]

    async def status_counts(
        self, guild_id: int, streamer: str | None = None, since: str | None = None
    ) -> dict[str, int]:
        sql = "SELECT status, count(*) FROM clips WHERE guild_id = ?"
        params: list[Any] = [guild_id]
        if streamer:
            sql += " AND streamer = ?"
            params.append(streamer)
        if since:
            sql += " AND created_at >= ?"
            params.append(since)
        rows = await self.db.fetchall(sql + " GROUP BY status", tuple(params))
        return {str(r[0]): int(r[1]) for r in rows}

    async def rejected_before(self, cutoff: str) -> list[ClipRow]:
        rows = await self.db.fetchall(
            _SELECT + " WHERE c.status = 'rejected' AND c.reviewed_at < ?", (cutoff,)
        )
        return [_row(r) for r in rows]

    async def open_windows(self) -> list[tuple[str, float, float]]:
        """(streamer, start, end) of clips not cut yet: their segments must be kept."""
        rows = await self.db.fetchall(
            "SELECT streamer, clip_start, clip_end FROM clips"
            " WHERE status IN ('detected', 'cutting')"
        )
        return [(str(r[0]), float(r[1]), float(r[2])) for r in rows]

    async def created_between(self, start: str, end: str) -> list[ClipRow]:
        """Clips created in [start, end) (ISO UTC), for the daily summary."""
        rows = await self.db.fetchall(
            _SELECT + " WHERE c.created_at >= ? AND c.created_at < ? ORDER BY c.id", (start, end)
        )
        return [_row(r) for r in rows]

    async def count_day(self, guild_id: int, streamer: str, day: str, *, new_clip: bool) -> None:
        """Per-day history (in the limit's timezone): moments decided and clips started."""
        await self.db.execute(
            "INSERT INTO daily_counts (guild_id, streamer, day, clips, moments)"
            " VALUES (?, ?, ?, ?, 1) ON CONFLICT (guild_id, streamer, day) DO UPDATE SET"
            " clips = clips + excluded.clips, moments = moments + 1",
            (guild_id, streamer, day, int(new_clip)),
        )

    async def day_counts(self, guild_id: int, streamer: str, day: str) -> tuple[int, int]:
        """(clips, moments) of one guild, streamer and day."""
        row = await self.db.fetchone(
            "SELECT clips, moments FROM daily_counts WHERE guild_id = ? AND streamer = ?"
            " AND day = ?",
            (guild_id, streamer, day),
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)
