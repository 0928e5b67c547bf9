"""The dashboard's clip queries (engine.core.library.ClipQuery) as single indexed SELECTs.

Keyset pagination: `before` continues strictly after the last row of the previous page, in the
order of the page (id DESC, or confidence DESC then id DESC), so every page is an index walk
that stops after `limit` rows (migration 004 adds the indexes). Deleted clips are hidden unless
asked for by status.
"""

from __future__ import annotations

from typing import Any

from storage.clips import _SELECT, ClipRow, _row
from storage.db import Database


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_sql(guild_id: int, query: Any) -> tuple[str, list[Any]]:
    """The SELECT and its parameters (kept apart so the benchmark can time the bare query)."""
    where = ["c.guild_id = ?"]
    params: list[Any] = [guild_id]
    if query.status:
        where.append("c.status = ?")
        params.append(query.status)
    else:
        where.append("c.status != 'deleted'")
    if query.streamer:
        where.append("c.streamer = ?")
        params.append(query.streamer)
    if query.trigger:
        # A combo lists its parts in `triggers`: a filter on one part finds the combo too.
        where.append(
            "(c.trigger = ? OR EXISTS (SELECT 1 FROM json_each(c.triggers) WHERE value = ?))"
        )
        params += [query.trigger, query.trigger]
    if query.favorite is not None:
        where.append("c.favorite = ?")
        params.append(int(query.favorite))
    if query.q:
        where.append("c.title LIKE ? ESCAPE '\\'")
        params.append(f"%{_escape_like(query.q)}%")
    if query.since:
        where.append("c.created_at >= ?")
        params.append(query.since)
    if query.until:
        where.append("c.created_at < date(?, '+1 day')")
        params.append(query.until)
    if query.sort == "score":
        if query.before_id is not None and query.before_score is not None:
            where.append("(c.confidence < ? OR (c.confidence = ? AND c.id < ?))")
            params += [query.before_score, query.before_score, query.before_id]
        order = "c.confidence DESC, c.id DESC"
    else:
        if query.before_id is not None:
            where.append("c.id < ?")
            params.append(query.before_id)
        order = "c.id DESC"
    sql = f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"
    params.append(int(query.limit))
    return sql, params


class ClipLibraryRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def search(self, guild_id: int, query: Any) -> list[ClipRow]:
        sql, params = search_sql(guild_id, query)
        return [_row(r) for r in await self.db.fetchall(sql, tuple(params))]

    async def daily(self, guild_id: int, since_day: str) -> list[tuple[str, str, int, int]]:
        # From the clips themselves (UTC days), so every clip counts, however it was made.
        rows = await self.db.fetchall(
            "SELECT substr(created_at, 1, 10) AS day, streamer, count(*),"
            " sum(status = 'approved') FROM clips WHERE guild_id = ? AND created_at >= ?"
            " GROUP BY day, streamer ORDER BY day, streamer",
            (guild_id, since_day),
        )
        return [(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]

    async def facets(self, guild_id: int) -> tuple[list[str], list[str]]:
        streamers = await self.db.fetchall(
            "SELECT DISTINCT streamer FROM clips WHERE guild_id = ? ORDER BY streamer", (guild_id,)
        )
        triggers = await self.db.fetchall(
            "SELECT DISTINCT trigger FROM clips WHERE guild_id = ? ORDER BY trigger", (guild_id,)
        )
        return [str(r[0]) for r in streamers], [str(r[0]) for r in triggers]
