"""YouTube OAuth: the one-time device flow of `bot.py --youtube-auth`, and access tokens.

The device flow suits a bot on a server: it prints a URL and a short code, the channel owner
approves on any browser, and Google returns a refresh token, stored in the database (made
owner-only). Google's device flow allows the `youtube` scope (not `youtube.upload`), which
includes uploading. Access tokens live an hour; they are refreshed before they expire and again
whenever YouTube answers 401. YOUTUBE_CLIENT_ID / YOUTUBE_CLIENT_SECRET come from the
environment; neither they nor any token is ever logged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from engine.config.schema import YouTubeConfig
from publishing.model import PublishError, PublishStore

PROVIDER = "youtube"
SCOPE = "https://www.googleapis.com/auth/youtube"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
EARLY_S = 60.0  # refresh this long before Google's expiry
NOT_CONNECTED = "YouTube is not connected: run `python bot.py --youtube-auth` once"


class AuthError(PublishError):
    """Credentials that need the operator (revoked token, wrong client): never retried alone."""


def _error_of(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return f"HTTP {resp.status_code}"
    err = body.get("error") if isinstance(body, dict) else None
    return str(err.get("status") if isinstance(err, dict) else err or f"HTTP {resp.status_code}")


class YouTubeTokens:
    """Access tokens from the stored refresh token; one refresh at a time."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        cfg: YouTubeConfig,
        client_id: str | None,
        client_secret: str | None,
        store: PublishStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.http, self.cfg, self.store, self.clock = http, cfg, store, clock
        self._client_id, self._client_secret = client_id, client_secret
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    @property
    def configured(self) -> bool:
        return bool(self._client_id and self._client_secret)

    def invalidate(self) -> None:
        """YouTube said 401: the next call refreshes (revocation shows up there)."""
        self._token = None

    async def access_token(self) -> str:
        async with self._lock:
            if self._token is None or self.clock() >= self._expires:
                await self._refresh()
            assert self._token is not None
            return self._token

    async def _refresh(self) -> None:
        if not self.configured:
            raise AuthError("YOUTUBE_CLIENT_ID and YOUTUBE_CLIENT_SECRET are not set")
        refresh = await self.store.refresh_token(PROVIDER)
        if not refresh:
            raise AuthError(NOT_CONNECTED)
        try:
            resp = await self.http.post(
                self.cfg.token_url,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": refresh,
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                },
            )
        except httpx.HTTPError as exc:
            raise PublishError(
                f"cannot reach YouTube's token endpoint ({type(exc).__name__})", retryable=True
            ) from exc
        if resp.status_code == 200:
            body = resp.json()
            self._token = str(body["access_token"])
            self._expires = self.clock() + float(body.get("expires_in", 3600)) - EARLY_S
            return
        reason = _error_of(resp)
        if reason == "invalid_grant":
            raise AuthError(
                "YouTube revoked the bot's access (invalid_grant): run `python bot.py "
                "--youtube-auth` again"
            )
        if reason in ("invalid_client", "unauthorized_client"):
            raise AuthError(
                f"YouTube rejected YOUTUBE_CLIENT_ID/YOUTUBE_CLIENT_SECRET ({reason}): check them"
            )
        raise PublishError(
            f"YouTube's token endpoint answered {resp.status_code} ({reason})",
            retryable=resp.status_code >= 500,
        )


async def device_flow(
    http: httpx.AsyncClient,
    cfg: YouTubeConfig,
    client_id: str,
    client_secret: str,
    *,
    say: Callable[[str], None],
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Run Google's device authorisation; returns the token response (with refresh_token)."""
    resp = await http.post(cfg.device_code_url, data={"client_id": client_id, "scope": SCOPE})
    if resp.status_code != 200:
        raise AuthError(f"Google refused the device code request: {_error_of(resp)}")
    code = resp.json()
    interval = float(code.get("interval", 5))
    deadline = clock() + float(code.get("expires_in", 1800))
    url = code.get("verification_url") or code.get("verification_uri")
    say(f"Open {url} and enter the code {code['user_code']} (signed in as the channel owner).")
    while clock() < deadline:
        await sleep(interval)
        resp = await http.post(
            cfg.token_url,
            data={
                "client_id": client_id,
                "client_secret": client_secret,
                "device_code": code["device_code"],
                "grant_type": DEVICE_GRANT,
            },
        )
        if resp.status_code == 200:
            body: dict[str, Any] = resp.json()
            if not body.get("refresh_token"):
                raise AuthError("Google granted access without a refresh token; try again")
            return body
        reason = _error_of(resp)
        if reason == "authorization_pending":
            continue
        if reason == "slow_down":
            interval += 5
            continue
        if reason == "access_denied":
            raise AuthError("the channel owner declined the request")
        raise AuthError(f"authorisation failed: {reason}")
    raise AuthError("the code expired before it was entered; run --youtube-auth again")
