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
summary goes to stderr: events, moments and the clips they make (distinct keys), bad lines,
msgs/s. Bad lines are counted and skipped, never fatal: every way one line can fail to decode or
convert (not JSON, nested too deep, a t that is not a plausible unix time, a viewer count outside
0 <= viewers < 10**9) is a bad line. A reader that leaves early (`| head`) ends the replay
quietly with status 141, as a tool killed by SIGPIPE would.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from engine.config import SHIPPED_CONFIG, ConfigError, load_config
from engine.detection.detector import Detector
from engine.detection.emotes import EmoteParser
from engine.events import (
    ChatMessage,
    Event,
    LiveChange,
    ViewerSample,
    plausible_time,
    plausible_viewers,
)
from engine.kick.pusher import LIVE_EVENT, OFFLINE_EVENT, parse_frame

# Everything decoding or converting one line can raise: json's RecursionError for a line nested
# 100,000 deep, OverflowError for float(10**400), ValueError (FrameError, UnicodeError) for the
# rest. Caught per line, so one such line is a bad line, not the end of the replay.
BAD_LINE_ERRORS = (ValueError, TypeError, KeyError, OverflowError, RecursionError)
SIGPIPE_STATUS = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader left


@dataclass
class Counts:
    events: int = 0
    messages: int = 0
    moments: int = 0
    clips: int = 0
    bad_lines: int = 0
    ignored: int = 0


def _time(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("t is not a number")
    # Checked before float(): a 400-digit integer compares fine but does not convert.
    if not plausible_time(value):
        raise ValueError("t is not a plausible unix time")
    return float(value)


def parse_line(line: str, fmt: str, emotes: EmoteParser) -> Event | None:
    """One input line to an event; None for a line that is valid but carries nothing we use.

    Raises one of BAD_LINE_ERRORS for a bad line.
    """
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("line is not a JSON object")
    t = _time(obj.get("t"))
    if "viewers" in obj:
        viewers = obj["viewers"]
        if (
            isinstance(viewers, bool)
            or not isinstance(viewers, int)
            or not plausible_viewers(viewers)
        ):
            raise ValueError("viewers is not a whole number in 0..10**9")
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
        except BAD_LINE_ERRORS:
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
            counts.clips += moment.revision == 0
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
        sys.stdout.flush()  # inside the try: a reader that left shows here at the latest
    except BrokenPipeError:
        # The reader left (`| head`). Python's recipe: point stdout at devnull so the flush at
        # exit cannot raise again, and leave quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return SIGPIPE_STATUS
    except OSError as exc:
        print(f"replay: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    elapsed = max(time.perf_counter() - start, 1e-9)
    print(
        f"replay: {counts.events} events ({counts.messages} messages), {counts.moments} moments "
        f"({counts.clips} clips), {counts.bad_lines} bad lines, {counts.ignored} ignored, "
        f"{counts.messages / elapsed:,.0f} msgs/s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
