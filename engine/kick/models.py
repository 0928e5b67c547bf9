"""Kick's data as the engine sees it: errors, channel facts, live status, the ids cache.

Split from the HTTP client so the Feed, the poller and the bot can name these types without
pulling in httpx, and so the client module stays about requests and retries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

SLUG_RE = re.compile(r"^[a-z0-9_-]{1,25}$")


class KickError(Exception):
    """Base of every Kick client error; carries the slug and HTTP status when known."""

    def __init__(self, message: str, slug: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.slug = slug
        self.status = status


class InvalidSlug(KickError, ValueError):
    """A channel name that cannot be a Kick slug; raised before any request is made."""


class ChannelNotFound(KickError):
    """Kick says the channel does not exist (404), as opposed to Kick being unreachable."""

    def __init__(self, slug: str) -> None:
        super().__init__(f"no such Kick channel: {slug}", slug, 404)


class KickUnavailable(KickError):
    """Kick could not be asked (blocked, rate limited, down) after bounded retries.

    ``retry_in_s``: when Kick asked for quiet (Retry-After, capped), how long until we ask
    again, so an operator is told the real wait instead of "try again in a minute"."""

    def __init__(
        self,
        message: str,
        slug: str | None = None,
        status: int | None = None,
        retry_in_s: float | None = None,
    ) -> None:
        super().__init__(message, slug, status)
        self.retry_in_s = retry_in_s


class KickBadAnswer(KickUnavailable):
    """Kick answered, but with something we refuse to trust: an id out of range, a slug that
    is not a channel name, a field of the wrong type. Never saved, never subscribed to."""


class KickAuthError(KickUnavailable):
    """The official API refused our client credentials: an operator must fix them."""


@dataclass(slots=True, frozen=True)
class ChannelIds:
    """What never changes for a channel, cached so that a later 403 costs only freshness.

    `channel_id` and `user_id` are None only when an operator gave the chatroom id by hand.
    """

    slug: str
    channel_id: int | None
    user_id: int | None
    chatroom_id: int


@dataclass(slots=True, frozen=True)
class LiveStatus:
    """Live state for the poller; `livestream_id` is None from the official API."""

    live: bool
    viewers: int
    started_at: datetime | None
    livestream_id: int | None
    title: str | None = None


@dataclass(slots=True, frozen=True)
class ChannelInfo:
    """A channel lookup: stable ids plus the live state at the time of the lookup."""

    slug: str
    channel_id: int | None
    user_id: int | None
    chatroom_id: int
    live: bool
    livestream_id: int | None
    viewers: int
    title: str | None
    started_at: datetime | None
    # False when Kick could not be asked and the ids came from storage or config: `live` is
    # then a placeholder and the poller learns the real state.
    live_known: bool = True

    def ids(self) -> ChannelIds:
        return ChannelIds(self.slug, self.channel_id, self.user_id, self.chatroom_id)

    def status(self) -> LiveStatus:
        return LiveStatus(self.live, self.viewers, self.started_at, self.livestream_id, self.title)


class CachedIds(Protocol):
    """What a cache hands back: storage's ChannelRow and ChannelIds both fit."""

    @property
    def channel_id(self) -> int | None: ...

    @property
    def user_id(self) -> int | None: ...

    @property
    def chatroom_id(self) -> int | None: ...


class ChannelCache(Protocol):
    """Where stable channel ids live between lookups and restarts.

    Shaped so storage.watches.ChannelCacheRepo satisfies it as is (its `put` has an extra
    `manual` flag with a default, and it never lets a lookup overwrite a hand-set chatroom id).
    """

    async def get(self, slug: str) -> CachedIds | None: ...

    async def put(
        self, slug: str, channel_id: int | None, user_id: int | None, chatroom_id: int | None
    ) -> None: ...


class MemoryChannelCache:
    """The in-process ChannelCache; lost on restart, which costs one lookup per channel."""

    def __init__(self, initial: Mapping[str, ChannelIds] | None = None) -> None:
        self._data: dict[str, ChannelIds] = dict(initial or {})

    async def get(self, slug: str) -> ChannelIds | None:
        return self._data.get(slug)

    async def put(
        self, slug: str, channel_id: int | None, user_id: int | None, chatroom_id: int | None
    ) -> None:
        old = self._data.get(slug)
        chatroom = chatroom_id if chatroom_id is not None else (old.chatroom_id if old else None)
        if chatroom is None:
            return  # nothing worth keeping without the chatroom id
        self._data[slug] = ChannelIds(
            slug,
            channel_id if channel_id is not None else (old.channel_id if old else None),
            user_id if user_id is not None else (old.user_id if old else None),
            chatroom,
        )


def parse_kick_time(value: Any) -> datetime | None:
    """An aware UTC datetime from Kick's times ("2025-09-15 21:12:45" is UTC with no marker).

    The official API's offline placeholder "0001-01-01T00:00:00Z" and anything unreadable give
    None, so callers never mistake year 1 for a session start.
    """
    if not isinstance(value, str) or not value or value.startswith("0001-01-01"):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def normalize_slug(slug: str) -> str:
    """Lowercase and validate a slug before any request, so junk never reaches Kick or a URL."""
    if not isinstance(slug, str):
        raise InvalidSlug(f"a Kick channel name must be text, got {type(slug).__name__}")
    norm = slug.strip().lower()
    if not SLUG_RE.match(norm):
        raise InvalidSlug(
            f"not a valid Kick channel name: {slug!r} (1-25 letters, digits, '_' or '-')"
        )
    return norm
