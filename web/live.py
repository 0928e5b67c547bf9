"""Live updates for open dashboard pages, as server-sent events on GET /events.

Each open page gets, every LIVE_INTERVAL_S, its server's streamers (live state, viewers, chat
velocity against its normal, the detector's bars) as a `live` event; at once a `clip` event for
every review change (made on the web or with Discord's buttons: the App tells EventHub) and a
`moment` event for every trigger the detectors fire.
Queues are bounded: a page that stops reading loses old events, never the bot's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp_sse import sse_response

from web.auth import SESSION
from web.views import clip_json, streamer_json, when

if TYPE_CHECKING:
    from web.server import Dashboard

log = logging.getLogger("web.live")

LIVE_INTERVAL_S = 2.0
QUEUE_MAX = 100


class EventHub:
    def __init__(self) -> None:
        self._queues: dict[int, set[asyncio.Queue[dict[str, Any] | None]]] = {}

    def subscribe(self, guild_id: int) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_MAX)
        self._queues.setdefault(guild_id, set()).add(queue)
        return queue

    def unsubscribe(self, guild_id: int, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        found = self._queues.get(guild_id)
        if found is not None:
            found.discard(queue)
            if not found:
                del self._queues[guild_id]

    def publish(self, guild_id: int, event: dict[str, Any]) -> None:
        for queue in self._queues.get(guild_id, ()):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()  # the oldest goes; the page reloads state anyway
            queue.put_nowait(event)

    async def on_review(self, clip: Any, action: str, origin: str) -> None:
        """App review listener: every change, from either front, reaches open pages."""
        self.publish(clip.guild_id, {"origin": origin, "clip": clip_json(clip)})

    async def on_moment(self, guild_id: int, moment: Any, clip_id: int) -> None:
        """App moment hook: a new trigger shows in the Live page's recent list at once."""
        self.publish(
            guild_id,
            {
                "moment": {
                    "clip_id": clip_id,
                    "streamer": moment.streamer,
                    "triggers": list(moment.triggers),
                    "at": when(moment.t),
                    "revision": moment.revision,
                }
            },
        )

    async def close_all(self, _app: web.Application | None = None) -> None:
        for queues in self._queues.values():
            for queue in queues:
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(None)  # None: the stream ends


async def streamers(dash: Dashboard, guild_id: int) -> list[dict[str, Any]]:
    return [streamer_json(item) for item in await dash.app.stats(guild_id, None)]


def register(router: web.UrlDispatcher, dash: Dashboard) -> None:
    async def events(request: web.Request) -> web.StreamResponse:
        gid = request[SESSION].guild_id
        queue = dash.events.subscribe(gid)
        loop = asyncio.get_running_loop()
        resp: web.StreamResponse = web.StreamResponse()
        try:
            async with sse_response(request) as resp:
                next_live = 0.0
                while resp.is_connected():
                    if loop.time() >= next_live:
                        await resp.send(json.dumps(await streamers(dash, gid)), event="live")
                        next_live = loop.time() + LIVE_INTERVAL_S
                    try:
                        item = await asyncio.wait_for(queue.get(), next_live - loop.time())
                    except TimeoutError:
                        continue
                    if item is None:
                        break
                    kind = "moment" if "moment" in item else "clip"
                    await resp.send(json.dumps(item), event=kind)
        except ConnectionResetError:  # the page was closed mid-write: nothing to tell
            log.debug("live stream of guild %s closed by the browser", gid)
        finally:
            dash.events.unsubscribe(gid, queue)
        return resp

    router.add_get("/events", events)
