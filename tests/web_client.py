"""Logging in to the real dashboard of a BotHarness the way a member does: /dashboard in the
fake Discord, the link from its ephemeral reply, the login button (a POST), then the session
cookie and the page's CSRF token for writes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.bot_harness import BotHarness
from tests.fakes.discord_server import Member

LINK = re.compile(r"(https?://[^/\s]+/login/[A-Za-z0-9_-]+)")
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


@dataclass
class WebUser:
    http: aiohttp.ClientSession
    base: str
    csrf: str

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Origin": self.base, "X-CSRF-Token": self.csrf, **extra}

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """(status, parsed JSON) of an API call with the session, CSRF token and Origin."""
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        async with self.http.request(method, self.base + path, headers=headers, **kwargs) as r:
            return r.status, await r.json()


async def dashboard_link(h: BotHarness, member: Member, base: str | None = None) -> str:
    """The link from /dashboard's ephemeral reply (on `base`, default the dashboard's own)."""
    msg = await h.answer(member, "dashboard")
    assert msg.ephemeral, "the link must be private"
    found = LINK.search(msg.content or "")
    assert found, msg.content
    base = base or h.services.extra["dashboard"].base_url
    assert found[1].startswith(f"{base}/login/"), found[1]
    return found[1]


async def redeem(http: aiohttp.ClientSession, link: str) -> tuple[int, str]:
    base = link.split("/login/")[0]
    async with http.post(link, headers={"Origin": base}, allow_redirects=True) as r:
        return r.status, await r.text()


@asynccontextmanager
async def logged_in(h: BotHarness, member: Member) -> AsyncIterator[WebUser]:
    link = await dashboard_link(h, member)
    base = link.split("/login/")[0]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        status, page = await redeem(http, link)
        assert status == 200, page
        found = CSRF.search(page)
        assert found and found[1], page[:500]
        yield WebUser(http, base, found[1])
