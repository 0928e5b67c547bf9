"""Kick chat reader: a Pusher (protocol 7) websocket client that survives Kick's hiccups.

Chat is the main trigger input, so the client must keep delivering through dropped sockets,
silent (stale) connections and server-side close codes without ever crashing the Feed. Frames are
decoded by engine.kick.pusher.parse_frame (shared with replay, so live and replay decide alike);
this
module only owns the socket: handshake, subscriptions, keepalive, reconnects and counters.
Pusher close codes steer reconnection: 4000-4099 mean "do not retry as is" (a wrong app key),
4100-4199 "retry after a pause", 4200-4299 "retry at once"; anything else backs off with jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI, WebSocketException

from engine.backoff import Backoff, sleep_unless
from engine.config import KickConfig
from engine.detection.emotes import EmoteParser
from engine.events import ChatMessage
from engine.kick.chat_types import (
    ChatStats,
    PusherRefused,
    _Outcome,
    _Stale,
    pusher_url,
    room_channels,
)
from engine.kick.pusher import LIVE_EVENT, OFFLINE_EVENT, ControlFrame, FrameError, parse_routed

log = logging.getLogger("engine.kick.chat")

OnEvent = Callable[[ChatMessage | ControlFrame], None]
Sleep = Callable[[float], Awaitable[None]]

PING = json.dumps({"event": "pusher:ping", "data": {}})
PONG = json.dumps({"event": "pusher:pong", "data": {}})

__all__ = ["ChatClient", "ChatStats", "PusherRefused", "pusher_url", "room_channels"]


class ChatClient:
    """One Pusher connection carrying one or many chatrooms; `await run()` until `stop()`.

    `on_event` gets every ChatMessage (t = `clock()` at receipt) and the ControlFrames of the
    live/offline events on `channel.{channel_id}` when a channel id is given. It runs on the event
    loop and must not block; an exception in it is logged and counted, never fatal.
    More chatrooms ride the same socket through add_route()/remove_route() (engine/kick/
    chat_pool.py): each frame goes to the callback of its Pusher channel, subscriptions are
    sent at once when connected and again after every reconnect. With `chatroom_id` None the
    socket starts with none (`name` labels it in the log).
    """

    def __init__(
        self,
        url: str,
        chatroom_id: int | None,
        on_event: OnEvent | None,
        emotes: EmoteParser,
        clock: Callable[[], float] = time.time,
        *,
        channel_id: int | None = None,
        activity_timeout_s: float = 120.0,
        pong_timeout_s: float = 30.0,
        open_timeout_s: float = 10.0,
        backoff: Backoff | None = None,
        sleep: Sleep = asyncio.sleep,
        pause_s: float = 5.0,
        refused_retry_s: float | None = None,
        name: str | None = None,
    ) -> None:
        self._url = url
        self.chatroom_id = chatroom_id
        self.name = name or str(chatroom_id)
        self.channels: list[str] = []
        self._routes: dict[str, OnEvent] = {}
        self._live_ws: ClientConnection | None = None  # subscribed to all: routes send at once
        self._sends: set[asyncio.Task[None]] = set()
        self._emotes = emotes
        self._clock = clock
        self._max_activity = activity_timeout_s
        self.activity_timeout_s = activity_timeout_s
        self._pong_timeout = pong_timeout_s
        self._open_timeout = open_timeout_s
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self._pause_s = pause_s
        self._refused_retry_s = refused_retry_s
        self.stats = ChatStats()
        self.subscribed: set[str] = set()
        self.ready = asyncio.Event()
        self._stopping = False
        self._stop_event = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._closing: asyncio.Task[None] | None = None
        self._error_code: int | None = None
        self._immediate_ok = False
        self._refusals = 0  # consecutive 4000-4099 refusals: only the first is an ERROR line
        if chatroom_id is not None and on_event is not None:
            self.add_route(room_channels(chatroom_id, channel_id), on_event)

    @classmethod
    def from_config(
        cls,
        config: KickConfig,
        chatroom_id: int | None,
        on_event: OnEvent | None,
        emotes: EmoteParser,
        **kwargs: Any,
    ) -> ChatClient:
        """A client with URL, timeouts, pauses and backoff taken from KickConfig."""
        kwargs.setdefault("activity_timeout_s", config.chat_activity_timeout_s)
        kwargs.setdefault("pong_timeout_s", config.chat_pong_timeout_s)
        kwargs.setdefault("pause_s", config.chat_pause_s)
        kwargs.setdefault("refused_retry_s", config.chat_refused_retry_s)
        kwargs.setdefault("backoff", Backoff(config.backoff_initial_s, config.backoff_max_s))
        return cls(pusher_url(config), chatroom_id, on_event, emotes, **kwargs)

    def stop(self) -> None:
        """Ask run() to return: closes the socket and interrupts any reconnect pause."""
        self._stopping = True
        self._stop_event.set()
        if self._ws is not None and self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(self._ws.close())

    def add_route(self, channels: list[str], on_event: OnEvent) -> None:
        """Carry `channels` on this socket too, their frames going to `on_event`."""
        for channel in channels:
            if channel not in self._routes:
                self.channels.append(channel)
                self._send_now(
                    {"event": "pusher:subscribe", "data": {"auth": "", "channel": channel}}
                )
            self._routes[channel] = on_event
        if not self.subscribed.issuperset(self.channels):
            self.ready.clear()

    def remove_route(self, channels: list[str]) -> None:
        """Stop carrying `channels` (unsubscribed at once when connected)."""
        for channel in channels:
            if self._routes.pop(channel, None) is None:
                continue
            self.channels.remove(channel)
            self.subscribed.discard(channel)
            self._send_now({"event": "pusher:unsubscribe", "data": {"channel": channel}})

    def _send_now(self, frame: dict[str, Any]) -> None:
        """Send on the live socket without waiting; with none, the next connect subscribes."""
        ws = self._live_ws
        if ws is None:
            return
        task = asyncio.get_running_loop().create_task(self._send_quietly(ws, json.dumps(frame)))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    @staticmethod
    async def _send_quietly(ws: ClientConnection, text: str) -> None:
        with contextlib.suppress(ConnectionClosed, OSError):  # the reconnect resubscribes
            await ws.send(text)

    async def run(self) -> None:
        """Connect, read and reconnect until stop(); raises PusherRefused on 4000-4099.

        With `refused_retry_s` set, a refusal waits that long and tries again instead.
        """
        first = True
        try:
            while not self._stopping:
                if not first:
                    self.stats.reconnects += 1
                first = False
                outcome = await self._session()
                if self._stopping:
                    break
                delay = self._next_delay(outcome)
                if delay > 0:
                    log.info("chat %s: reconnecting in %.1f s", self.name, delay)
                    await self._pause(delay)
        finally:
            if self._closing is not None:
                await asyncio.gather(self._closing, return_exceptions=True)
                self._closing = None

    # ---- one connection -------------------------------------------------------------------

    async def _session(self) -> _Outcome:
        self._error_code = None
        try:
            async with connect(
                self._url, open_timeout=self._open_timeout, ping_interval=None, close_timeout=2
            ) as ws:
                self._ws = ws
                if self._stopping:
                    return _Outcome(None, "stopping")
                await self._serve(ws)
        except InvalidURI:
            raise
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            reason = exc.rcvd.reason if exc.rcvd is not None else "connection lost"
            self.stats.last_close_code = code
            if not self._stopping:
                log.warning("chat %s: connection closed (%s %s)", self.name, code, reason)
            return _Outcome(code, reason)
        except _Stale:
            self.stats.stale += 1
            log.warning(
                "chat %s: no answer to our ping within %.0f s; connection is stale",
                self.name,
                self._pong_timeout,
            )
            return _Outcome(None, "stale")
        except (OSError, TimeoutError, WebSocketException) as exc:
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("chat %s: cannot connect: %s", self.name, self.stats.last_error)
            return _Outcome(None, "connect failed")
        finally:
            self._ws = self._live_ws = None
            self.subscribed.clear()
            self.ready.clear()
            self.stats.connected = False
        return _Outcome(None, "closed")

    async def _serve(self, ws: ClientConnection) -> None:
        async with asyncio.timeout(self._open_timeout):
            while True:
                _channel, frame = self._parse(await ws.recv())
                if isinstance(frame, ControlFrame):
                    if frame.event == "pusher:connection_established":
                        self._established(frame)
                        break
                    if frame.event == "pusher:error":
                        self._record_error(frame)
        sent: set[str] = set()
        while todo := [c for c in self.channels if c not in sent]:  # routes added meanwhile too
            for channel in todo:
                sub = {"event": "pusher:subscribe", "data": {"auth": "", "channel": channel}}
                await ws.send(json.dumps(sub))
                sent.add(channel)
        self._live_ws = ws
        self.stats.connects += 1
        self.stats.connected = True
        while True:
            try:
                await self._handle(ws, await self._recv(ws))
            except _Stale:
                ws.transport.abort()  # a silent peer would stall the close handshake
                raise

    async def _recv(self, ws: ClientConnection) -> str | bytes:
        """The next frame; after activity_timeout of silence ping, and no frame -> _Stale."""
        try:
            async with asyncio.timeout(self.activity_timeout_s):
                return await ws.recv()
        except TimeoutError:
            pass
        await ws.send(PING)
        self.stats.pings_sent += 1
        try:
            async with asyncio.timeout(self._pong_timeout):
                return await ws.recv()
        except TimeoutError:
            raise _Stale from None

    def _established(self, frame: ControlFrame) -> None:
        server = frame.data.get("activity_timeout")
        if isinstance(server, int | float) and not isinstance(server, bool) and server > 0:
            self.activity_timeout_s = min(self._max_activity, float(server))
        log.info(
            "chat %s: connected (socket %s, activity timeout %.0f s)",
            self.name,
            frame.data.get("socket_id"),
            self.activity_timeout_s,
        )

    def _parse(self, raw: str | bytes) -> tuple[str | None, ChatMessage | ControlFrame | None]:
        try:
            return parse_routed(raw, self._clock(), self._emotes)
        except FrameError as exc:
            self.stats.malformed += 1
            level = logging.WARNING if self.stats.malformed <= 3 else logging.DEBUG
            log.log(level, "chat %s: skipping malformed frame: %s", self.name, exc)
            return None, None

    async def _handle(self, ws: ClientConnection, raw: str | bytes) -> None:
        channel, item = self._parse(raw)
        if item is None:
            return
        if isinstance(item, ChatMessage):
            self.stats.messages += 1
            self.stats.last_message_t = item.t
            self._deliver(item, channel)
            return
        event = item.event
        if event == "pusher:ping":
            await ws.send(PONG)
            self.stats.pongs_sent += 1
        elif event == "pusher_internal:subscription_succeeded" and item.channel:
            self._subscribed(item.channel)
        elif event == "pusher:error":
            self._record_error(item)
        elif event in (LIVE_EVENT, OFFLINE_EVENT):
            self._deliver(item, channel)

    def _subscribed(self, channel: str) -> None:
        self.subscribed.add(channel)
        log.info("chat %s: subscribed to %s", self.name, channel)
        if channel.startswith("chatrooms."):
            # Only a session that got this far counts as healthy enough to reset the backoff.
            self._backoff.reset()
            self._immediate_ok = True
            self._refusals = 0
        if self.subscribed.issuperset(self.channels):
            self.ready.set()

    def _record_error(self, frame: ControlFrame) -> None:
        code = frame.data.get("code")
        self._error_code = code if isinstance(code, int) else None
        self.stats.last_error = f"pusher:error {code}: {frame.data.get('message')}"
        log.warning("chat %s: %s", self.name, self.stats.last_error)

    def _deliver(self, item: ChatMessage | ControlFrame, channel: str | None) -> None:
        fn = self._routes.get(channel) if channel is not None else None
        if fn is None:  # a frame without (or with another) channel: only a one-room socket
            owners = set(self._routes.values())  # can tell whose it is
            if len(owners) != 1:
                return
            fn = owners.pop()
        try:
            fn(item)
        except Exception:
            self.stats.callback_errors += 1
            log.exception("chat %s: event callback failed", self.name)

    # ---- reconnect policy -----------------------------------------------------------------

    def _next_delay(self, outcome: _Outcome) -> float:
        code = outcome.code
        if code is None or not 4000 <= code <= 4999:
            code = self._error_code
        if code is not None and 4000 <= code <= 4099:
            return self._refused(code, outcome.reason)
        if code is not None and 4100 <= code <= 4199:
            return max(self._pause_s, self._backoff.next_delay())
        if code is not None and 4200 <= code <= 4299 and self._immediate_ok:
            self._immediate_ok = False  # at once only after a healthy session: no hot loop
            return 0.0
        return self._backoff.next_delay()

    def _refused(self, code: int, reason: str) -> float:
        """A 4000-4099 refusal: retrying as is cannot help (a wrong app key or cluster), so no
        normal backoff. One ERROR line names the code and Pusher's words; then either wait
        `refused_retry_s` (long: an operator has to act, or Kick to fix its side) or, with it
        unset, raise PusherRefused so the Feed leaves chat off."""
        frame = self.stats.last_error if self._error_code is not None else None  # this session's
        words = "; ".join(x for x in dict.fromkeys((reason, frame or "")) if x) or "no reason"
        self._refusals += 1
        then = (
            "not reconnecting (kick.chat_refused_retry_s is null)"
            if self._refused_retry_s is None
            else f"trying again in {self._refused_retry_s:.0f} s (kick.chat_refused_retry_s)"
        )
        log.log(
            logging.ERROR if self._refusals == 1 else logging.WARNING,
            "chat %s: Pusher refused the connection with code %d (%s)%s; check kick.pusher_key "
            "and kick.pusher_url; %s",
            self.name, code, words,
            "" if self._refusals == 1 else f", {self._refusals} times in a row", then,
        )  # fmt: skip
        if self._refused_retry_s is None:
            raise PusherRefused(code, words)
        return self._refused_retry_s

    async def _pause(self, delay: float) -> None:
        """The injected sleep, cut short by stop()."""
        await sleep_unless(self._sleep, delay, self._stop_event)
