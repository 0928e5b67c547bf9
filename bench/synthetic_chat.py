"""Deterministic synthetic Kick chat for benchmarks: realistic lengths, emotes, keywords, bursts.

Shared by bench/engine_throughput.py and its smoke test, so the figures are about one workload.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

WORDS = (
    "lol no way he did that bro what chat is this real actually crazy yo gg ez run it back "
    "nah bruh that was clean i cant believe it hes cooked W L ratio chat spam who asked lets go "
    "fr fr ong this stream is fire first time here hello from brazil song name please mods"
).split()
PLAIN_EMOTES = ("KEKW", "OMEGALUL", "LUL", "PogChamp", "EZ", "Sadge", "catJAM")
KICK_EMOTES = ((37226, "KEKW"), (37227, "LULW"), (37221, "EZ"), (37232, "PeepoClap"))
KEYWORDS = ("CLIP IT", "clip that", "NO SHOT", "insane", "SOMEONE CLIP", "holy shit")


def messages(n: int, seed: int = 7, base_rate: float = 120.0) -> Iterator[tuple[float, str, str]]:
    """(t, user, text) tuples: a 120 msg/s channel with a burst (x5, keyword- and
    emote-heavy) about every five minutes, users drawn from a long-tailed pool of 20k."""
    rng = random.Random(seed)
    t = 1_760_000_000.0
    users = [f"viewer{i}" for i in range(20_000)]
    burst_until = 0.0
    next_burst = t + 300
    for _ in range(n):
        if t >= next_burst:
            burst_until = t + 20
            next_burst = t + rng.uniform(240, 420)
        bursting = t < burst_until
        rate = base_rate * (5 if bursting else 1)
        t += rng.expovariate(rate)
        user = (
            users[min(int(rng.paretovariate(1.2)) - 1, 19_999)]
            if rng.random() < 0.3
            else (rng.choice(users))
        )
        k = rng.random()
        if bursting and k < 0.25:
            text = rng.choice(KEYWORDS) + (" " + rng.choice(PLAIN_EMOTES) if k < 0.1 else "")
        elif k < (0.4 if bursting else 0.12):
            eid, name = rng.choice(KICK_EMOTES)
            text = " ".join([f"[emote:{eid}:{name}]"] * rng.randint(1, 3))
        elif k < (0.5 if bursting else 0.22):
            text = " ".join(rng.choice(PLAIN_EMOTES) for _ in range(rng.randint(1, 4)))
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 12)))
            if rng.random() < 0.1:
                text = text.upper() + "!!"
        yield t, user, text


def plain_line(t: float, user: str, text: str) -> str:
    return json.dumps({"t": round(t, 3), "user": user, "text": text})


def pusher_frame(t: float, user: str, text: str, i: int = 0, chatroom: int = 668) -> str:
    """A frame shaped exactly like Kick's ChatMessageEvent (data is a JSON string)."""
    data = {
        "id": f"57eee8aa-7818-4194-9422-{i:012d}",
        "chatroom_id": chatroom,
        "content": text,
        "type": "message",
        "created_at": "2026-09-04T23:28:30+00:00",
        "sender": {
            "id": 117108965 + i % 20_000,
            "username": user,
            "slug": user,
            "identity": {
                "color": "#31D6C2",
                "badges": [{"type": "subscriber", "text": "Subscriber", "count": 3}],
            },
        },
    }
    return json.dumps(
        {
            "event": "App\\Events\\ChatMessageEvent",
            "data": json.dumps(data),
            "channel": f"chatrooms.{chatroom}.v2",
        }
    )
