"""Building the publishing service from config, the stores and the environment's secrets
(bot.py calls this; tests build the same pieces against FakeYouTube), the `--check` line of the
title font, and `bot.py --youtube-auth`."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from engine.config import Config, ConfigError
from engine.core.checks import Check
from engine.core.stores import ClipStoreFull
from publishing.fonts import FontMissing, find_font
from publishing.model import LAYOUTS, POSITIONS, PRIVACY, VARIANTS, PublishStore
from publishing.service import PublishService
from publishing.youtube import YouTubeTarget
from publishing.youtube_oauth import PROVIDER, SCOPE, YouTubeTokens, device_flow

log = logging.getLogger("publishing")


@dataclass
class Publisher:
    service: PublishService
    http: httpx.AsyncClient

    async def aclose(self) -> None:
        await self.service.stop()
        await self.http.aclose()


def check_config(config: Config) -> None:
    """The publish keys the loader cannot check by type: one ConfigError naming the key."""
    p = config.publish
    for key, value, allowed in (
        ("publish.layout", p.layout, LAYOUTS),
        ("publish.title_position", p.title_position, POSITIONS),
        ("publish.youtube.privacy", p.youtube.privacy, PRIVACY),
        ("publish.youtube.variant", p.youtube.variant, VARIANTS),
    ):
        if value not in allowed:
            raise ConfigError(f"{key}: {value!r} is not one of {', '.join(allowed)}")
    if p.auto_publish_min_score is not None and not 0 <= p.auto_publish_min_score <= 1:
        raise ConfigError("publish.auto_publish_min_score: a confidence between 0 and 1, or null")
    if not 0 <= p.render_nice <= 19:
        raise ConfigError("publish.render_nice: 0 (normal) to 19 (lowest priority)")


def title_font(config: Config) -> Path | None:
    """The burned-in title's font, or None (titles off, or none found: logged, not fatal)."""
    if not config.publish.burn_title:
        return None
    try:
        return find_font(config.publish.title_font)
    except FontMissing as exc:
        log.warning("%s; vertical clips are rendered without a title", exc)
        return None


def font_check(config: Config) -> Check:
    try:
        font = find_font(config.publish.title_font)
    except FontMissing as exc:
        return Check("title font", False, str(exc), "see README: Publishing",
                     hard=config.publish.burn_title)  # fmt: skip
    return Check("title font", True, str(font))


def build_publisher(
    config: Config,
    store: PublishStore,
    clips: ClipStoreFull,
    environ: dict[str, str] | os._Environ[str],
    *,
    clock: Callable[[], float] | None = None,
) -> Publisher:
    yt = config.publish.youtube
    http = httpx.AsyncClient(timeout=yt.request_timeout_s)
    extra: dict[str, Any] = {"clock": clock} if clock else {}
    tokens = YouTubeTokens(
        http,
        yt,
        environ.get("YOUTUBE_CLIENT_ID") or None,
        environ.get("YOUTUBE_CLIENT_SECRET") or None,
        store,
        **extra,
    )
    target = YouTubeTarget(http, yt, tokens, **extra)
    service = PublishService(
        config.publish, store, clips, {"youtube": target}, font=title_font(config), **extra
    )
    return Publisher(service, http)


async def youtube_auth(
    config: Config,
    store: PublishStore,
    environ: dict[str, str] | os._Environ[str],
    say: Callable[[str], None] = print,
    **flow: Any,
) -> int:
    """`bot.py --youtube-auth`: the device flow, then the refresh token into the database."""
    client_id = environ.get("YOUTUBE_CLIENT_ID", "").strip()
    client_secret = environ.get("YOUTUBE_CLIENT_SECRET", "").strip()
    if not client_id or not client_secret:
        say("YOUTUBE_CLIENT_ID and YOUTUBE_CLIENT_SECRET must be set (README: Publishing).")
        return 2
    yt = config.publish.youtube
    async with httpx.AsyncClient(timeout=yt.request_timeout_s) as http:
        try:
            tokens = await device_flow(http, yt, client_id, client_secret, say=say, **flow)
        except Exception as exc:  # AuthError or the network: one line, no traceback
            say(f"YouTube authorisation failed: {exc}")
            return 1
        channel = "?"
        try:
            resp = await http.get(
                f"{yt.api_base.rstrip('/')}/channels",
                params={"part": "snippet", "mine": "true"},
                headers={"Authorization": f"Bearer {tokens['access_token']}"},
            )
            if resp.status_code == 200:
                items = resp.json().get("items") or []
                channel = items[0]["snippet"]["title"] if items else "(no channel on this account)"
        except (httpx.HTTPError, ValueError, KeyError):
            pass  # the name is a courtesy; the token is what matters
    await store.save_refresh_token(PROVIDER, tokens["refresh_token"], SCOPE, channel)
    say(f"Connected to the YouTube channel {channel!r}; the refresh token is stored in the "
        "database (readable by this user only).")  # fmt: skip
    return 0
