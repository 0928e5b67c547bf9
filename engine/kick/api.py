"""Async Kick HTTP client: channel lookup (site endpoint) and live status (official API or site).

Kick's site endpoints are unsupported and sit behind Cloudflare, so every base URL comes from
KickConfig, blocks (403), rate limits (429) and outages (5xx, network) are retried with jittered
backoff under a bounded budget, and what is stable (channel, user and chatroom ids) is cached so a
later block costs only freshness. When client credentials are configured the official API answers
status and viewers; it has no chatroom id, so that one still comes from the site endpoint once (or
from an operator, by hand). Secrets and tokens never reach a log line or an exception message.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

import httpx

from engine.config import KickConfig
from engine.kick.answers import (
    MAX_KICK_ID,
    OfficialChannel,
    info_from_site,
    parse_official,
    parse_viewers,
)
from engine.kick.models import (
    SLUG_RE,
    CachedIds,
    ChannelCache,
    ChannelIds,
    ChannelInfo,
    ChannelNotFound,
    InvalidSlug,
    KickAuthError,
    KickBadAnswer,
    KickError,
    KickUnavailable,
    LiveStatus,
    MemoryChannelCache,
    normalize_slug,
    parse_kick_time,
)
from engine.kick.oauth import AppToken
from engine.kick.transport import KickTransport, Sleep

__all__ = [
    "SLUG_RE",
    "CachedIds",
    "ChannelCache",
    "ChannelIds",
    "ChannelInfo",
    "ChannelNotFound",
    "InvalidSlug",
    "KickApi",
    "KickAuthError",
    "KickBadAnswer",
    "KickError",
    "KickUnavailable",
    "LiveStatus",
    "MemoryChannelCache",
    "normalize_slug",
    "parse_kick_time",
]

log = logging.getLogger("engine.kick.api")

OFFICIAL_BATCH = 50


class KickApi:
    """Kick client shared by every Feed; use as `async with KickApi(cfg) as api:`."""

    def __init__(
        self,
        config: KickConfig,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        cache: ChannelCache | None = None,
        known_chatrooms: Mapping[str, int] | None = None,
        http: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = time.monotonic,
        max_attempts: int | None = None,
        max_retry_s: float | None = None,
        full_check_every: int | None = None,
    ) -> None:
        """Retry budgets and the full-lookup cadence come from config.yaml (`http_max_attempts`,
        `http_max_retry_s`, `viewer_full_check_every`); the keyword arguments are for tests."""
        self._cfg = config
        self._client_id = client_id or None
        self._client_secret = client_secret or None
        self._cache: ChannelCache = cache if cache is not None else MemoryChannelCache()
        self._known = {k.lower(): int(v) for k, v in (known_chatrooms or {}).items()}
        for name, room in self._known.items():
            if not _sane_id(room):
                raise ValueError(f"kick.chatrooms: {name}: {room} is not a chatroom id (1..2^53-1)")
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(
            timeout=config.request_timeout_s, follow_redirects=True
        )
        self._transport = KickTransport(
            config,
            self._http,
            sleep=sleep,
            rand=rand,
            max_attempts=config.http_max_attempts if max_attempts is None else max_attempts,
            max_retry_s=config.http_max_retry_s if max_retry_s is None else max_retry_s,
            secrets=self._secrets,
            monotonic=monotonic,
        )
        self._app_token = (
            AppToken(config, self._transport, self._client_id, self._client_secret, monotonic)
            if self._client_id and self._client_secret
            else None
        )
        every = config.viewer_full_check_every if full_check_every is None else full_check_every
        self._full_check_every = max(1, every)
        self._last_live: dict[str, LiveStatus] = {}
        self._light_polls: dict[str, int] = {}

    def _secrets(self) -> tuple[str | None, ...]:
        """What the transport scrubs from every reason it logs or raises."""
        token = self._app_token.current if self._app_token is not None else None
        return (self._client_secret, token)

    @property
    def official(self) -> bool:
        """True when client credentials are set, so status comes from the official API."""
        return bool(self._client_id and self._client_secret)

    async def aclose(self) -> None:
        """Close the HTTP client if we created it."""
        if self._own_http:
            await self._http.aclose()

    async def __aenter__(self) -> KickApi:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ---- public API -----------------------------------------------------------------------

    async def get_channel(self, slug: str) -> ChannelInfo:
        """Everything a Feed needs to start: ids, chatroom id and the current live state."""
        norm = normalize_slug(slug)
        if not self.official:
            try:
                info = await self._site_channel(norm)
            except KickUnavailable:
                # Blocked (403), rate limited or down: what an operator gave by hand or an
                # earlier lookup cached is enough to watch; the poller learns the live state.
                ids = await self._stored_ids(norm)
                if ids is None:
                    raise
                log.warning(
                    "Kick channel lookup for %s failed; using the stored chatroom id %d, "
                    "live state unknown until the next status poll",
                    norm,
                    ids.chatroom_id,
                )
                return ChannelInfo(
                    ids.slug, ids.channel_id, ids.user_id, ids.chatroom_id,
                    live=False, livestream_id=None, viewers=0, title=None, started_at=None,
                    live_known=False,
                )  # fmt: skip
            if norm in self._known:  # an operator's chatroom id wins over the lookup
                info = replace(info, chatroom_id=self._known[norm])
            await self._remember(norm, info)
            return info
        official = (await self._official_statuses([norm])).get(norm)
        if official is None:
            raise ChannelNotFound(norm)
        ids, site = await self._resolve_ids(norm)
        st = official.status
        return ChannelInfo(
            slug=ids.slug,
            channel_id=ids.channel_id,
            user_id=official.user_id if official.user_id is not None else ids.user_id,
            chatroom_id=ids.chatroom_id,
            live=st.live,
            livestream_id=site.livestream_id if site is not None and st.live else None,
            viewers=st.viewers,
            title=st.title if st.title is not None else (site.title if site else None),
            started_at=st.started_at,
        )

    async def get_ids(self, slug: str) -> ChannelIds:
        """The stable ids (cache, then a hand-given chatroom id, then the site endpoint once)."""
        ids, _site = await self._resolve_ids(normalize_slug(slug))
        return ids

    async def get_status(self, slugs: Iterable[str]) -> dict[str, LiveStatus]:
        """Live state and viewers per slug, for the poller; unknown slugs are left out.

        Raises KickUnavailable when Kick cannot be asked at all (the poller retries next time).
        """
        norm = list(dict.fromkeys(normalize_slug(s) for s in slugs))
        if not norm:
            return {}
        if self.official:
            found = await self._official_statuses(norm)
            return {s: o.status for s, o in found.items()}
        return await self._site_statuses(norm)

    # ---- site endpoint ----------------------------------------------------------------------

    def _site_headers(self, slug: str) -> dict[str, str]:
        # Browser-like headers make Cloudflare blocks rarer (kick-protocol.md).
        return {
            "Accept": "application/json",
            "Accept-Language": "en-US,en;q=0.9",
            "Referer": f"{self._cfg.api_base.rstrip('/')}/{slug}",
            "User-Agent": self._cfg.user_agent,
            "sec-fetch-dest": "empty",
            "sec-fetch-mode": "cors",
            "sec-fetch-site": "same-origin",
        }

    async def _site_channel(self, slug: str) -> ChannelInfo:
        """GET /api/v2/channels/{slug}, retrying once with '_' -> '-' on 404.

        Only a 404 that carries a JSON message (Kick's "No query results for model ...") means
        the channel does not exist. Any other 404 (an HTML page, nothing) comes from something
        that is not Kick's API, most likely a wrong kick.api_base: reporting that as "no such
        channel" would make the Feed give up on a channel that exists.
        """
        base = self._cfg.api_base.rstrip("/")
        for candidate in dict.fromkeys((slug, slug.replace("_", "-"))):
            url = f"{base}/api/v2/channels/{candidate}"
            status, body = await self._transport.request(
                "GET", url, subject=slug, what="channel lookup", headers=self._site_headers(slug)
            )
            if status == 404:
                if not _json_message(body):
                    log.error(
                        "Kick channel lookup for %s: HTTP 404 without Kick's JSON answer from "
                        "%s; check kick.api_base in config.yaml",
                        slug,
                        url,
                    )
                    raise KickUnavailable(
                        f"Kick channel lookup for {slug} answered HTTP 404 with a body that is "
                        f"not Kick's JSON; check kick.api_base ({base})",
                        slug,
                        404,
                    )
                continue
            if status != 200:
                raise KickUnavailable(
                    f"Kick channel lookup for {slug} answered HTTP {status}", slug, status
                )
            return info_from_site(candidate, body)
        raise ChannelNotFound(slug)

    async def _stored_ids(self, slug: str) -> ChannelIds | None:
        """Ids without asking Kick: the cache, with an operator's chatroom id winning."""
        cached = await self._cache.get(slug)
        if cached is not None and not _sane_id(cached.chatroom_id):
            cached = None  # stored by a version that trusted any answer: look it up again
        known = self._known.get(slug)
        chatroom = known if known is not None else (cached.chatroom_id if cached else None)
        if chatroom is None:
            return None
        if cached is None:
            return ChannelIds(slug, None, None, chatroom)
        return ChannelIds(slug, cached.channel_id, cached.user_id, chatroom)

    async def _resolve_ids(self, slug: str) -> tuple[ChannelIds, ChannelInfo | None]:
        stored = await self._stored_ids(slug)
        if stored is not None:
            return stored, None
        info = await self._site_channel(slug)
        await self._remember(slug, info)
        return info.ids(), info

    async def _remember(self, slug: str, info: ChannelInfo) -> None:
        await self._cache.put(slug, info.channel_id, info.user_id, info.chatroom_id)

    async def _site_statuses(self, slugs: list[str]) -> dict[str, LiveStatus]:
        """Site-only status: a cheap /current-viewers refresh between full lookups."""
        out: dict[str, LiveStatus] = {}
        light = {
            s: prev
            for s in slugs
            if (prev := self._last_live.get(s)) is not None
            and prev.livestream_id is not None
            and self._light_polls.get(s, 0) < self._full_check_every - 1
        }
        if light:
            viewers = await self._current_viewers([p.livestream_id for p in light.values()])
            for s, prev in light.items():
                v = viewers.get(prev.livestream_id)  # type: ignore[arg-type]
                if v:  # missing or 0: maybe ended, so a full lookup decides
                    out[s] = replace(prev, viewers=v)
                    self._light_polls[s] = self._light_polls.get(s, 0) + 1
        for s in slugs:
            if s in out:
                continue
            try:
                info = await self._site_channel(s)
            except ChannelNotFound:
                log.warning("Kick status: no such channel %s", s)
                continue
            await self._remember(s, info)
            out[s] = info.status()
            self._light_polls[s] = 0
            if info.live:
                self._last_live[s] = out[s]
            else:
                self._last_live.pop(s, None)
        return out

    async def _current_viewers(self, livestream_ids: list[int | None]) -> dict[int, int]:
        """GET /current-viewers?ids[]=...; failures yield {} so a full lookup takes over."""
        ids = [i for i in livestream_ids if i is not None]
        url = f"{self._cfg.api_base.rstrip('/')}/current-viewers"
        try:
            status, body = await self._transport.request(
                "GET",
                url,
                subject=",".join(map(str, ids)),
                what="viewer refresh",
                headers=self._site_headers(""),
                params={"ids[]": ids},
                fallback=True,
            )
        except KickUnavailable:
            return {}
        if status != 200 or not isinstance(body, list):
            return {}
        return parse_viewers(body)

    # ---- official API -------------------------------------------------------------------

    async def _official_batch(self, slugs: list[str]) -> dict[str, OfficialChannel]:
        url = f"{self._cfg.official_api_base.rstrip('/')}/channels"
        subject = ",".join(slugs) if len(slugs) <= 3 else f"{len(slugs)} channels"
        for attempt in (1, 2):
            assert self._app_token is not None, "only called with client credentials"
            token = await self._app_token.value()
            headers = {
                "Accept": "application/json",
                "Authorization": f"Bearer {token}",
                "User-Agent": self._cfg.user_agent,
            }
            status, body = await self._transport.request(
                "GET", url, subject=subject, what="status", headers=headers, params={"slug": slugs}
            )
            if status == 401 and attempt == 1:
                log.info("Kick official API rejected the app token; fetching a new one")
                self._app_token.invalidate()
                continue
            if status != 200 or not isinstance(body, dict):
                raise KickUnavailable(
                    f"Kick status for {subject} answered HTTP {status}", subject, status
                )
            return parse_official(body)
        raise KickAuthError(
            f"Kick official API keeps rejecting fresh tokens for {subject}", subject, 401
        )

    async def _official_statuses(self, slugs: list[str]) -> dict[str, OfficialChannel]:
        """Official status in batches of 50; a slug not found is retried as its '-' variant."""
        out: dict[str, OfficialChannel] = {}
        for i in range(0, len(slugs), OFFICIAL_BATCH):
            found = await self._official_batch(slugs[i : i + OFFICIAL_BATCH])
            out.update({s: found[s] for s in slugs[i : i + OFFICIAL_BATCH] if s in found})
        variants = {s.replace("_", "-"): s for s in slugs if s not in out and "_" in s}
        names = list(variants)
        for i in range(0, len(names), OFFICIAL_BATCH):
            found = await self._official_batch(names[i : i + OFFICIAL_BATCH])
            out.update({variants[v]: found[v] for v in names[i : i + OFFICIAL_BATCH] if v in found})
        return out


def _json_message(body: object) -> bool:
    """A JSON object with a text `message`: how Kick's API (Laravel) words a 404."""
    return isinstance(body, dict) and isinstance(body.get("message"), str)


def _sane_id(value: object) -> bool:
    """An id we may subscribe to or store (the same range answers are held to)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_KICK_ID
