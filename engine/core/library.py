"""The clip library the dashboard browses: filters, sort and keyset pagination, checked here.

A page is asked for with a `ClipQuery`; the store answers it with one indexed query (storage's
clip_library), never an OFFSET: the next page starts strictly after the last clip shown
(`before`), so page 500 costs what page 1 costs and a clip arriving meanwhile shifts nothing.
The cursor is opaque text: the clip id for the time sort, "score:id" for the score sort.
Bad input is a QueryError whose message the API returns as is (400).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from engine.core.stores import ClipLibraryStore

STATUSES = ("ready", "posting", "posted", "approved", "rejected", "deleted", "failed")
SORTS = ("time", "score")
MAX_LIMIT = 200
DEFAULT_LIMIT = 48
_SLUG = re.compile(r"^[a-z0-9_-]{1,25}$")
_TRIGGER = re.compile(r"^[a-z_]{1,40}$")


class QueryError(ValueError):
    """A filter the library cannot use; the message is for the caller."""


@dataclass(frozen=True, slots=True)
class ClipQuery:
    streamer: str | None = None
    status: str | None = None  # None: every status but deleted
    trigger: str | None = None
    favorite: bool | None = None
    q: str | None = None  # text in the title
    since: str | None = None  # ISO day, inclusive (created_at)
    until: str | None = None  # ISO day, inclusive
    sort: str = "time"
    before_id: int | None = None
    before_score: float | None = None
    limit: int = DEFAULT_LIMIT

    def cursor_after(self, row: Any) -> str:
        """The `before` value that continues after `row`."""
        if self.sort == "score":
            return f"{float(row.confidence)!r}:{int(row.id)}"
        return str(int(row.id))


def _day(value: str, name: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise QueryError(f"{name} must be a day like 2026-01-31") from exc


def parse_query(params: Mapping[str, str]) -> ClipQuery:
    """A ClipQuery from URL parameters (empty values mean "no filter")."""
    p = {k: v.strip() for k, v in params.items() if isinstance(v, str) and v.strip()}
    sort = p.get("sort", "time")
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}")
    streamer = p.get("streamer", "").lower() or None
    if streamer is not None and not _SLUG.match(streamer):
        raise QueryError("streamer must be a Kick channel name")
    status = p.get("status") or None
    if status is not None and status not in STATUSES:
        raise QueryError(f"status must be one of {', '.join(STATUSES)}")
    trigger = p.get("trigger") or None
    if trigger is not None and not _TRIGGER.match(trigger):
        raise QueryError("trigger must be a trigger name such as keyword or chat_velocity")
    favorite: bool | None = None
    if "favorite" in p:
        if p["favorite"].lower() not in ("1", "true", "yes", "0", "false", "no"):
            raise QueryError("favorite must be true or false")
        favorite = p["favorite"].lower() in ("1", "true", "yes")
    q = p.get("q") or None
    if q is not None and len(q) > 100:
        raise QueryError("q is at most 100 characters")
    try:
        limit = int(p.get("limit", DEFAULT_LIMIT))
    except ValueError as exc:
        raise QueryError("limit must be a whole number") from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be 1 to {MAX_LIMIT}")
    query = ClipQuery(
        streamer=streamer,
        status=status,
        trigger=trigger,
        favorite=favorite,
        q=q,
        since=_day(p["since"], "since") if "since" in p else None,
        until=_day(p["until"], "until") if "until" in p else None,
        sort=sort,
        limit=limit,
    )
    before = p.get("before")
    return with_cursor(query, before) if before else query


def with_cursor(query: ClipQuery, before: str) -> ClipQuery:
    try:
        if query.sort == "score":
            score, _, ident = before.partition(":")
            return replace(query, before_score=float(score), before_id=int(ident))
        return replace(query, before_id=int(before))
    except ValueError as exc:
        raise QueryError("before is not a cursor this list gave out") from exc


@dataclass(frozen=True, slots=True)
class Page:
    clips: list[Any]
    next: str | None  # cursor of the following page, None on the last one


class Library:
    """Reads for one guild at a time: a guild never sees another guild's rows."""

    def __init__(self, store: ClipLibraryStore) -> None:
        self.store = store

    async def page(self, guild_id: int, query: ClipQuery) -> Page:
        # One row more than asked tells whether a next page exists without a COUNT(*).
        rows = await self.store.search(guild_id, replace(query, limit=query.limit + 1))
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        return Page(rows, query.cursor_after(rows[-1]) if more and rows else None)

    async def daily(self, guild_id: int, since_day: str) -> list[tuple[str, str, int, int]]:
        """(UTC day, streamer, clips, approved) rows since `since_day`, oldest first."""
        return await self.store.daily(guild_id, since_day)

    async def facets(self, guild_id: int) -> tuple[list[str], list[str]]:
        """(streamers, triggers) that occur in this guild's clips, for the filter menus."""
        return await self.store.facets(guild_id)
