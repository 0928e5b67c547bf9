"""A scriptable fake of YouTube on 127.0.0.1: Google's OAuth token and device-code endpoints,
`channels?mine=true`, and the Data API v3 resumable upload protocol.

The real publishing code is pointed at it through `publish.youtube.*` (see
`config_overrides()`). Scripts reproduce what the real service does: 308 with a Range that keeps
less than was sent (partial progress), a connection dropped mid-chunk, a 401 when the access token
expires, 403 quotaExceeded / uploadLimitExceeded, and a 5xx. Uploaded bytes are kept per video so
a test can probe them with PyAV; `videos` counts how many videos were created.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

CLIENT_ID = "fake-yt-client.apps.googleusercontent.com"
CLIENT_SECRET = "fake-yt-secret-GOCSPX"
REFRESH_TOKEN = "1//fake-refresh-token"
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


@dataclass
class Session:
    id: str
    size: int
    metadata: dict[str, Any]
    data: bytearray = field(default_factory=bytearray)
    video_id: str | None = None


@dataclass
class Scripts:
    """Failures to inject; each counter is consumed as it fires."""

    keep_less: int = 0  # next N chunks: keep only half of what was sent (308 with a short Range)
    drop: int = 0  # next N chunks: store half, then drop the connection without an answer
    drop_after_chunks: int = 0  # ... only once this many chunks were accepted
    expire_token: int = 0  # next N upload requests answer 401 (the access token expired)
    server_error: int = 0  # next N upload requests answer 503
    quota: bool = False  # initiate and chunks answer 403 quotaExceeded
    upload_limit: bool = False  # initiate answers 403 uploadLimitExceeded
    revoked: bool = False  # the refresh token answers 400 invalid_grant
    invalid_client: bool = False  # the token endpoint refuses the client id/secret (401)
    pending_polls: int = 1  # device flow: authorization_pending this many times
    drop_final: bool = False  # the last chunk completes the video, then the answer is lost
    hold_after_chunks: int | None = None  # the chunk after this many waits for `release`
    release: asyncio.Event = field(default_factory=asyncio.Event)


class FakeYouTube:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, 0
        self.scripts = Scripts()
        self.sessions: dict[str, Session] = {}
        self.videos: dict[str, Session] = {}
        self.requests: list[tuple[str, str]] = []
        self.unknown: list[str] = []
        self.chunks_accepted = 0
        self.valid_tokens: set[str] = set()
        self.refreshes = 0
        self.held = False
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def config_overrides(self) -> dict[str, str]:
        return {
            "api_base": f"{self.base}/youtube/v3",
            "upload_base": f"{self.base}/upload/youtube/v3",
            "token_url": f"{self.base}/token",
            "device_code_url": f"{self.base}/device/code",
        }

    async def start(self) -> FakeYouTube:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._route)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeYouTube:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- serving ----------------------------------------------------------------------------

    async def _route(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests.append((request.method, path))
        if path == "/token" and request.method == "POST":
            return await self._token(request)
        if path == "/device/code" and request.method == "POST":
            return _json(
                {
                    "device_code": "dev-1",
                    "user_code": "ABCD-EFGH",
                    "expires_in": 1800,
                    "interval": 5,
                    "verification_url": "https://www.google.com/device",
                }
            )
        if not self._authorised(request):
            return _error(401, "authError", "Invalid Credentials")
        if path == "/youtube/v3/channels":
            return _json({"items": [{"id": "UC1", "snippet": {"title": "Fake Clips Channel"}}]})
        if path == "/upload/youtube/v3/videos" and request.method == "POST":
            return await self._initiate(request)
        if path.startswith("/upload/sessions/") and request.method == "PUT":
            return await self._put(request, path.rsplit("/", 1)[1])
        self.unknown.append(f"{request.method} {path}")
        return _error(404, "notFound", "no such route in the fake")

    def _authorised(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in self.valid_tokens

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        creds = (form.get("client_id"), form.get("client_secret"))
        if self.scripts.invalid_client or creds != (CLIENT_ID, CLIENT_SECRET):
            return _json({"error": "invalid_client"}, 401)
        grant = form.get("grant_type")
        if grant == "refresh_token":
            if self.scripts.revoked or form.get("refresh_token") != REFRESH_TOKEN:
                return _json({"error": "invalid_grant", "error_description": "Token revoked"}, 400)
            self.refreshes += 1
            token = f"ya29.access-{self.refreshes}"
            self.valid_tokens = {token}
            return _json({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            if self.scripts.pending_polls > 0:
                self.scripts.pending_polls -= 1
                return _json({"error": "authorization_pending"}, 428)
            self.valid_tokens.add("ya29.device")
            return _json(
                {
                    "access_token": "ya29.device",
                    "expires_in": 3599,
                    "refresh_token": REFRESH_TOKEN,
                    "scope": "youtube",
                }
            )
        return _json({"error": "unsupported_grant_type"}, 400)

    def _upload_faults(self) -> web.Response | None:
        s = self.scripts
        if s.expire_token:
            s.expire_token -= 1
            self.valid_tokens.clear()
            return _error(401, "authError", "Invalid Credentials")
        if s.server_error:
            s.server_error -= 1
            return _error(503, "backendError", "Backend Error")
        if s.quota:
            return _error(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your quota.",
            )
        return None

    async def _initiate(self, request: web.Request) -> web.Response:
        if request.query.get("uploadType") != "resumable":
            return _error(400, "badRequest", "uploadType must be resumable")
        if fault := self._upload_faults():
            return fault
        if self.scripts.upload_limit:
            return _error(
                403,
                "uploadLimitExceeded",
                "The user has exceeded the number of videos they may upload.",
            )
        metadata = await request.json()
        sid = f"s{next(self._ids)}"
        self.sessions[sid] = Session(sid, int(request.headers["X-Upload-Content-Length"]), metadata)
        location = f"{self.base}/upload/sessions/{sid}"
        return web.Response(status=200, headers={"Location": location})

    async def _put(self, request: web.Request, sid: str) -> web.StreamResponse:
        session = self.sessions.get(sid)
        if session is None:
            return _error(404, "notFound", "upload session expired")
        body = await request.read()
        spec = request.headers.get("Content-Range", "")
        if spec == f"bytes */{session.size}":
            return self._state(session)
        if fault := self._upload_faults():
            return fault
        m = _RANGE.fullmatch(spec)
        if m is None or int(m[3]) != session.size or int(m[1]) != len(session.data):
            return _error(400, "badContent", f"bad Content-Range {spec!r}")
        s = self.scripts
        if s.hold_after_chunks is not None and self.chunks_accepted >= s.hold_after_chunks:
            self.held = True
            await s.release.wait()  # the client gives up (a crash) while this chunk is in flight
            return _error(503, "backendError", "held")
        if s.drop and self.chunks_accepted >= s.drop_after_chunks:
            s.drop -= 1
            session.data += body[: len(body) // 2 // 1024 * 1024]
            assert request.transport is not None
            request.transport.close()  # no answer at all: the client sees a dropped connection
            return web.Response(status=500)
        if s.keep_less:
            s.keep_less -= 1
            body = body[: max(1, len(body) // 2)]
        session.data += body
        self.chunks_accepted += 1
        answer = self._state(session)
        if s.drop_final and session.video_id is not None:
            s.drop_final = False
            assert request.transport is not None
            request.transport.close()  # the video exists; the client never hears so
        return answer

    def _state(self, session: Session) -> web.Response:
        if len(session.data) < session.size:
            headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
            return web.Response(status=308, headers=headers)
        if session.video_id is None:
            session.video_id = f"vid{next(self._ids):04d}"
            self.videos[session.video_id] = session
        resource = {"kind": "youtube#video", "id": session.video_id, **session.metadata}
        return _json(resource, 200)


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")


def _error(status: int, reason: str, message: str) -> web.Response:
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"reason": reason, "message": message, "domain": "youtube"}],
        }
    }
    return _json(body, status)
