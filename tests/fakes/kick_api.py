"""A scriptable fake of Kick's HTTP API on 127.0.0.1 (site, current-viewers, OAuth, official).

The real KickApi is pointed at it through KickConfig (see `FakeKick.config()`), so tests exercise
the same URLs, headers, payload shapes and failure modes (Cloudflare 403 page, 429 with
Retry-After, 5xx) the bot meets in production, without ever reaching Kick. Every request is
recorded; a route the fake does not know answers 404 and is recorded as unknown, so a test can
assert that nothing unexpected was called.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from engine.config import KickConfig

CLOUDFLARE_PAGE = (
    '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head>'
    "<body><noscript>Enable JavaScript and cookies to continue</noscript></body></html>"
)
NOT_FOUND_BODY = {"message": "No query results for model [App\\Models\\Channel]."}
SECURITY_BLOCK_BODY = {"error": "Request blocked by security policy.", "reference": "fake-ref"}
FAKE_CLIENT_ID = "fake-client-id"
FAKE_CLIENT_SECRET = "s3cr3t-fake-client-secret"
OFFICIAL_OFFLINE_TIME = "0001-01-01T00:00:00Z"

ROUTE_CHANNEL = "channel"
ROUTE_VIEWERS = "current_viewers"
ROUTE_OAUTH = "oauth"
ROUTE_OFFICIAL = "official_channels"
ROUTE_UNKNOWN = "unknown"


@dataclass
class FakeChannel:
    """One channel's scriptable state; mutate it (or use set_live) between polls."""

    slug: str
    id: int
    user_id: int
    chatroom_id: int
    live: bool = False
    viewers: int = 0
    title: str = "LIVE"
    livestream_id: int | None = None
    started_at: datetime = field(
        default_factory=lambda: datetime(2025, 9, 15, 21, 12, 45, tzinfo=UTC)
    )
    # Hostile or broken answers (FakeKick.tamper): merged over the real payloads, nested dicts
    # key by key, so one field can be swapped for anything JSON can carry.
    site_patch: dict[str, Any] = field(default_factory=dict)
    official_patch: dict[str, Any] = field(default_factory=dict)


@dataclass
class RecordedRequest:
    """What the fake saw: enough to assert headers, query and form (never printed by the fake)."""

    route: str
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    form: dict[str, str]
    status: int = 0


@dataclass
class _Failure:
    status: int
    remaining: int
    retry_after: str | None
    body: Any
    route: str | None


class FakeKick:
    """Kick's HTTP surface on 127.0.0.1:port; use `async with FakeKick() as kick:`."""

    def __init__(
        self,
        *,
        client_id: str = FAKE_CLIENT_ID,
        client_secret: str = FAKE_CLIENT_SECRET,
        token_ttl: int = 3600,
        host: str = "127.0.0.1",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl = token_ttl
        self.host = host
        self.port = 0
        self.channels: dict[str, FakeChannel] = {}
        self.requests: list[RecordedRequest] = []
        self.tokens_issued: list[str] = []
        self._valid_tokens: set[str] = set()
        self._failures: list[_Failure] = []
        self.viewers_body: Any = None  # set by tamper(): served as is by /current-viewers
        self._ids = itertools.count(1000)
        self._runner: web.AppRunner | None = None

    # ---- scripting --------------------------------------------------------------------------

    def add_channel(
        self,
        slug: str,
        *,
        channel_id: int | None = None,
        user_id: int | None = None,
        chatroom_id: int | None = None,
        live: bool = False,
        viewers: int = 0,
        title: str = "LIVE",
        livestream_id: int | None = None,
    ) -> FakeChannel:
        """Add a channel; ids default to fresh numbers, a live one gets a livestream id."""
        cid = channel_id if channel_id is not None else next(self._ids)
        ch = FakeChannel(
            slug=slug,
            id=cid,
            user_id=user_id if user_id is not None else cid + 8,
            chatroom_id=chatroom_id if chatroom_id is not None else cid,
            live=live,
            viewers=viewers,
            title=title,
            livestream_id=livestream_id
            if livestream_id is not None or not live
            else next(self._ids) * 1000,
        )
        self.channels[slug] = ch
        return ch

    def set_live(
        self,
        slug: str,
        live: bool = True,
        *,
        viewers: int | None = None,
        livestream_id: int | None = None,
        title: str | None = None,
        started_at: datetime | None = None,
    ) -> FakeChannel:
        """Flip a channel live (a new livestream id unless given) or offline."""
        ch = self.channels[slug]
        if live and (not ch.live or livestream_id is not None):
            ch.livestream_id = (
                livestream_id if livestream_id is not None else next(self._ids) * 1000
            )
            ch.started_at = started_at or datetime.now(UTC).replace(microsecond=0)
        ch.live = live
        if not live:
            ch.livestream_id = None
            ch.viewers = 0
        if viewers is not None:
            ch.viewers = viewers
        if title is not None:
            ch.title = title
        return ch

    def fail_next(
        self,
        status: int,
        count: int = 1,
        retry_after: float | str | None = None,
        body: Any = None,
        route: str | None = None,
    ) -> None:
        """Answer the next `count` requests (of `route`, or any) with `status`.

        Default bodies: 403 the Cloudflare "Just a moment..." page, 429 Laravel's JSON, 5xx a
        JSON server error. A dict body is sent as JSON, a str as HTML.
        """
        ra = None if retry_after is None else str(retry_after)
        self._failures.append(_Failure(status, count, ra, body, route))

    def tamper(
        self,
        slug: str,
        site: dict[str, Any] | None = None,
        official: dict[str, Any] | None = None,
        *,
        viewers: Any = None,
    ) -> None:
        """Serve hostile or broken answers for `slug`: `site`/`official` are merged over the
        channel's real payloads (e.g. ``{"slug": "../../tmp/pwn"}``, ``{"chatroom": {"id": -5}}``);
        `viewers`, when given, is the whole /current-viewers body."""
        ch = self.channels[slug]
        ch.site_patch = site or {}
        ch.official_patch = official or {}
        self.viewers_body = viewers

    def expire_tokens(self) -> None:
        """Invalidate every issued token, as if they had expired server-side."""
        self._valid_tokens.clear()

    def requests_to(self, route: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == route]

    @property
    def unknown_requests(self) -> list[RecordedRequest]:
        return self.requests_to(ROUTE_UNKNOWN)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def config_overrides(self) -> dict[str, str]:
        """The KickConfig fields that point a client at this fake."""
        return {
            "api_base": self.base_url,
            "official_api_base": f"{self.base_url}/public/v1",
            "oauth_url": f"{self.base_url}/oauth/token",
        }

    def config(self, base: KickConfig | None = None, **overrides: Any) -> KickConfig:
        """A KickConfig aimed at this fake (fast backoff for tests unless overridden)."""
        values: dict[str, Any] = {"backoff_initial_s": 0.01, "backoff_max_s": 0.05}
        values.update(self.config_overrides())
        values.update(overrides)
        return dataclasses.replace(base or KickConfig(), **values)

    # ---- lifecycle --------------------------------------------------------------------------

    async def start(self) -> FakeKick:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
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

    async def __aenter__(self) -> FakeKick:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- serving ----------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if request.method == "GET" and path.startswith("/api/v2/channels/"):
            route = ROUTE_CHANNEL
        elif request.method == "GET" and path == "/current-viewers":
            route = ROUTE_VIEWERS
        elif request.method == "POST" and path == "/oauth/token":
            route = ROUTE_OAUTH
        elif request.method == "GET" and path == "/public/v1/channels":
            route = ROUTE_OFFICIAL
        else:
            route = ROUTE_UNKNOWN
        form = dict(await request.post()) if request.method == "POST" else {}
        rec = RecordedRequest(
            route=route,
            method=request.method,
            path=path,
            query=list(request.query.items()),
            headers=dict(request.headers),
            form={k: str(v) for k, v in form.items()},
        )
        self.requests.append(rec)
        resp = self._injected_failure(route)
        if resp is None:
            if route == ROUTE_CHANNEL:
                resp = self._channel(path.rsplit("/", 1)[1])
            elif route == ROUTE_VIEWERS:
                resp = self._current_viewers(request)
            elif route == ROUTE_OAUTH:
                resp = self._oauth(rec.form)
            elif route == ROUTE_OFFICIAL:
                resp = self._official(request)
            else:
                resp = web.json_response({"message": "Not Found"}, status=404)
        rec.status = resp.status
        return resp

    def _injected_failure(self, route: str) -> web.Response | None:
        for failure in self._failures:
            if failure.remaining > 0 and failure.route in (None, route):
                failure.remaining -= 1
                break
        else:
            return None
        self._failures = [f for f in self._failures if f.remaining > 0]
        headers = {"Retry-After": failure.retry_after} if failure.retry_after is not None else {}
        body = failure.body
        if body is None:
            if failure.status == 403:
                body = CLOUDFLARE_PAGE
            elif failure.status == 429:
                body = {"message": "Too Many Attempts."}
            else:
                body = {"message": "Server Error"}
        if isinstance(body, str):
            return web.Response(
                status=failure.status, text=body, content_type="text/html", headers=headers
            )
        return web.json_response(body, status=failure.status, headers=headers)

    def _channel(self, slug: str) -> web.Response:
        ch = self.channels.get(slug)
        if ch is None:
            return web.json_response(NOT_FOUND_BODY, status=404)
        return web.json_response(_patched(site_payload(ch), ch.site_patch))

    def _current_viewers(self, request: web.Request) -> web.Response:
        if self.viewers_body is not None:
            return web.json_response(self.viewers_body)
        wanted = set(request.query.getall("ids[]", []))
        out = [
            {"livestream_id": ch.livestream_id, "viewers": ch.viewers}
            for ch in self.channels.values()
            if ch.live and ch.livestream_id is not None and str(ch.livestream_id) in wanted
        ]
        return web.json_response(out)

    def _oauth(self, form: dict[str, str]) -> web.Response:
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return web.json_response({"error": "invalid_client"}, status=401)
        token = f"fake-access-token-{len(self.tokens_issued) + 1}"
        self.tokens_issued.append(token)
        self._valid_tokens.add(token)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl}
        return web.json_response(body)

    def _official(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self._valid_tokens:
            return web.json_response({"message": "Unauthorized"}, status=401)
        data = [
            _patched(official_payload(self.channels[s]), self.channels[s].official_patch)
            for s in request.query.getall("slug", [])
            if s in self.channels
        ]
        return web.json_response({"data": data, "message": "OK"})


def site_payload(ch: FakeChannel) -> dict[str, Any]:
    """The site endpoint's channel object, shaped like kick-protocol.md (plus common extras)."""
    livestream = None
    if ch.live:
        stamp = ch.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        livestream = {
            "id": ch.livestream_id,
            "slug": f"{ch.livestream_id}-{ch.slug}",
            "channel_id": ch.id,
            "created_at": stamp,
            "start_time": stamp,
            "session_title": ch.title,
            "is_live": True,
            "viewer_count": ch.viewers,
            "categories": [{"id": 15, "name": "Just Chatting", "slug": "just-chatting"}],
        }
    return {
        "id": ch.id,
        "user_id": ch.user_id,
        "slug": ch.slug,
        "is_banned": False,
        "playback_url": f"https://fake.live-video.net/api/video/v1/{ch.slug}.m3u8",
        "followers_count": 1234,
        "chatroom": {"id": ch.chatroom_id, "channel_id": ch.id, "slow_mode": True},
        "livestream": livestream,
        "user": {"id": ch.user_id, "username": ch.slug},
    }


def official_payload(ch: FakeChannel) -> dict[str, Any]:
    """One entry of the official /public/v1/channels data list."""
    start = ch.started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "broadcaster_user_id": ch.user_id,
        "slug": ch.slug,
        "stream_title": ch.title,
        "channel_description": "",
        "stream": {
            "is_live": ch.live,
            "viewer_count": ch.viewers if ch.live else 0,
            "start_time": start if ch.live else OFFICIAL_OFFLINE_TIME,
            "key": "",
            "url": "",
        },
    }


def _patched(payload: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """`payload` with `patch` merged over it (nested dicts key by key)."""
    out = dict(payload)
    for key, value in patch.items():
        old = out.get(key)
        nested = isinstance(old, dict) and isinstance(value, dict)
        out[key] = _patched(old, value) if nested else value
    return out
