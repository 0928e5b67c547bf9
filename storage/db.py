"""The SQLite connection: WAL, foreign keys, and numbered migrations.

Migrations are the numbered files in storage/migrations (`001_initial.sql`, ...); the applied
number lives in `PRAGMA user_version`, and each file runs in one transaction, so a crash mid-
migration leaves the previous version intact. WAL lets /stats read while a clip is written.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_NUMBERED = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


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
    # Unique and increasing. Parallel branches reserve numbers ahead (a branch may ship 006
    # before 003-005 are merged), so a gap is allowed; a duplicate number never is.
    if len(set(numbers)) != len(numbers) or numbers != sorted(numbers):
        raise RuntimeError(f"migrations must have unique increasing numbers: {numbers}")
    return found


class Database:
    """One aiosqlite connection shared by the repositories."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
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

    async def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        async with self.conn.execute(sql, params) as cur:
            return cur.rowcount

    async def insert(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> int:
        """Run one INSERT; returns the new row's id."""
        async with self.conn.execute(sql, params) as cur:
            return int(cur.lastrowid or 0)

    async def fetchone(
        self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()
    ) -> aiosqlite.Row | None:
        async with self.conn.execute(sql, params) as cur:
            return await cur.fetchone()

    async def fetchall(
        self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()
    ) -> list[aiosqlite.Row]:
        async with self.conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def close(self) -> None:
        await self.conn.close()
