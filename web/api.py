"""The REST API (JSON, the dashboard's session; CSRF and Origin on writes).

Every route works on the session's server only: a clip of another server answers 404, like one
that does not exist, so ids cannot be probed. Actions go through App.review / bulk_review (the
same compare-and-set the Discord buttons use), with origin "web" so the review cog re-renders
the clip's Discord message.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from engine.core.app import UserError
from engine.core.library import QueryError, parse_query
from web.auth import SESSION
from web.live import streamers
from web.views import clip_json, publish_json

if TYPE_CHECKING:
    from web.server import Dashboard

ACTIONS = ("approve", "reject", "favorite")
STATS_DAYS = 14


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "the body must be JSON"}), content_type="application/json"
        ) from exc
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "the body must be a JSON object"}),
            content_type="application/json",
        )
    return data


async def own_clip(dash: Dashboard, request: web.Request) -> Any:
    """The clip named in the path if it belongs to the session's server, else None."""
    try:
        clip_id = int(request.match_info["clip_id"])
    except ValueError:
        return None
    row = await dash.app.clips.get(clip_id)
    if row is None or row.guild_id != request[SESSION].guild_id:
        return None
    return row


async def stats_of(dash: Dashboard, guild_id: int) -> dict[str, Any]:
    counts = await dash.app.clips.status_counts(guild_id)
    approved, rejected = counts.get("approved", 0), counts.get("rejected", 0)
    decided = approved + rejected
    since = (datetime.fromtimestamp(dash.clock(), UTC) - timedelta(days=STATS_DAYS)).date()
    daily = await dash.library.daily(guild_id, since.isoformat())
    return {
        "counts": counts,
        "pending": counts.get("posted", 0),
        "approval_rate": round(approved / decided, 3) if decided else None,
        "daily": [{"day": d, "streamer": s, "clips": c, "approved": a} for d, s, c, a in daily],
    }


def register(router: web.UrlDispatcher, dash: Dashboard) -> None:
    app = dash.app

    async def list_clips(request: web.Request) -> web.Response:
        try:
            query = parse_query(dict(request.query))
        except QueryError as exc:
            return _error(400, str(exc))
        page = await dash.library.page(request[SESSION].guild_id, query)
        return web.json_response({"clips": [clip_json(r) for r in page.clips], "next": page.next})

    async def get_clip(request: web.Request) -> web.Response:
        row = await own_clip(dash, request)
        if row is None:
            return _error(404, "no such clip")
        body = clip_json(row)
        if dash.publisher is not None:
            body["publish"] = publish_json(await dash.publisher.jobs(row.id))
        return web.json_response(body)

    async def act(request: web.Request, action: str, title: str | None = None) -> web.Response:
        row = await own_clip(dash, request)
        if row is None:
            return _error(404, "no such clip")
        s = request[SESSION]
        try:
            outcome = await app.review(s.guild_id, row.id, action, s.user_id, title, origin="web")
        except UserError as exc:
            return _error(400 if action == "rename" else 404, str(exc))
        status = 200 if outcome.changed else 409
        return web.json_response(
            {
                "changed": outcome.changed,
                "message": outcome.message,
                "clip": clip_json(outcome.clip),
            },
            status=status,
        )

    async def publish(request: web.Request) -> web.Response:
        """Publish an approved clip to YouTube, or retry a failed publish (as the card's button)."""
        row = await own_clip(dash, request)
        if row is None:
            return _error(404, "no such clip")
        service = dash.publisher
        if service is None:
            return _error(404, "publishing is not set up on this bot (README: Publishing)")
        s = request[SESSION]
        try:
            failed = any(j.state == "failed" for j in await service.jobs(row.id))
            act_on = service.retry if failed else service.enqueue
            outcome = await act_on(s.guild_id, row.id, requested_by=s.user_id)
        except UserError as exc:
            return _error(400, str(exc))
        return web.json_response(
            {
                "changed": outcome.created or failed,
                "message": outcome.message,
                "clip": clip_json(row),
                "publish": publish_json(await service.jobs(row.id)),
            }
        )

    async def post_action(request: web.Request) -> web.Response:
        return await act(request, request.match_info["action"])

    async def patch_clip(request: web.Request) -> web.Response:
        body = await _body(request)
        if set(body) != {"title"} or not isinstance(body["title"], str):
            return _error(400, 'send {"title": "..."} (1 to 100 characters)')
        return await act(request, "rename", body["title"])

    async def delete_clip(request: web.Request) -> web.Response:
        return await act(request, "delete")

    async def pending(request: web.Request) -> web.Response:
        streamer = request.query.get("streamer") or None
        try:
            limit = min(max(int(request.query.get("limit", "50")), 1), 200)
            rows, total = await app.pending(request[SESSION].guild_id, streamer, limit)
        except ValueError:
            return _error(400, "limit must be a whole number")
        except UserError as exc:
            return _error(400, str(exc))
        return web.json_response({"clips": [clip_json(r) for r in rows], "total": total})

    async def review_stats(request: web.Request) -> web.Response:
        return web.json_response(await stats_of(dash, request[SESSION].guild_id))

    async def bulk(request: web.Request) -> web.Response:
        body = await _body(request)
        action, ids = body.get("action"), body.get("ids")
        if action not in ("approve", "reject"):
            return _error(400, 'action must be "approve" or "reject"')
        if not isinstance(ids, list) or not ids or not all(type(i) is int for i in ids):
            return _error(400, "ids must be a non-empty list of clip ids")
        s = request[SESSION]
        try:
            changed = await app.bulk_review(s.guild_id, action, s.user_id, ids=ids, origin="web")
        except UserError as exc:
            return _error(400, str(exc))
        return web.json_response(
            {"changed": [c.id for c in changed], "unchanged": len(set(ids)) - len(changed)}
        )

    async def list_streamers(request: web.Request) -> web.Response:
        return web.json_response({"streamers": await streamers(dash, request[SESSION].guild_id)})

    router.add_get("/api/clips", list_clips)
    router.add_get("/api/clips/{clip_id}", get_clip)
    router.add_post("/api/clips/{clip_id}/{action:approve|reject|favorite}", post_action)
    router.add_post("/api/clips/{clip_id}/publish", publish)
    router.add_patch("/api/clips/{clip_id}", patch_clip)
    router.add_delete("/api/clips/{clip_id}", delete_clip)
    router.add_get("/api/review/pending", pending)
    router.add_get("/api/review/stats", review_stats)
    router.add_post("/api/review/bulk", bulk)
    router.add_get("/api/streamers", list_streamers)
