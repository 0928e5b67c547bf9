"""Dashboard sessions, CSRF and the member's rights, re-checked against Discord.

* A session is a signed cookie (itsdangerous, the key from web.secret) naming one member of one
  server and carrying that session's CSRF token; HttpOnly, SameSite=Lax, Secure when the
  dashboard is reached over https. It holds no rights: those come from Discord.
* Every state-changing request needs the CSRF token (X-CSRF-Token header or a `csrf` form
  field) and an Origin header equal to the dashboard's own origin.
* Rights: the member is looked up through the bot (gateway cache or REST) and the App's
  reviewer rule decides. Reads reuse an answer for RIGHTS_TTL_S; every state change asks
  Discord again, so a removed role loses access at the next action.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from engine.core.access import MemberFacts
from engine.core.app import App

COOKIE = "clipbot_session"
SESSION_MAX_AGE_S = 7 * 24 * 3600
RIGHTS_TTL_S = 30.0
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

MemberLookup = Callable[[int, int], Awaitable[MemberFacts | None]]


@dataclass(frozen=True, slots=True)
class Session:
    guild_id: int
    user_id: int
    csrf: str
    name: str = ""


SESSION: web.RequestKey[Session] = web.RequestKey("session", Session)
FORM: web.RequestKey[Any] = web.RequestKey("form", object)


class Sessions:
    def __init__(self, secret: str, secure: bool) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="clipbot-dashboard-session")
        self.secure = secure

    def new(self, guild_id: int, user_id: int, name: str) -> tuple[Session, str]:
        session = Session(guild_id, user_id, secrets.token_urlsafe(24), name)
        value = self._signer.dumps([guild_id, user_id, session.csrf, name])
        return session, value

    def read(self, request: web.Request) -> Session | None:
        value = request.cookies.get(COOKIE)
        if not value:
            return None
        try:
            g, u, c, n = self._signer.loads(value, max_age=SESSION_MAX_AGE_S)
            return Session(int(g), int(u), str(c), str(n))
        except (BadSignature, ValueError, TypeError):
            return None

    def set_cookie(self, response: web.StreamResponse, value: str, request: web.Request) -> None:
        response.set_cookie(
            COOKIE,
            value,
            max_age=SESSION_MAX_AGE_S,
            httponly=True,
            samesite="Lax",
            secure=self.secure or is_https(request),
            path="/",
        )

    def clear_cookie(self, response: web.StreamResponse) -> None:
        response.del_cookie(COOKIE, path="/")


def is_https(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto", "") == "https"


def own_origins(request: web.Request, public_url: str) -> set[str]:
    """The origins a same-origin request may carry: the public URL's and the Host's."""
    found = {f"{'https' if is_https(request) else 'http'}://{request.host}"}
    if public_url:
        found.add(public_url.rstrip("/"))
    return found


def write_refusal(request: web.Request, session: Session, public_url: str) -> str | None:
    """Why a state-changing request is refused (CSRF or cross-origin), or None."""
    origin = request.headers.get("Origin")
    if not origin or origin.rstrip("/") not in own_origins(request, public_url):
        return "cross-origin request refused: the Origin header must be this dashboard's"
    sent = request.headers.get("X-CSRF-Token", "")
    if not sent and request.content_type == "application/x-www-form-urlencoded":
        sent = str((request.get(FORM) or {}).get("csrf", ""))
    if not sent or not hmac.compare_digest(sent, session.csrf):
        return "missing or wrong CSRF token (send the page's X-CSRF-Token header)"
    return None


class Rights:
    """May this member act on this server's clips? Asked of Discord, cached briefly for reads."""

    def __init__(
        self, app: App, lookup: MemberLookup, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.app = app
        self.lookup = lookup
        self.clock = clock
        self._cache: dict[tuple[int, int], tuple[float, bool]] = {}

    async def allowed(self, guild_id: int, user_id: int, *, fresh: bool) -> bool:
        hit = self._cache.get((guild_id, user_id))
        if not fresh and hit is not None and self.clock() - hit[0] < RIGHTS_TTL_S:
            return hit[1]
        return await self.reviewer(guild_id, user_id) is not None

    async def reviewer(self, guild_id: int, user_id: int) -> MemberFacts | None:
        """Ask Discord now: the member's facts if they may review, else None (remembered for
        the next reads either way)."""
        facts = await self.lookup(guild_id, user_id)
        ok = facts is not None and await self.app.may_review(
            guild_id, facts.manage_guild, facts.role_ids
        )
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[(guild_id, user_id)] = (self.clock(), ok)
        return facts if ok else None
