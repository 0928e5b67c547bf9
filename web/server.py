"""The dashboard's aiohttp server, run inside the bot's event loop (started in setup_hook).

`Dashboard` owns the aiohttp Application: the auth middleware (session -> rights -> CSRF and
Origin on writes), the pages (web.pages), the REST API (web.api), the media files and the live
event stream (web.live). It reaches the bot only through the App (reviews, stats, the reviewer
rule), the Library (reads) and a member lookup bot.py gives it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from engine.config import Config
from engine.core.app import App
from engine.core.library import Library
from engine.core.login import LoginLinks
from engine.detection.emotes import readable
from web import api, live, pages
from web.auth import (
    FORM,
    SAFE_METHODS,
    SESSION,
    MemberLookup,
    Rights,
    Session,
    Sessions,
    write_refusal,
)

log = logging.getLogger("web.server")

HERE = Path(__file__).resolve().parent
PUBLIC_PREFIXES = ("/static/", "/login/", "/healthz")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Dashboard:
    config: Config
    app: App
    library: Library
    links: LoginLinks
    members: MemberLookup
    secret: str
    clock: Callable[[], float] = time.time
    # publishing.service.PublishService when publishing is set up (bot.py), else None: the
    # clip page's Publish section and POST /api/clips/{id}/publish use it, as the card does.
    publisher: Any = None
    rights: Rights = field(init=False)
    sessions: Sessions = field(init=False)
    events: live.EventHub = field(init=False)
    templates: jinja2.Environment = field(init=False)
    _runner: web.AppRunner | None = field(init=False, default=None)
    port: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.rights = Rights(self.app, self.members)
        self.sessions = Sessions(self.secret, self.config.web.public_url.startswith("https://"))
        self.events = live.EventHub()
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.templates.filters["chat"] = readable  # Kick's [emote:id:NAME] tokens as NAME

    # -- lifecycle -----------------------------------------------------------------------------

    def build(self) -> web.Application:
        application = web.Application(middlewares=[self._guard], client_max_size=64 * 1024)
        application.router.add_static(
            "/static/", HERE / "static", name="static", append_version=True
        )
        application.router.add_get("/healthz", self._healthz)
        pages.register(application.router, self)
        api.register(application.router, self)
        live.register(application.router, self)
        application.on_shutdown.append(self.events.close_all)
        return application

    async def start(self) -> None:
        """Listen on web.bind:web.port; the review listener feeds open pages from now on."""
        # Open live pages (SSE) end at shutdown: the bot must stop within seconds.
        self._runner = web.AppRunner(
            self.build(), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.web.bind, self.config.web.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.config.web.port
        self.app.review_listeners.append(self.events.on_review)
        self.app.on_moment_hooks.append(self.events.on_moment)
        log.info("dashboard listening on %s (open it with /dashboard)", self.base_url)

    async def stop(self) -> None:
        if self.events.on_review in self.app.review_listeners:
            self.app.review_listeners.remove(self.events.on_review)
        if self.events.on_moment in self.app.on_moment_hooks:
            self.app.on_moment_hooks.remove(self.events.on_moment)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        public = self.config.web.public_url.rstrip("/")
        if public:
            return public
        host = self.config.web.bind
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - display only
        return f"http://{host}:{self.port}"

    def login_url(self, guild_id: int, user_id: int) -> str:
        """A one-time link for /dashboard (valid 10 minutes)."""
        return f"{self.base_url}/login/{self.links.issue(guild_id, user_id)}"

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    # -- the guard every request passes --------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path.startswith(PUBLIC_PREFIXES):
            return await handler(request)
        is_api = path.startswith("/api/")
        session = self.sessions.read(request)
        if session is None:
            return self.refuse(request, 401, "Not logged in: run /dashboard in Discord for a link.")
        request[SESSION] = session
        write = request.method not in SAFE_METHODS
        if write:
            if request.content_type == "application/x-www-form-urlencoded":
                request[FORM] = await request.post()
            why = write_refusal(request, session, self.config.web.public_url)
            if why is not None:
                return self.refuse(request, 403, why)
        if not await self.rights.allowed(session.guild_id, session.user_id, fresh=write):
            response = self.refuse(
                request,
                403,
                "You are not a reviewer of this server (Manage Server or the reviewer role) any "
                "more. Ask an admin, then run /dashboard again.",
            )
            if not is_api:
                self.sessions.clear_cookie(response)
            return response
        return await handler(request)

    def refuse(self, request: web.Request, status: int, message: str) -> web.Response:
        if request.path.startswith(("/api/", "/events")):
            return web.json_response({"error": message}, status=status)
        return self.render(request, "message.html", {"title": "Dashboard", "text": message}, status)

    def render(
        self, request: web.Request, name: str, context: dict[str, Any], status: int = 200
    ) -> web.Response:
        session: Session | None = request.get(SESSION)
        text = self.templates.get_template(name).render(
            {
                "session": session,
                "csrf": session.csrf if session else "",
                "path": request.path,
                "static": lambda f: request.app.router["static"].url_for(filename=f),
                **context,
            }
        )
        return web.Response(text=text, status=status, content_type="text/html")
