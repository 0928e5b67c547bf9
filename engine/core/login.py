"""One-time dashboard login links, as `/dashboard` hands them out.

A link carries a random token valid for `ttl_s` (10 minutes) that names one member of one
server. Redeeming it removes it, so a link forwarded or opened twice starts no second session.
Tokens live in memory only: a restart invalidates the links not used yet (ask /dashboard again),
which is the safe direction. The clock is injected so expiry is tested without sleeping.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

LINK_TTL_S = 10 * 60
MAX_OPEN_LINKS = 10_000  # bounded: a flood of /dashboard cannot grow memory without limit


class LinkRefused(Exception):
    """The link cannot start a session; the message says why, for the login page."""


@dataclass(frozen=True, slots=True)
class LoginGrant:
    guild_id: int
    user_id: int


class LoginLinks:
    def __init__(self, clock: Callable[[], float] = time.time, ttl_s: float = LINK_TTL_S) -> None:
        self.clock = clock
        self.ttl_s = ttl_s
        self._open: dict[str, tuple[LoginGrant, float]] = {}
        self._used: dict[str, float] = {}  # token -> expiry: "already used" beats "unknown"

    def issue(self, guild_id: int, user_id: int) -> str:
        self._purge()
        if len(self._open) >= MAX_OPEN_LINKS:
            oldest = min(self._open, key=lambda k: self._open[k][1])
            del self._open[oldest]
        token = secrets.token_urlsafe(24)
        self._open[token] = (LoginGrant(guild_id, user_id), self.clock() + self.ttl_s)
        return token

    def redeem(self, token: str) -> LoginGrant:
        """The grant, once; LinkRefused for an unknown, used or expired token."""
        self._purge()
        if token in self._used:
            raise LinkRefused("This login link was already used. Run /dashboard again.")
        entry = self._open.pop(token, None)
        if entry is None:
            raise LinkRefused("This login link is unknown or expired. Run /dashboard again.")
        grant, expires = entry
        self._used[token] = expires
        if self.clock() > expires:
            raise LinkRefused("This login link expired (links last 10 minutes). Run /dashboard.")
        return grant

    def _purge(self) -> None:
        now = self.clock()
        for token in [t for t, (_, exp) in self._open.items() if exp < now - self.ttl_s]:
            del self._open[token]
        for token in [t for t, exp in self._used.items() if exp < now]:
            del self._used[token]
