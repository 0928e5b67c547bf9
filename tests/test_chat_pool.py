"""Shared Pusher sockets (engine/kick/chat_pool.py) against FakePusher: many Feeds' chatrooms on
one websocket, each Feed getting only its own chat, all resubscribed after a reconnect, and
unsubscribed (and the socket closed) as Feeds leave."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

from engine.detection.emotes import EmoteParser
from engine.events import ChatMessage
from engine.kick.chat_pool import ChatLease, ChatPool
from engine.kick.pusher import ControlFrame
from tests.fakes.pusher_server import FakePusher, chat_topic
from tests.kick_world import eventually

ROOMS = list(range(501, 531))  # 30 streamers


def pool_for(pusher: FakePusher, **kwargs: Any) -> ChatPool:
    cfg = pusher.config(backoff_initial_s=0.01, backoff_max_s=0.05)
    return ChatPool(cfg, EmoteParser(()), **kwargs)


async def until(predicate: Any, within_s: float = 5.0) -> None:
    await eventually(predicate, within_s, step=0.01)


async def start(pool: ChatPool, got: dict[int, list[Any]]) -> list[tuple[ChatLease, Any]]:
    out = []
    for room in got:
        lease = pool.lease(room, room + 1000, got[room].append)
        out.append((lease, asyncio.create_task(lease.run())))
    return out


async def chat_round(pusher: FakePusher, got: dict[int, list[Any]], tag: str) -> None:
    for room in got:
        await pusher.send_chat(room, f"fan{room}", f"{tag} {room}")
    await until(
        lambda: all(any(getattr(m, "text", "") == f"{tag} {r}" for m in got[r]) for r in got)
    )


async def test_many_feeds_share_one_socket_each_gets_only_its_chat_and_reconnects_resubscribe() -> (
    None
):
    async with FakePusher() as pusher:
        pool = pool_for(pusher)
        got: dict[int, list[Any]] = {room: [] for room in ROOMS}
        running = await start(pool, got)
        for room in ROOMS:
            await pusher.wait_for_subscription(chat_topic(room))
        assert pusher.connected == 1 and pusher.connections_total == 1
        await until(lambda: all(lease.subscribed == set(lease.channels) for lease, _ in running))
        await chat_round(pusher, got, "hello")
        for room, items in got.items():
            texts = [m.text for m in items if isinstance(m, ChatMessage)]
            assert texts == [f"hello {room}"], (room, texts)  # its own line, nobody else's
        await pusher.send_live(ROOMS[0] + 1000)
        await until(lambda: any(isinstance(x, ControlFrame) for x in got[ROOMS[0]]))
        assert not any(isinstance(x, ControlFrame) for r in ROOMS[1:] for x in got[r])

        await pusher.drop_connections()  # a network cut: one reconnect resubscribes all 30
        for room in ROOMS:
            await pusher.wait_for_subscription(chat_topic(room), count=2)
        assert pusher.connected == 1 and pusher.connections_total == 2
        await chat_round(pusher, got, "again")
        assert all(len([m for m in got[r] if isinstance(m, ChatMessage)]) == 2 for r in ROOMS)

        first, task = running[0]
        first.stop()
        await task
        await pusher.wait_until(
            lambda: chat_topic(ROOMS[0]) not in set().union(*pusher.channels_by_socket)
        )
        assert pusher.connected == 1  # the others still ride it
        for lease, _task in running[1:]:
            lease.stop()
        await asyncio.gather(*(t for _, t in running[1:]))
        await pusher.wait_until(lambda: pusher.connected == 0)  # the last one closed it
        assert pool.sockets == []


async def test_a_full_socket_opens_another() -> None:
    async with FakePusher() as pusher:
        pool = pool_for(pusher, rooms_per_socket=2)
        got: dict[int, list[Any]] = {room: [] for room in ROOMS[:5]}
        running = await start(pool, got)
        for room in got:
            await pusher.wait_for_subscription(chat_topic(room))
        assert pusher.connected == 3
        assert sorted(len(c) for c in pusher.channels_by_socket) == [2, 4, 4]  # chat + live each
        await chat_round(pusher, got, "hi")
        for lease, _ in running:
            lease.stop()
        await asyncio.gather(*(t for _, t in running))
        await pool.close()
        await pusher.wait_until(lambda: pusher.connected == 0)


async def test_a_boolean_activity_timeout_from_the_server_is_not_one_second() -> None:
    """Pusher's activity_timeout is the server's word too: `true` (an int in Python) must not
    make the client ping every second."""
    async with FakePusher(activity_timeout=True) as pusher:  # type: ignore[arg-type]
        pool = pool_for(pusher)
        lease = pool.lease(ROOMS[0], None, lambda _item: None)
        task = asyncio.create_task(lease.run())
        await pusher.wait_for_subscription(chat_topic(ROOMS[0]))
        assert pool.sockets[0].activity_timeout_s == 120.0
        lease.stop()
        await task


def test_bench_chat_sockets_runs_small() -> None:
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "bench/chat_sockets.py", "--streamers", "6", "--per-socket", "4"],
        cwd=root, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    rows = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines()[2:]}
    assert rows["connections"][:2] == ["6.0", "2.0"], proc.stdout
