"""Publish jobs, vertical layouts and OAuth refresh tokens (migration 005).

A job is one clip to one target (`UNIQUE (clip_id, target)`): asking twice finds the same row,
so a clip cannot be uploaded twice by two clicks, auto-publish and the web at once. Every state
change is a compare-and-set on the state, like the clip lifecycle, so a restart resumes where it
stopped. publishing/ reaches this only through its PublishStore Protocol (bot.py wires it).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from storage.db import Database, utcnow

JOB_STATES = ("queued", "rendering", "uploading", "published", "failed")
_JOB_COLUMNS = (
    "id, clip_id, guild_id, target, variant, state, progress, file_path, session_uri, remote_id,"
    " url, error, not_before, attempts, requested_by, created_at, updated_at"
)
_EDITABLE = {
    "state",
    "progress",
    "file_path",
    "session_uri",
    "remote_id",
    "url",
    "error",
    "not_before",
    "attempts",
    "requested_by",
}


@dataclass(slots=True)
class PublishJobRow:
    id: int
    clip_id: int
    guild_id: int
    target: str
    variant: str
    state: str
    progress: float
    file_path: str | None
    session_uri: str | None
    remote_id: str | None
    url: str | None
    error: str | None
    not_before: float | None
    attempts: int
    requested_by: int | None
    created_at: str
    updated_at: str


@dataclass(slots=True)
class LayoutRow:
    guild_id: int
    streamer: str
    layout: str
    crop: str | None  # JSON [x, y, w, h], fractions of the frame
    facecam: str | None
    gameplay: str | None
    set_by: int | None
    set_at: str


class PublishRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, clip_id: int, guild_id: int, target: str, variant: str, requested_by: int | None
    ) -> tuple[PublishJobRow, bool]:
        """The job of (clip, target), created `queued` if there was none; (job, created)."""
        now = utcnow()
        created = await self.db.execute(
            "INSERT OR IGNORE INTO publish_jobs (clip_id, guild_id, target, variant, state,"
            " requested_by, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)",
            (clip_id, guild_id, target, variant, requested_by, now, now),
        )
        row = await self.db.fetchone(
            f"SELECT {_JOB_COLUMNS} FROM publish_jobs WHERE clip_id = ? AND target = ?",  # noqa: S608
            (clip_id, target),
        )
        assert row is not None
        return PublishJobRow(*row), created > 0

    async def get(self, job_id: int) -> PublishJobRow | None:
        row = await self.db.fetchone(
            f"SELECT {_JOB_COLUMNS} FROM publish_jobs WHERE id = ?",  # noqa: S608
            (job_id,),
        )
        return PublishJobRow(*row) if row else None

    async def for_clip(self, clip_id: int) -> list[PublishJobRow]:
        rows = await self.db.fetchall(
            f"SELECT {_JOB_COLUMNS} FROM publish_jobs WHERE clip_id = ? ORDER BY id",  # noqa: S608
            (clip_id,),
        )
        return [PublishJobRow(*r) for r in rows]

    async def with_state(self, *states: str) -> list[PublishJobRow]:
        marks = ", ".join("?" * len(states))
        rows = await self.db.fetchall(
            f"SELECT {_JOB_COLUMNS} FROM publish_jobs WHERE state IN ({marks}) ORDER BY id",  # noqa: S608
            tuple(states),
        )
        return [PublishJobRow(*r) for r in rows]

    async def transition(
        self, job_id: int, from_states: Iterable[str] | None, **fields: Any
    ) -> bool:
        """Compare-and-set on the state: True if the row was in one of `from_states`."""
        bad = set(fields) - _EDITABLE
        if bad:
            raise ValueError(f"not editable: {sorted(bad)}")
        if "state" in fields and fields["state"] not in JOB_STATES:
            raise ValueError(f"unknown state {fields['state']!r}")
        sets = ", ".join(f"{k} = ?" for k in fields)
        params: list[Any] = [*fields.values(), utcnow(), job_id]
        sql = f"UPDATE publish_jobs SET {sets}, updated_at = ? WHERE id = ?"  # noqa: S608
        if from_states is not None:
            allowed = tuple(from_states)
            sql += f" AND state IN ({', '.join('?' * len(allowed))})"
            params.extend(allowed)
        return await self.db.execute(sql, tuple(params)) > 0

    # -- layouts -----------------------------------------------------------------------------

    async def layout(self, guild_id: int, streamer: str) -> LayoutRow | None:
        row = await self.db.fetchone(
            "SELECT guild_id, streamer, layout, crop, facecam, gameplay, set_by, set_at"
            " FROM publish_layouts WHERE guild_id = ? AND streamer = ?",
            (guild_id, streamer),
        )
        return LayoutRow(*row) if row else None

    async def set_layout(
        self,
        guild_id: int,
        streamer: str,
        layout: str,
        crop: str | None,
        facecam: str | None,
        gameplay: str | None,
        by: int | None,
    ) -> None:
        await self.db.execute(
            "INSERT INTO publish_layouts (guild_id, streamer, layout, crop, facecam, gameplay,"
            " set_by, set_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, streamer)"
            " DO UPDATE SET layout = excluded.layout, crop = excluded.crop,"
            " facecam = excluded.facecam, gameplay = excluded.gameplay,"
            " set_by = excluded.set_by, set_at = excluded.set_at",
            (guild_id, streamer, layout, crop, facecam, gameplay, by, utcnow()),
        )

    # -- OAuth -------------------------------------------------------------------------------

    async def refresh_token(self, provider: str) -> str | None:
        row = await self.db.fetchone(
            "SELECT refresh_token FROM oauth_tokens WHERE provider = ?", (provider,)
        )
        return str(row[0]) if row else None

    async def save_refresh_token(
        self, provider: str, token: str, scope: str | None, account: str | None
    ) -> None:
        """Store a refresh token and make the database file readable by its owner only: the
        token grants upload rights to the channel until it is revoked."""
        await self.db.execute(
            "INSERT INTO oauth_tokens (provider, refresh_token, scope, account, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (provider) DO UPDATE SET"
            " refresh_token = excluded.refresh_token, scope = excluded.scope,"
            " account = excluded.account, created_at = excluded.created_at",
            (provider, token, scope, account, utcnow()),
        )
        self.restrict_file()

    async def forget_token(self, provider: str) -> bool:
        return await self.db.execute("DELETE FROM oauth_tokens WHERE provider = ?", (provider,)) > 0

    def restrict_file(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            path = f"{self.db.path}{suffix}"
            with contextlib.suppress(FileNotFoundError):
                os.chmod(path, 0o600)
