"""Chat of N watched streamers: one Pusher socket each (before) vs the shared pool, in one run.

    python bench/chat_sockets.py [--streamers 300] [--per-socket 100]

Against the project's FakePusher on 127.0.0.1: starts N chatrooms both ways, waits until every
one is subscribed, then prints websocket connections, asyncio tasks and Python memory held
(tracemalloc) for each, side by side, and the time for one chat line to reach all N. Target
(issue 11): 300 streamers must not make 300 sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.detection.emotes import EmoteParser
from engine.kick.chat import ChatClient
from engine.kick.chat_pool import ChatPool
from tests.fakes.pusher_server import FakePusher, chat_topic


async def measure(pusher: FakePusher, n: int, pooled: bool, per_socket: int) -> dict[str, Any]:
    rooms = list(range(10_001, 10_001 + n))
    got: dict[int, int] = dict.fromkeys(rooms, 0)
    emotes = EmoteParser(())
    cfg = pusher.config(backoff_initial_s=0.05, backoff_max_s=0.5)
    gc.collect()
    tasks_before = len(asyncio.all_tasks())
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    connections_before = pusher.connections_total

    def on(room: int) -> Any:
        return lambda item: got.__setitem__(room, got[room] + 1)

    pool = ChatPool(cfg, emotes, rooms_per_socket=per_socket) if pooled else None
    stops: list[Any] = []
    runs: list[asyncio.Task[None]] = []
    for room in rooms:
        if pool is not None:
            lease = pool.lease(room, None, on(room))
            stops.append(lease.stop)
            runs.append(asyncio.create_task(lease.run()))
        else:
            client = ChatClient.from_config(cfg, room, on(room), emotes)
            stops.append(client.stop)
            runs.append(asyncio.create_task(client.run()))
    for room in rooms:
        await pusher.wait_for_subscription(chat_topic(room), within_s=60)
    held = tracemalloc.get_traced_memory()[0] - base
    tasks = len(asyncio.all_tasks()) - tasks_before
    connections = pusher.connections_total - connections_before
    start = time.perf_counter()
    for room in rooms:
        await pusher.send_chat(room, "fan", "hello")
    while not all(got.values()):
        await asyncio.sleep(0.001)
    fanout = time.perf_counter() - start
    tracemalloc.stop()
    for stop in stops:
        stop()
    await asyncio.gather(*runs, return_exceptions=True)
    if pool is not None:
        await pool.close()
    return {"connections": connections, "tasks": tasks, "memory": held, "fanout": fanout}


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streamers", type=int, default=300)
    ap.add_argument("--per-socket", type=int, default=100)
    args = ap.parse_args()
    async with FakePusher() as pusher:
        before = await measure(pusher, args.streamers, False, args.per_socket)
        after = await measure(pusher, args.streamers, True, args.per_socket)
    n = args.streamers
    print(f"{n} streamers' chat, {args.per_socket} chatrooms per shared socket")
    print(f"{'':24}{'socket each':>14}{'shared pool':>14}{'ratio':>8}")
    for key, unit, scale in (("connections", "", 1), ("tasks", "", 1),
                             ("memory", " KiB", 1024), ("fanout", " ms", 1e-3)):  # fmt: skip
        a, b = before[key] / scale, after[key] / scale
        print(f"{key + unit:24}{a:>14,.1f}{b:>14,.1f}{b / a if a else 0:>8.2f}")


if __name__ == "__main__":
    asyncio.run(main())
