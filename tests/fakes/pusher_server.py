"""A fake of Kick's Pusher websocket on 127.0.0.1: handshake, subscriptions, chat, misbehaviour.

The real ChatClient connects to it through KickConfig.pusher_url (see `FakePusher.config()`), and
the frames it sends are shaped exactly like the captures in kick-protocol.md (server `data` is a
JSON *string*), so what passes here passes against Kick. It can also misbehave on purpose: drop
every socket, close with a Pusher code, stop answering pings (a stale socket), send garbage, and
refuse a wrong app key with error 4001 like the real cluster does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from engine.config import KickConfig

KICK_APP_KEY = "32cbd69e4b950bf97679"
CHAT_EVENT = "App\\Events\\ChatMessageEvent"
LIVE_EVENT = "App\\Events\\StreamerIsLive"
OFFLINE_EVENT = "App\\Events\\StopStreamBroadcast"
QUERY = "protocol=7&client=js&version=8.4.0&flash=false"
KNOWN_EMOTES = {"KEKW": 37226, "LULW": 37227, "EZ": 37221, "PeepoClap": 37232}


def emote(name: str, emote_id: int | None = None) -> str:
    """An inline Kick emote token, e.g. emote("KEKW") -> "[emote:37226:KEKW]"."""
    return f"[emote:{emote_id or KNOWN_EMOTES.get(name, 39000)}:{name}]"


def chat_topic(chatroom_id: int) -> str:
    return f"chatrooms.{chatroom_id}.v2"


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


class FakePusher:
    """Pusher protocol 7 at ws://127.0.0.1:port/app/{key}; use `async with FakePusher() as p:`."""

    def __init__(
        self,
        *,
        app_key: str = KICK_APP_KEY,
        activity_timeout: float = 120,
        host: str = "127.0.0.1",
    ) -> None:
        self.app_key = app_key
        self.activity_timeout = activity_timeout
        self.host = host
        self.port = 0
        self.answer_pings = True
        self.subscriptions: list[str] = []
        self.client_frames: list[dict[str, Any]] = []
        self.connections_total = 0
        self.rejected = 0
        self._subs: dict[ServerConnection, set[str]] = {}
        self._server: Server | None = None
        self._socket_ids = itertools.count(1)
        self._user_ids = itertools.count(117108965)
        self._changed = asyncio.Event()

    # ---- addresses ----------------------------------------------------------------------------

    @property
    def url_template(self) -> str:
        """KickConfig.pusher_url for this fake (`{key}` left for the client to fill)."""
        return f"ws://{self.host}:{self.port}/app/{{key}}?{QUERY}"

    @property
    def url(self) -> str:
        return self.url_template.format(key=self.app_key)

    def config_overrides(self) -> dict[str, str]:
        return {"pusher_url": self.url_template, "pusher_key": self.app_key}

    def config(self, base: KickConfig | None = None, **overrides: Any) -> KickConfig:
        values: dict[str, Any] = {**self.config_overrides(), **overrides}
        return dataclasses.replace(base or KickConfig(), **values)

    @property
    def stale(self) -> bool:
        """True: the server ignores pusher:ping and sends nothing on its own (a dead socket)."""
        return not self.answer_pings

    @stale.setter
    def stale(self, value: bool) -> None:
        self.answer_pings = not value

    @property
    def connected(self) -> int:
        return len(self._subs)

    @property
    def channels_by_socket(self) -> list[set[str]]:
        """What each open socket is subscribed to now (unsubscribes applied)."""
        return [set(subs) for subs in self._subs.values()]

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> FakePusher:
        self._server = await serve(self._handler, self.host, 0, ping_interval=None)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            for ws in list(self._subs):
                ws.transport.abort()
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> FakePusher:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---- serving ----------------------------------------------------------------------------

    async def _handler(self, ws: ServerConnection) -> None:
        match = re.fullmatch(r"/app/([^/]+)", urlsplit(ws.request.path if ws.request else "").path)
        key = match[1] if match else ""
        if key != self.app_key:
            self.rejected += 1
            self._touch()
            message = f"App key {key} not in this cluster. Did you forget to specify the cluster?"
            error = {"event": "pusher:error", "data": {"code": 4001, "message": message}}
            await ws.send(_dumps(error))
            await ws.close(4001, "App key not in this cluster")
            return
        self.connections_total += 1
        self._subs[ws] = set()
        self._touch()
        socket_id = f"{next(self._socket_ids)}.{uuid.uuid4().int % 10**8}"
        established = {"socket_id": socket_id, "activity_timeout": self.activity_timeout}
        try:
            await ws.send(
                _dumps({"event": "pusher:connection_established", "data": _dumps(established)})
            )
            async for raw in ws:
                await self._on_frame(ws, raw)
        except ConnectionClosed:
            pass
        finally:
            self._subs.pop(ws, None)
            self._touch()

    async def _on_frame(self, ws: ServerConnection, raw: str | bytes) -> None:
        try:
            frame = json.loads(raw)
        except ValueError:
            frame = {"event": None, "raw": raw if isinstance(raw, str) else raw.decode("latin-1")}
        self.client_frames.append(frame)
        self._touch()
        event = frame.get("event") if isinstance(frame, dict) else None
        data = frame.get("data") if isinstance(frame, dict) else None
        if event == "pusher:subscribe" and isinstance(data, dict):
            channel = str(data.get("channel"))
            ack = {
                "event": "pusher_internal:subscription_succeeded",
                "data": "{}",
                "channel": channel,
            }
            await ws.send(_dumps(ack))
            # Recorded after the ack is on the wire, so a test that waited for the subscription
            # sends its next frame after the ack, as on the real service.
            self.subscriptions.append(channel)
            self._subs.setdefault(ws, set()).add(channel)
            self._touch()
        elif event == "pusher:unsubscribe" and isinstance(data, dict):
            self._subs.get(ws, set()).discard(str(data.get("channel")))
            self._touch()
        elif event == "pusher:ping" and self.answer_pings:
            await ws.send(_dumps({"event": "pusher:pong", "data": "{}"}))

    # ---- sending ------------------------------------------------------------------------------

    async def _broadcast(self, text: str, channel: str | None) -> int:
        sent = 0
        for ws, subs in list(self._subs.items()):
            if channel is None or channel in subs:
                try:
                    await ws.send(text)
                    sent += 1
                except ConnectionClosed:
                    pass
        return sent

    async def send_raw(self, text: str | bytes, channel: str | None = None) -> int:
        """Send anything (garbage included) to every client, or to a channel's subscribers."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        return await self._broadcast(text, channel)

    async def send_event(self, channel: str, event: str, data: Any) -> int:
        """A server frame on `channel`; `data` is JSON-encoded into a string as Pusher does."""
        frame = {"event": event, "data": data if isinstance(data, str) else _dumps(data)}
        frame["channel"] = channel
        return await self._broadcast(_dumps(frame), channel)

    def chat_data(
        self,
        chatroom_id: int,
        user: str,
        text: str,
        *,
        msg_type: str = "message",
        reply_to: tuple[str, str] | None = None,
        badges: Sequence[dict[str, Any]] = (),
        color: str = "#31D6C2",
        created_at: datetime | None = None,
        user_id: int | None = None,
    ) -> dict[str, Any]:
        """The decoded `data` of a ChatMessageEvent, shaped like kick-protocol.md's capture."""
        data: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "chatroom_id": chatroom_id,
            "content": text,
            "type": "reply" if reply_to else msg_type,
            "created_at": (created_at or datetime.now(UTC)).isoformat(timespec="seconds"),
            "sender": {
                "id": user_id if user_id is not None else next(self._user_ids),
                "username": user,
                "slug": user.lower(),
                "identity": {"color": color, "badges": list(badges)},
            },
        }
        if reply_to:
            data["metadata"] = {
                "original_sender": {"id": 1, "username": reply_to[0]},
                "original_message": {"id": str(uuid.uuid4()), "content": reply_to[1]},
                "message_ref": str(int(datetime.now(UTC).timestamp() * 1000)),
            }
        return data

    async def send_chat(self, chatroom_id: int, user: str, text: str, **kwargs: Any) -> int:
        """One chat line to the chatroom's subscribers; returns how many sockets got it."""
        data = self.chat_data(chatroom_id, user, text, **kwargs)
        return await self.send_event(chat_topic(chatroom_id), CHAT_EVENT, data)

    async def burst(
        self, chatroom_id: int, messages: Iterable[tuple[str, str] | str], rate: float
    ) -> int:
        """Send many lines at `rate` per second (<= 0: as fast as possible); str = viewer{i}."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        count = 0
        for i, item in enumerate(messages):
            user, text = item if isinstance(item, tuple) else (f"viewer{i % 1000}", item)
            if rate > 0:
                wait = start + i / rate - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            await self.send_chat(chatroom_id, user, text)
            count += 1
        return count

    async def send_live(self, channel_id: int, live: bool = True) -> int:
        """StreamerIsLive / StopStreamBroadcast on `channel.{channel_id}`."""
        event = LIVE_EVENT if live else OFFLINE_EVENT
        data = {"livestream": {"id": 1, "channel_id": channel_id, "session_title": "LIVE"}}
        return await self.send_event(f"channel.{channel_id}", event, data)

    async def send_ping(self) -> int:
        return await self._broadcast(_dumps({"event": "pusher:ping", "data": "{}"}), None)

    # ---- misbehaving --------------------------------------------------------------------------

    async def drop_connections(self) -> int:
        """Abort every socket without a close frame (a network cut)."""
        conns = list(self._subs)
        for ws in conns:
            ws.transport.abort()
        return len(conns)

    async def close_with(self, code: int, reason: str = "") -> int:
        """Close every socket with a Pusher close code (4000-4299 steer the client's retry)."""
        conns = list(self._subs)
        await asyncio.gather(*(ws.close(code, reason) for ws in conns), return_exceptions=True)
        return len(conns)

    # ---- waiting ------------------------------------------------------------------------------

    def _touch(self) -> None:
        """Wake every waiter: the recorded state changed."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], within_s: float = 5.0) -> None:
        """Wait until `predicate()` over the fake's recorded state holds (TimeoutError if not)."""
        async with asyncio.timeout(within_s):
            while True:
                changed = self._changed
                if predicate():
                    return
                await changed.wait()

    async def wait_for_subscription(
        self, channel: str, count: int = 1, within_s: float = 5.0
    ) -> None:
        """Until `channel` was subscribed `count` times in total (1 + reconnects) and is live."""
        await self.wait_until(
            lambda: (
                self.subscriptions.count(channel) >= count
                and any(channel in s for s in self._subs.values())
            ),
            within_s,
        )

    async def wait_for_client_event(
        self, event: str, count: int = 1, within_s: float = 5.0
    ) -> None:
        """Until the clients sent `event` (e.g. "pusher:pong") `count` times in total."""
        await self.wait_until(lambda: len(self.frames_of(event)) >= count, within_s)

    def frames_of(self, event: str) -> list[dict[str, Any]]:
        return [f for f in self.client_frames if isinstance(f, dict) and f.get("event") == event]
