"""Live sessions of each streamer (one row per Kick livestream the bot saw), and which clips
were made during which session.

Written by engine.core.watch_hub.SessionTracker from the Feeds' LiveChange events. Times are ISO
UTC text like everywhere in storage; the tracker passes unix seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from storage.db import Database


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    streamer: str
    livestream_id: int | None
    title: str | None
    started_at: str
    ended_at: str | None


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat(timespec="seconds")


class SessionRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def open(
        self, streamer: str, started_at: float, livestream_id: int | None, title: str | None
    ) -> int:
        """A session for a stream that just went live; returns its id.

        When the streamer's latest session is the same Kick livestream (a restart or a
        dropped poll in the middle of one stream), that session is reopened instead of a new
        one starting: one stream stays one session.
        """
        if livestream_id is not None:
            latest = await self.latest(streamer)
            if latest is not None and latest.livestream_id == livestream_id:
                await self.db.execute(
                    "UPDATE sessions SET ended_at = NULL, title = coalesce(?, title) WHERE id = ?",
                    (title, latest.id),
                )
                return latest.id
        return await self.db.insert(
            "INSERT INTO sessions (streamer, livestream_id, title, started_at) VALUES (?, ?, ?, ?)",
            (streamer, livestream_id, title, _iso(started_at)),
        )

    async def close(self, session_id: int, ended_at: float) -> bool:
        return (
            await self.db.execute(
                "UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
                (_iso(ended_at), session_id),
            )
            > 0
        )

    async def close_all_open(self, ended_at: float) -> int:
        """Close what a previous run left open (it crashed, or was killed before closing)."""
        return await self.db.execute(
            "UPDATE sessions SET ended_at = ? WHERE ended_at IS NULL", (_iso(ended_at),)
        )

    async def describe(self, session_id: int, livestream_id: int | None, title: str | None) -> None:
        """Fill in what was unknown when the session opened (a live push has no ids)."""
        await self.db.execute(
            "UPDATE sessions SET livestream_id = coalesce(livestream_id, ?),"
            " title = coalesce(title, ?) WHERE id = ?",
            (livestream_id, title, session_id),
        )

    async def link_clip(self, clip_id: int, session_id: int) -> None:
        await self.db.execute(
            "UPDATE clips SET session_id = ? WHERE id = ? AND session_id IS NULL",
            (session_id, clip_id),
        )

    async def latest(self, streamer: str) -> SessionRow | None:
        row = await self.db.fetchone(
            "SELECT id, streamer, livestream_id, title, started_at, ended_at FROM sessions"
            " WHERE streamer = ? ORDER BY id DESC LIMIT 1",
            (streamer,),
        )
        return SessionRow(*row) if row else None

    async def of_streamer(self, streamer: str) -> list[SessionRow]:
        rows = await self.db.fetchall(
            "SELECT id, streamer, livestream_id, title, started_at, ended_at FROM sessions"
            " WHERE streamer = ? ORDER BY id",
            (streamer,),
        )
        return [SessionRow(*r) for r in rows]

    async def clip_session(self, clip_id: int) -> int | None:
        row = await self.db.fetchone("SELECT session_id FROM clips WHERE id = ?", (clip_id,))
        return int(row[0]) if row and row[0] is not None else None
