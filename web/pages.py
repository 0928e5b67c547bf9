"""Server-rendered pages (Jinja2 templates under web/templates) and the media files.

Pages show the session's server only; their buttons call the REST API (static/app.js) with the
page's CSRF token. Media: originals, previews and thumbnails through aiohttp's FileResponse,
which answers HTTP Range requests, so the browser's player can seek in a long original.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from engine.core.chart import render_chart_async
from engine.core.library import QueryError, parse_query
from engine.core.login import LinkRefused
from web.api import own_clip, stats_of
from web.auth import SESSION, own_origins
from web.live import streamers
from web.views import MEDIA_KINDS, bars, clip_json, has_file, publish_json

if TYPE_CHECKING:
    from web.server import Dashboard

log = logging.getLogger("web.pages")

CHART_MINUTES = 30.0
NO_SERVER = "You may not see this server's clips: it takes Manage Server or its reviewer role."


def register(router: web.UrlDispatcher, dash: Dashboard) -> None:
    app = dash.app

    async def login_form(request: web.Request) -> web.Response:
        # A GET changes nothing (a link preview must not use up the link): the button POSTs.
        return dash.render(
            request, "login.html", {"title": "Log in", "token": request.match_info["token"]}
        )

    async def login(request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin", "")
        if origin.rstrip("/") not in own_origins(request, dash.config.web.public_url):
            return dash.refuse(request, 403, "Cross-origin login refused.")
        try:
            grant = dash.links.redeem(request.match_info["token"])
        except LinkRefused as exc:
            return dash.refuse(request, 403, str(exc))
        facts = await dash.rights.reviewer(grant.guild_id, grant.user_id)
        if facts is None:
            return dash.refuse(request, 403, NO_SERVER)
        _, value = dash.sessions.new(grant.guild_id, grant.user_id, facts.name)
        response = web.HTTPSeeOther("/clips")
        dash.sessions.set_cookie(response, value, request)
        log.info("dashboard: member %s of guild %s logged in", grant.user_id, grant.guild_id)
        raise response

    async def logout(request: web.Request) -> web.StreamResponse:
        response = dash.render(
            request, "message.html", {"title": "Logged out", "text": "Logged out."}
        )
        dash.sessions.clear_cookie(response)
        return response

    async def home(request: web.Request) -> web.StreamResponse:
        raise web.HTTPSeeOther("/clips")

    async def live_page(request: web.Request) -> web.Response:
        gid = request[SESSION].guild_id
        found = await streamers(dash, gid)
        recent = await dash.library.page(gid, parse_query({"limit": "10"}))
        context = {
            "title": "Live",
            "streamers": found,
            "recent": [clip_json(r) for r in recent.clips],
        }
        return dash.render(request, "live.html", context)

    async def clips_page(request: web.Request) -> web.Response:
        gid = request[SESSION].guild_id
        params = dict(request.query)
        try:
            query = parse_query(params)
            error = None
        except QueryError as exc:
            query, error = parse_query({}), str(exc)
        page = await dash.library.page(gid, query)
        names, triggers = await dash.library.facets(gid)
        keep = {k: v for k, v in params.items() if k != "before" and v}
        return dash.render(
            request,
            "clips.html",
            {
                "title": "Clips",
                "clips": [clip_json(r) for r in page.clips],
                "next": page.next,
                "filters": keep,
                "streamers": names,
                "triggers": triggers,
                "error": error,
            },
        )

    async def clip_page(request: web.Request) -> web.Response:
        row = await own_clip(dash, request)
        if row is None:
            return dash.refuse(request, 404, "There is no such clip on this server.")
        jobs = None if dash.publisher is None else publish_json(await dash.publisher.jobs(row.id))
        return dash.render(
            request,
            "clip.html",
            {"title": row.title or f"Clip {row.id}", "clip": clip_json(row), "publish": jobs},
        )

    async def review_page(request: web.Request) -> web.Response:
        rows, total = await app.pending(request[SESSION].guild_id, None, 100)
        return dash.render(
            request,
            "review.html",
            {"title": "Review", "clips": [clip_json(r) for r in rows], "total": total},
        )

    async def stats_page(request: web.Request) -> web.Response:
        gid = request[SESSION].guild_id
        found = await app.stats(gid, None)
        data = await stats_of(dash, gid)
        per: dict[str, dict[str, int]] = {}
        for row in data["daily"]:
            per.setdefault(row["day"], {})[row["streamer"]] = row["clips"]
        names = sorted({row["streamer"] for row in data["daily"]})
        return dash.render(
            request,
            "stats.html",
            {
                "title": "Stats",
                "stats": data,
                "days": sorted(per.items()),
                "names": names,
                "watched": [(item.streamer, bars(item.snapshot)) for item in found],
            },
        )

    async def chart(request: web.Request) -> web.Response:
        gid = request[SESSION].guild_id
        slug = request.match_info["streamer"]
        if slug not in await app.streamers(gid):
            raise web.HTTPNotFound()
        png = await render_chart_async(app.chart_series(slug, CHART_MINUTES), slug, app.clock())
        return web.Response(
            body=png, content_type="image/png", headers={"Cache-Control": "no-store"}
        )

    async def media(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        row = await own_clip(dash, request)
        if row is None or kind not in MEDIA_KINDS or not has_file(row, kind):
            raise web.HTTPNotFound()
        path = Path(getattr(row, MEDIA_KINDS[kind]))
        headers: dict[str, Any] = {"Cache-Control": "private, no-cache"}
        if request.query.get("download"):
            headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
        return web.FileResponse(path, headers=headers)

    router.add_get("/login/{token}", login_form)
    router.add_post("/login/{token}", login)
    router.add_post("/logout", logout)
    router.add_get("/", home)
    router.add_get("/live", live_page)
    router.add_get("/clips", clips_page)
    router.add_get("/clips/{clip_id}", clip_page)
    router.add_get("/review", review_page)
    router.add_get("/stats", stats_page)
    router.add_get("/stats/chart/{streamer}.png", chart)
    router.add_get("/media/{clip_id}/{kind}", media)
