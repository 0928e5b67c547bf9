"""YouTube Data API v3 resumable upload: a small httpx client of the documented protocol.

1. POST {upload_base}/videos?uploadType=resumable&part=snippet,status with the video resource:
   the session URI comes back in `Location`. It is saved (`save_session`) before any byte is
   sent, so a crash or restart resumes this session instead of creating a second video.
2. PUT chunks (multiples of 256 KiB) with `Content-Range: bytes a-b/total`; 308 means "go on",
   its `Range: bytes=0-n` says what arrived (YouTube may keep less than was sent).
3. After a dropped connection, a 5xx or a restart: PUT with `Content-Range: bytes */total` and
   no body asks where the session stands (308 + Range, or 200/201 if it already finished), then
   the upload continues from there. A session YouTube no longer knows (404/410) never finished,
   so a new one is opened.
4. The final chunk answers 200/201 with the video resource: its id is the published video.

401 refreshes the access token and repeats the request; 403 quotaExceeded waits for the quota
day; uploadLimitExceeded and credential errors fail the job with one clear line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import httpx

from engine.backoff import Backoff
from engine.config.schema import YouTubeConfig
from publishing.metadata import Metadata
from publishing.model import PublishError, QuotaExceeded, next_quota_reset
from publishing.youtube_oauth import AuthError, YouTubeTokens

log = logging.getLogger("publishing.youtube")
UNIT = 256 * 1024
QUOTA_REASONS = ("quotaExceeded", "dailyLimitExceeded")


@dataclass(frozen=True, slots=True)
class Published:
    remote_id: str
    url: str


class _Transient(Exception):
    """Worth resuming after a pause: a dropped connection, a 5xx, a 401 being refreshed."""


def chunk_size(chunk_mb: float) -> int:
    return max(UNIT, int(chunk_mb * 1024 * 1024) // UNIT * UNIT)


def _reason(resp: httpx.Response) -> tuple[str, str]:
    """(reason, message) of a Google API error body."""
    try:
        err = resp.json().get("error", {})
    except (ValueError, AttributeError):
        return "", resp.text[:200]
    if not isinstance(err, dict):
        return str(err), str(err)
    reasons = [e.get("reason", "") for e in err.get("errors") or [] if isinstance(e, dict)]
    return (reasons[0] if reasons else str(err.get("status", ""))), str(err.get("message", ""))


def _received(resp: httpx.Response) -> int:
    """Bytes the session holds, from a 308's Range header (none: nothing yet)."""
    rng = resp.headers.get("Range")
    if not rng:
        return 0
    return int(rng.split("-")[-1]) + 1


class YouTubeTarget:
    """Uploads one file per job; exactly once given the stored session URI."""

    name = "youtube"

    def __init__(
        self,
        http: httpx.AsyncClient,
        cfg: YouTubeConfig,
        tokens: YouTubeTokens,
        *,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.http, self.cfg, self.tokens = http, cfg, tokens
        self.sleep, self.clock = sleep, clock
        self.chunk = chunk_size(cfg.chunk_mb)
        self._unauthorized = 0

    async def problem(self) -> str | None:
        """Why an upload cannot start now (nothing set up), or None."""
        if not self.tokens.configured:
            return "YouTube is not set up: set YOUTUBE_CLIENT_ID and YOUTUBE_CLIENT_SECRET"
        if not await self.tokens.store.refresh_token("youtube"):
            return "YouTube is not connected yet: run `python bot.py --youtube-auth` once"
        return None

    async def upload(
        self,
        path: Path,
        meta: Metadata,
        session_uri: str | None,
        save_session: Callable[[str | None], Awaitable[None]],
        on_progress: Callable[[int, int], Awaitable[None]],
    ) -> Published:
        size = os.stat(path).st_size
        backoff = Backoff(1.0, 30.0)
        failures = 0
        while True:
            try:
                if session_uri is None:
                    session_uri = await self._initiate(meta, size)
                    await save_session(session_uri)
                    offset = 0
                else:
                    status = await self._status(session_uri, size)
                    if isinstance(status, Published):
                        return status
                    if status is None:  # expired: it never completed, so a new one is safe
                        log.info("upload session expired; opening a new one")
                        session_uri = None
                        await save_session(None)
                        continue
                    offset = status
                return await self._send(path, session_uri, offset, size, meta, on_progress)
            except _Transient as exc:
                failures += 1
                if failures >= self.cfg.max_attempts:
                    raise PublishError(
                        f"YouTube upload kept failing ({exc}); press Retry later", retryable=True
                    ) from exc
                delay = backoff.next_delay()
                log.info("upload interrupted (%s); resuming in %.1f s", exc, delay)
                await self.sleep(delay)

    # -- the protocol --------------------------------------------------------------------------

    async def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.tokens.access_token()}"}

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), **(await self._headers())}
        try:
            resp = await self.http.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise _Transient(type(exc).__name__) from exc
        if resp.status_code == 401:
            self.tokens.invalidate()
            self._unauthorized += 1
            if self._unauthorized >= 2:  # a freshly refreshed token refused too
                self._unauthorized = 0  # a later Retry starts with a fresh token and count
                raise AuthError(
                    "YouTube rejected the bot's credentials (401 twice, invalid credentials): "
                    "run `python bot.py --youtube-auth` again"
                )
            raise _Transient("401, access token refreshed")
        self._unauthorized = 0
        if resp.status_code >= 500:
            raise _Transient(f"HTTP {resp.status_code}")
        return resp

    async def _initiate(self, meta: Metadata, size: int) -> str:
        resp = await self._request(
            "POST",
            f"{self.cfg.upload_base.rstrip('/')}/videos",
            params={"uploadType": "resumable", "part": "snippet,status"},
            headers={
                "X-Upload-Content-Length": str(size),
                "X-Upload-Content-Type": "video/mp4",
            },
            json=meta.resource(),
        )
        if resp.status_code != 200 or "Location" not in resp.headers:
            self._fail(resp, "opening the upload")
        return str(resp.headers["Location"])

    async def _status(self, session_uri: str, size: int) -> int | Published | None:
        resp = await self._request(
            "PUT", session_uri, headers={"Content-Range": f"bytes */{size}"}, content=b""
        )
        if resp.status_code in (200, 201):
            return self._published(resp, None)
        if resp.status_code == 308:
            return _received(resp)
        if resp.status_code in (404, 410):
            return None
        self._fail(resp, "resuming the upload")

    async def _send(
        self,
        path: Path,
        session_uri: str,
        offset: int,
        size: int,
        meta: Metadata,
        on_progress: Callable[[int, int], Awaitable[None]],
    ) -> Published:
        while True:
            end = min(size, offset + self.chunk)
            data = await asyncio.to_thread(_read, path, offset, end - offset)
            resp = await self._request(
                "PUT",
                session_uri,
                headers={"Content-Range": f"bytes {offset}-{end - 1}/{size}"},
                content=data,
            )
            if resp.status_code in (200, 201):
                await on_progress(size, size)
                return self._published(resp, meta)
            if resp.status_code != 308:
                self._fail(resp, "uploading")
            offset = _received(resp)
            await on_progress(offset, size)

    def _published(self, resp: httpx.Response, meta: Metadata | None) -> Published:
        video_id = str(resp.json().get("id") or "")
        if not video_id:
            raise PublishError("YouTube finished the upload but returned no video id")
        short = meta is not None and meta.short
        url = f"https://youtube.com/shorts/{video_id}" if short else f"https://youtu.be/{video_id}"
        return Published(video_id, url)

    def _fail(self, resp: httpx.Response, what: str) -> NoReturn:
        reason, message = _reason(resp)
        if reason in QUOTA_REASONS:
            raise QuotaExceeded(
                "YouTube's daily upload quota is used up; waiting until it resets at midnight "
                "Pacific time",
                next_quota_reset(self.clock()),
            )
        if reason == "uploadLimitExceeded":
            raise PublishError(
                "YouTube: this channel reached its upload limit (uploadLimitExceeded); "
                "press Retry after YouTube lifts it (usually within 24 h)"
            )
        if resp.status_code == 403 and reason in ("forbidden", "insufficientPermissions"):
            raise AuthError(f"YouTube refused the upload ({reason}): run --youtube-auth again")
        raise PublishError(
            f"YouTube answered {resp.status_code} while {what}: {reason or message or 'no reason'}"
        )


def _read(path: Path, offset: int, length: int) -> bytes:
    with path.open("rb") as f:
        f.seek(offset)
        return f.read(length)
