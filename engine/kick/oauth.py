"""Kick's app access token (OAuth client credentials) for the official API.

Fetched once, shared by every request, refreshed shortly before it expires (10 % of its life, at
most 5 minutes early) and dropped when the API says 401, so a token revoked server-side costs one
extra request instead of an outage. The lock makes concurrent feeds wait for one fetch.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable

from engine.config import KickConfig
from engine.kick.models import KickAuthError
from engine.kick.transport import KickTransport

log = logging.getLogger("engine.kick.api")


class AppToken:
    def __init__(
        self,
        config: KickConfig,
        transport: KickTransport,
        client_id: str,
        client_secret: str,
        monotonic: Callable[[], float],
    ) -> None:
        self._cfg = config
        self._transport = transport
        self._client_id = client_id
        self._client_secret = client_secret
        self._monotonic = monotonic
        self.current: str | None = None  # also read to scrub it from log lines
        self._expires = 0.0
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self.current = None

    async def value(self) -> str:
        async with self._lock:
            if self.current is not None and self._monotonic() < self._expires:
                return self.current
            status, body = await self._transport.request(
                "POST",
                self._cfg.oauth_url,
                subject="app token",
                what="OAuth",
                headers={"Accept": "application/json", "User-Agent": self._cfg.user_agent},
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                },
            )
            token = body.get("access_token") if isinstance(body, dict) else None
            if status != 200 or not isinstance(token, str) or not token:
                log.error("Kick OAuth refused the client credentials (HTTP %s)", status)
                raise KickAuthError(
                    f"Kick OAuth refused the client credentials (HTTP {status}); "
                    "check KICK_CLIENT_ID and KICK_CLIENT_SECRET",
                    None,
                    status,
                )
            ttl = _lifetime(body.get("expires_in", 3600))
            self.current = token
            self._expires = self._monotonic() + ttl - min(300.0, ttl * 0.1)
            log.info("Kick OAuth: app token obtained, valid for %.0f s", ttl)
            return token


def _lifetime(value: object) -> float:
    """Kick's expires_in, held to 60 s .. 1 day: 10^30 must not keep a token forever (a 401
    still renews it, but only after a failed call), -5 must not fetch one per request."""
    try:
        ttl = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 3600.0
    if not math.isfinite(ttl):
        return 3600.0
    return min(max(ttl, 60.0), 86_400.0)
