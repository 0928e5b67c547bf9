"""Parsing Kick's Pusher (protocol 7) frames into engine events.

Pure: no socket here. The chat client and `engine.replay --format pusher` share it, so a captured
frame decides the same thing in a replay as it did live. A server frame is JSON whose `data` is
itself a JSON *string*; we decode it only for events we use, which keeps the hot path at roughly
the cost of the two `json.loads` calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.detection.emotes import EmoteParser
from engine.events import ChatMessage

CHAT_EVENT = "App\\Events\\ChatMessageEvent"
LIVE_EVENT = "App\\Events\\StreamerIsLive"
OFFLINE_EVENT = "App\\Events\\StopStreamBroadcast"


_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # stdlib, untyped


def _loads(text: str | bytes) -> Any:
    """json.loads without its wrapper: the scanner straight away, whitespace checked after.

    Two decodes per frame are most of the cost of reading chat; skipping json.loads' type checks
    and regex-based whitespace skipping is ~20% of it. Anything unusual (leading whitespace,
    bytes) takes the standard path, so the accepted language is exactly JSON's.
    """
    if isinstance(text, str):
        try:
            obj, end = _scan(text, 0)
        except (StopIteration, ValueError):
            pass
        except RecursionError as exc:  # nested deeper than Python's stack: not a Pusher frame
            raise FrameError("JSON nested too deeply") from exc
        else:
            if end == len(text) or not text[end:].strip():
                return obj
    try:
        return json.loads(text)
    except ValueError as exc:
        raise FrameError(f"not JSON: {exc}") from exc
    except RecursionError as exc:
        raise FrameError("JSON nested too deeply") from exc


class FrameError(ValueError):
    """A frame we cannot read; counted and skipped by callers, never fatal."""


@dataclass(slots=True, frozen=True)
class ControlFrame:
    """A protocol frame (connection_established, ping, subscription ack, error, ...)."""

    event: str
    data: dict[str, Any]
    channel: str | None = None


def _decode_data(data: Any) -> Any:
    # Server frames carry data as a JSON string; client-style frames (and some captures) as an
    # object. Accept both.
    if isinstance(data, str):
        return _loads(data) if data else {}
    return data


def parse_frame(
    raw: str | bytes, recv_t: float, emotes: EmoteParser
) -> ChatMessage | ControlFrame | None:
    """Decode one websocket frame.

    Returns a ChatMessage for a chat line (time = `recv_t`, when we received it, so a replay of a
    capture and the live bot see the same clock), a ControlFrame for `pusher:*` /
    `pusher_internal:*` and live/offline events, and None for Kick events we do not use (deleted
    messages, subs, polls...): unknown events are ignored, never fatal. Raises FrameError for a
    frame that is not a Pusher frame at all.
    """
    frame = _loads(raw)
    if not isinstance(frame, dict):
        raise FrameError("frame is not a JSON object")
    return _parse_obj(frame, recv_t, emotes)


def parse_routed(
    raw: str | bytes, recv_t: float, emotes: EmoteParser
) -> tuple[str | None, ChatMessage | ControlFrame | None]:
    """Like :func:`parse_frame`, with the frame's Pusher channel (``chatrooms.N.v2``, None
    when it has none): one socket carries many chatrooms, and this says whose line it is."""
    frame = _loads(raw)
    if not isinstance(frame, dict):
        raise FrameError("frame is not a JSON object")
    channel = frame.get("channel")
    return (channel if isinstance(channel, str) else None), _parse_obj(frame, recv_t, emotes)


def _parse_obj(
    frame: dict[str, Any], recv_t: float, emotes: EmoteParser
) -> ChatMessage | ControlFrame | None:
    event = frame.get("event")
    if not isinstance(event, str):
        raise FrameError("frame has no event name")
    if event == CHAT_EVENT:
        data = _decode_data(frame.get("data"))
        try:
            content = data["content"]
            sender = data["sender"]
            user = sender.get("username") or sender.get("slug") or str(sender["id"])
        except (KeyError, TypeError, AttributeError) as exc:
            raise FrameError(f"chat message without {exc}") from exc
        if not isinstance(content, str) or not isinstance(user, str):
            raise FrameError("chat message content or sender is not text")
        return ChatMessage(recv_t, user, content, emotes.parse(content))
    if event.startswith("pusher") or event in (LIVE_EVENT, OFFLINE_EVENT):
        data = _decode_data(frame.get("data"))
        if not isinstance(data, dict):
            data = {"value": data}
        channel = frame.get("channel")
        return ControlFrame(event, data, channel if isinstance(channel, str) else None)
    return None
