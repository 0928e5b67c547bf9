"""Kick chat for every Feed over a few shared Pusher sockets.

One ChatClient per Feed made one websocket per watched streamer: 300 /watch calls once made 300
sockets (and a task set each). Pusher lets one connection carry many channel subscriptions, so
the pool puts up to ``kick.chat_rooms_per_socket`` chatrooms on each socket, subscribing and
unsubscribing per Feed; a reconnect resubscribes every chatroom of that socket (ChatClient does
that on every connect). A socket whose last Feed left is closed.

A Feed holds a ChatLease where it held its own ChatClient: the same ``run()``/``stop()``/
``subscribed`` surface, so Feed supervision is unchanged. ``run()`` returns when the lease is
stopped and raises what ended its socket (PusherRefused included), which the Feed's supervisor
already handles; the next ``run()`` then lands on a fresh socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

from engine.config import KickConfig
from engine.detection.emotes import EmoteParser
from engine.kick.chat import ChatClient, OnEvent
from engine.kick.chat_types import ChatStats, room_channels

log = logging.getLogger("engine.kick.chat")


class _Socket:
    """One shared ChatClient, its task and the leases riding on it."""

    def __init__(self, client: ChatClient) -> None:
        self.client = client
        self.leases: set[ChatLease] = set()
        self.task: asyncio.Task[None] | None = None

    @property
    def alive(self) -> bool:
        return self.task is not None and not self.task.done()


class ChatPool:
    """Shares Pusher sockets between Feeds; one pool per bot (engine's composition root)."""

    def __init__(
        self,
        config: KickConfig,
        emotes: EmoteParser,
        clock: Callable[[], float] = time.time,
        *,
        rooms_per_socket: int | None = None,
        **client_kwargs: Any,
    ) -> None:
        """``client_kwargs`` go to every ChatClient (tests inject sleeps and timeouts)."""
        self._config = config
        self._emotes = emotes
        self._clock = clock
        per = config.chat_rooms_per_socket if rooms_per_socket is None else rooms_per_socket
        self.rooms_per_socket = max(1, per)
        self._client_kwargs = client_kwargs
        self._sockets: list[_Socket] = []
        self._names = itertools.count(1)

    @property
    def sockets(self) -> list[ChatClient]:
        """The sockets in use (for /stats, health and tests)."""
        return [s.client for s in self._sockets]

    def lease(self, chatroom_id: int, channel_id: int | None, on_event: OnEvent) -> ChatLease:
        """A Feed's chat: its chatroom (and live/offline channel) on a shared socket."""
        return ChatLease(self, room_channels(chatroom_id, channel_id), on_event, chatroom_id)

    def _attach(self, lease: ChatLease) -> _Socket:
        sock = next(
            (s for s in self._sockets if s.alive and len(s.leases) < self.rooms_per_socket),
            None,
        )
        if sock is None:
            client = ChatClient.from_config(
                self._config, None, None, self._emotes, clock=self._clock,
                name=f"socket-{next(self._names)}", **self._client_kwargs,
            )  # fmt: skip
            sock = _Socket(client)
            self._sockets.append(sock)
            sock.task = asyncio.get_running_loop().create_task(
                client.run(), name=f"chat-{client.name}"
            )
            sock.task.add_done_callback(self._ended)
            log.info("chat %s: opening a shared Pusher socket", client.name)
        sock.leases.add(lease)
        sock.client.add_route(lease.channels, lease.deliver)
        return sock

    def _detach(self, lease: ChatLease, sock: _Socket) -> None:
        sock.leases.discard(lease)
        sock.client.remove_route(lease.channels)
        if not sock.leases:  # the last Feed left: nothing to carry
            sock.client.stop()
            with contextlib.suppress(ValueError):
                self._sockets.remove(sock)

    def _ended(self, task: asyncio.Task[None]) -> None:
        """A socket's task ended (stopped, refused or crashed): take it out of the pool."""
        self._sockets = [s for s in self._sockets if s.task is not task]
        if not task.cancelled():
            task.exception()  # retrieved here; each lease's run() raises it to its Feed

    async def close(self) -> None:
        """Stop every socket (the Feeds normally did, one lease at a time)."""
        socks, self._sockets = self._sockets, []
        for s in socks:
            s.client.stop()
        await asyncio.gather(*(s.task for s in socks if s.task), return_exceptions=True)


class ChatLease:
    """What a Feed holds: its Pusher channels on a shared socket (see the module docstring)."""

    def __init__(
        self, pool: ChatPool, channels: list[str], on_event: OnEvent, chatroom_id: int
    ) -> None:
        self._pool = pool
        self.channels = channels
        self.chatroom_id = chatroom_id
        self._on_event = on_event
        self._stopped = False
        self._waiter: asyncio.Future[None] | None = None  # run() sleeps on it: no extra task
        self._socket: _Socket | None = None

    def deliver(self, item: Any) -> None:
        self._on_event(item)

    @property
    def subscribed(self) -> set[str]:
        """This Feed's channels Pusher confirmed on the current connection."""
        if self._socket is None:
            return set()
        return self._socket.client.subscribed & set(self.channels)

    @property
    def stats(self) -> ChatStats:
        """The shared socket's counters (every Feed on it sees the same)."""
        return self._socket.client.stats if self._socket is not None else ChatStats()

    async def run(self) -> None:
        """Ride a shared socket until stop(); raises what ended the socket."""
        if self._stopped:
            return
        sock = self._pool._attach(self)
        self._socket = sock
        waiter = self._waiter = asyncio.get_running_loop().create_future()

        def wake(_task: object) -> None:
            if not waiter.done():
                waiter.set_result(None)

        assert sock.task is not None
        sock.task.add_done_callback(wake)
        try:
            await waiter
            if not self._stopped and sock.task.done():
                sock.task.result()  # PusherRefused or a crash: the Feed's supervisor decides
                raise ConnectionError(f"chat {sock.client.name} stopped")
        finally:
            sock.task.remove_done_callback(wake)
            self._waiter = None
            self._pool._detach(self, sock)
            self._socket = None

    def stop(self) -> None:
        self._stopped = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
