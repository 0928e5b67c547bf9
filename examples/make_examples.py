"""Regenerate the example captures here (deterministic): `python examples/make_examples.py`.

A mid-sized Kick channel (~4 msg/s, ~2,500 viewers) for eight minutes with two moments: at 4:00
a fail that chat floods with KEKW and "CLIP IT", at 6:30 a raid (viewers x4, chat racing).
chat.jsonl and viewers.jsonl are the plain format; chat_pusher.jsonl holds the chat from 2:30
to 5:00 (the fail) as raw Kick websocket frames with their receive times, plus the protocol
noise a capture really has (ping, subscription ack, a deleted-message event) and one truncated
frame.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "bench"))

from synthetic_chat import WORDS, pusher_frame  # noqa: E402

START = 1_767_900_000.0
FAIL_AT, RAID_AT, END = 240.0, 390.0, 480.0


def chat(rng: random.Random) -> list[tuple[float, str, str]]:
    out = []
    t = 0.0
    users = [f"viewer{i}" for i in range(900)]
    while t < END:
        hype = FAIL_AT <= t < FAIL_AT + 12 or RAID_AT <= t < RAID_AT + 20
        t += rng.expovariate(40.0 if hype else 4.0)
        user = (
            rng.choice(users)
            if not (RAID_AT <= t < RAID_AT + 20)
            else f"raider{rng.randrange(3000)}"
        )
        if FAIL_AT <= t < FAIL_AT + 12:
            text = rng.choice(
                [
                    "[emote:37226:KEKW]",
                    "KEKW KEKW",
                    "CLIP IT",
                    "clip that LMAO",
                    "NOOOO [emote:37226:KEKW]",
                    "he fell LMAOOO",
                    "OMEGALUL",
                ]
            )
        elif RAID_AT <= t < RAID_AT + 20:
            text = rng.choice(
                [
                    "RAID HYPE",
                    "hello from the raid",
                    "W RAID",
                    "LETS GO",
                    "[emote:37232:PeepoClap]",
                    "first time here",
                    "WWWW",
                ]
            )
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 10)))
        out.append((START + round(t, 3), user, text))
    return out


def viewers(rng: random.Random) -> list[tuple[float, int]]:
    out = []
    for k in range(int(END // 10)):
        t = k * 10.0
        base = 2500 + rng.randint(-60, 60)
        out.append((START + t, base * 4 if t >= RAID_AT + 5 else base))
    return out


def main() -> None:
    rng = random.Random(2026)
    lines = chat(rng)
    with open(HERE / "chat.jsonl", "w", encoding="utf-8") as f:
        for t, user, text in lines:
            f.write(json.dumps({"t": t, "user": user, "text": text}) + "\n")
    with open(HERE / "viewers.jsonl", "w", encoding="utf-8") as f:
        for t, n in viewers(rng):
            f.write(json.dumps({"t": t, "viewers": n}) + "\n")
    with open(HERE / "chat_pusher.jsonl", "w", encoding="utf-8") as f:

        def put(t: float, frame: str) -> None:
            f.write(json.dumps({"t": t, "frame": frame}) + "\n")

        put(
            START - 1,
            json.dumps(
                {
                    "event": "pusher:connection_established",
                    "data": json.dumps({"socket_id": "214617.19803", "activity_timeout": 120}),
                }
            ),
        )
        put(
            START - 0.9,
            json.dumps(
                {
                    "event": "pusher_internal:subscription_succeeded",
                    "data": "{}",
                    "channel": "chatrooms.668.v2",
                }
            ),
        )
        for i, (t, user, text) in enumerate(lines):
            if not START + 150 <= t < START + 300:
                continue
            put(t, pusher_frame(t, user, text, i))
            if i == 900:
                put(t + 0.001, '{"event":"pusher:ping","data":"{}"}')
                put(
                    t + 0.002,
                    json.dumps(
                        {
                            "event": "App\\Events\\MessageDeletedEvent",
                            "data": json.dumps({"id": "x", "message": {"id": "y"}}),
                            "channel": "chatrooms.668.v2",
                        }
                    ),
                )
            if i == 1000:
                put(t + 0.001, pusher_frame(t, user, text, i)[:57])


if __name__ == "__main__":
    main()
