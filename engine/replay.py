"""Replay captured chat (and viewer counts) through a Detector, faster than real time.

    python -m engine.replay CHAT.jsonl [--viewers VIEWERS.jsonl] [--config config.yaml]
                            [--streamer NAME] [--format plain|pusher]

Input lines (JSON, one per line, time-ordered within each file):
  plain:  {"t": unix_seconds, "user": str, "text": str}  or  {"t": unix_seconds, "viewers": int}
  pusher: {"t": unix_seconds, "frame": "<raw Kick websocket frame>"} (the receive time and the
          frame exactly as captured), or a viewers line as above.
The two files are merged by time. Time is simulated: nothing sleeps, so an evening of chat
replays in seconds and decides exactly what the live bot would have decided.

Output: one JSON object per moment on stdout (t, trigger, triggers, confidence, clip_start,
clip_end, key, revision, details); revision > 0 is an upgrade of an earlier clip. A one-line
summary goes to stderr. Bad lines are counted and skipped, never fatal.
"""

from __future__ import annotations

import argparse
import heapq
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from engine.config import SHIPPED_CONFIG, ConfigError, load_config
from engine.detector import Detector
from engine.emotes import EmoteParser
from engine.events import ChatMessage, Event, LiveChange, ViewerSample
from engine.pusher import LIVE_EVENT, OFFLINE_EVENT, FrameError, parse_frame


@dataclass
class Counts:
    events: int = 0
    messages: int = 0
    moments: int = 0
    bad_lines: int = 0
    ignored: int = 0


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("t is not a number")
    return float(value)


def parse_line(line: str, fmt: str, emotes: EmoteParser) -> Event | None:
    """One input line to an event; None for a line that is valid but carries nothing we use.

    Raises ValueError (or FrameError, a ValueError) for a bad line.
    """
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("line is not a JSON object")
    t = _number(obj.get("t"))
    if "viewers" in obj:
        viewers = obj["viewers"]
        if isinstance(viewers, bool) or not isinstance(viewers, int) or viewers < 0:
            raise ValueError("viewers is not a non-negative whole number")
        return ViewerSample(t, viewers)
    if fmt == "pusher":
        frame = obj.get("frame")
        if not isinstance(frame, str):
            raise ValueError("pusher line has no frame text")
        parsed = parse_frame(frame, t, emotes)
        if isinstance(parsed, ChatMessage) or parsed is None:
            return parsed
        if parsed.event in (LIVE_EVENT, OFFLINE_EVENT):
            return LiveChange(t, parsed.event == LIVE_EVENT)
        return None
    user, text = obj.get("user"), obj.get("text")
    if not isinstance(user, str) or not isinstance(text, str):
        raise ValueError("plain line needs text fields user and text")
    return ChatMessage(t, user, text, emotes.parse(text))


def read_events(stream: IO[str], fmt: str, emotes: EmoteParser, counts: Counts) -> Iterator[Event]:
    for line in stream:
        if not line.strip():
            continue
        try:
            event = parse_line(line, fmt, emotes)
        except (ValueError, FrameError, KeyError, TypeError):
            counts.bad_lines += 1
            continue
        if event is None:
            counts.ignored += 1
            continue
        yield event


def replay(
    chat: IO[str],
    viewers: IO[str] | None,
    detector: Detector,
    fmt: str,
    out: IO[str],
) -> Counts:
    counts = Counts()
    sources = [read_events(chat, fmt, detector.emotes, counts)]
    if viewers is not None:
        sources.append(read_events(viewers, fmt, detector.emotes, counts))
    # Merged by time; on equal times heapq.merge keeps the sources' order (chat first).
    for event in heapq.merge(*sources, key=lambda e: e.t):
        counts.events += 1
        if type(event) is ChatMessage:
            counts.messages += 1
        for moment in detector.feed(event):
            counts.moments += 1
            out.write(json.dumps(moment.to_dict(), default=str) + "\n")
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m engine.replay",
        description="Replay captured Kick chat through the trigger engine.",
    )
    ap.add_argument("chat", type=Path, help="chat JSONL file")
    ap.add_argument("--viewers", type=Path, help="viewer samples JSONL file")
    ap.add_argument("--config", type=Path, default=SHIPPED_CONFIG, help="config.yaml")
    ap.add_argument("--streamer", default="replay", help="streamer name put in moments")
    ap.add_argument("--format", choices=("plain", "pusher"), default="plain", dest="fmt")
    args = ap.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    detector = Detector(args.streamer, config)
    start = time.perf_counter()
    try:
        with open(args.chat, encoding="utf-8", errors="replace") as chat:
            if args.viewers is not None:
                with open(args.viewers, encoding="utf-8", errors="replace") as viewers:
                    counts = replay(chat, viewers, detector, args.fmt, sys.stdout)
            else:
                counts = replay(chat, None, detector, args.fmt, sys.stdout)
    except OSError as exc:
        print(f"replay: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    elapsed = max(time.perf_counter() - start, 1e-9)
    print(
        f"replay: {counts.events} events ({counts.messages} messages), {counts.moments} moments, "
        f"{counts.bad_lines} bad lines, {counts.ignored} ignored, "
        f"{counts.messages / elapsed:,.0f} msgs/s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
