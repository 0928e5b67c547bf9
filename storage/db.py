"""The SQLite connection: WAL, foreign keys, and numbered migrations.

Migrations are the numbered files in storage/migrations (`001_initial.sql`, ...); the applied
number lives in `PRAGMA user_version`, and each file runs in one transaction, so a crash mid-
migration leaves the previous version intact. WAL lets /stats read while a clip is written.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from engine.core.private import DIR_MODE, private_file, tighten
from engine.core.stores import StoreBusy

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_NUMBERED = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


_BUSY_CODES = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED (primary codes)


class DatabaseBusy(StoreBusy, sqlite3.OperationalError):
    """SQLITE_BUSY past the busy timeout, as the engine's StoreBusy (code that catches
    sqlite3.OperationalError still catches it)."""


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    return "locked" in str(exc) or "busy" in str(exc)


@asynccontextmanager
async def _busy_as_store_busy() -> AsyncIterator[None]:
    try:
        yield
    except DatabaseBusy:
        raise
    except sqlite3.OperationalError as exc:
        if _is_busy(exc):
            raise DatabaseBusy(str(exc)) from exc
        raise


def utcnow() -> str:
    """The one place storage reads the wall clock: aware UTC, ISO text."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def migrations() -> list[tuple[int, Path]]:
    found = []
    for path in sorted(MIGRATIONS.iterdir()):
        m = _NUMBERED.match(path.name)
        if m:
            found.append((int(m[1]), path))
    numbers = [n for n, _ in found]
    # Contiguous: a database at version N has run exactly 001..N, so a gap (a migration merged
    # later with a lower number) would be skipped on every database already past it.
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 001, 002, ... without gaps: {numbers}")
    return found


class Database:
    """One aiosqlite connection shared by the repositories."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        p = Path(path)
        p.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        # Owner-only before SQLite opens it: SQLite gives the -wal and -shm files the
        # database file's mode, so those are 0600 too (an older version's 0644 is tightened).
        private_file(p)
        tighten(f"{p}-wal", f"{p}-shm", f"{p}-journal")
        conn = await aiosqlite.connect(p, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
            await conn.execute("PRAGMA synchronous=NORMAL")
            db = cls(conn, p)
            await db.migrate()
        except BaseException:
            # Not a database, locked, unreadable: close the connection's thread, or the
            # process that reports the problem would hang on it at exit.
            await conn.close()
            raise
        return db

    async def version(self) -> int:
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self) -> int:
        current = await self.version()
        for number, path in migrations():
            if number <= current:
                continue
            script = path.read_text(encoding="utf-8")
            # executescript commits first; BEGIN/COMMIT inside keeps each file atomic.
            await self.conn.executescript(
                f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )
            current = number
        return current

    # Each statement: a database another connection keeps locked past busy_timeout raises
    # DatabaseBusy (engine.core.stores.StoreBusy), which fronts answer with "busy, try again".

    async def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        async with _busy_as_store_busy(), self.conn.execute(sql, params) as cur:
            return cur.rowcount

    async def insert(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> int:
        """Run one INSERT; returns the new row's id."""
        async with _busy_as_store_busy(), self.conn.execute(sql, params) as cur:
            return int(cur.lastrowid or 0)

    async def fetchone(
        self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()
    ) -> aiosqlite.Row | None:
        async with _busy_as_store_busy(), self.conn.execute(sql, params) as cur:
            return await cur.fetchone()

    async def fetchall(
        self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()
    ) -> list[aiosqlite.Row]:
        async with _busy_as_store_busy(), self.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def close(self) -> None:
        await self.conn.close()
