"""Reaching Discord: where discord.py sends its requests (so tests can point it at a fake) and
waiting for Discord's API to answer before logging in."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import discord
import httpx
import yarl

from engine.backoff import Backoff, sleep_unless
from engine.config import Config

log = logging.getLogger("bot")


def point_discord_at(config: Config) -> None:
    """discord.py reads both addresses from class attributes; tests point them at a fake."""
    discord.http.Route.BASE = config.discord.api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.discord.gateway_url)


async def wait_for_discord(
    api_base: str,
    stop: asyncio.Event,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    backoff: Backoff | None = None,
) -> bool:
    """Wait until Discord's API answers at all; False when asked to stop first.

    A VPS that starts the bot before its network is up, or a DNS hiccup, must not end in a
    traceback: once logged in, discord.py reconnects the gateway by itself, but it never retries
    the login request. This asks the unauthenticated /gateway route, so no token is involved.
    """
    url = api_base.rstrip("/") + "/gateway"
    backoff = backoff or Backoff(2.0, 60.0)
    async with httpx.AsyncClient(timeout=10) as client:
        while not stop.is_set():
            try:
                resp = await client.get(url)
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                if resp.status_code < 500:
                    return True
                reason = f"answered {resp.status_code}"
            delay = max(1.0, backoff.next_delay())
            log.warning("cannot reach Discord at %s (%s); retrying in %.0f s", url, reason, delay)
            await sleep_unless(sleep, delay, stop)
    return False
