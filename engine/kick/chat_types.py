"""The chat client's small types: its counters, its errors, the socket URL, channel names.

Split from engine/kick/chat.py (the socket itself) so the client and the pool that shares
sockets between Feeds (engine/kick/chat_pool.py) name them without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import KickConfig


class PusherRefused(Exception):
    """Pusher closed with 4000-4099 (e.g. 4001 wrong app key): retrying as is cannot help."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(
            f"Pusher refused the chat connection: code {code} ({reason or 'no reason'})"
        )
        self.code = code
        self.reason = reason


class _Stale(Exception):
    """No frame at all came back after our own ping: the socket is silently dead."""


@dataclass(slots=True)
class ChatStats:
    """Counters for /stats and tests; plain fields, updated in place."""

    connects: int = 0
    reconnects: int = 0
    messages: int = 0
    malformed: int = 0
    callback_errors: int = 0
    pings_sent: int = 0
    pongs_sent: int = 0
    stale: int = 0
    connected: bool = False
    last_close_code: int | None = None
    last_error: str | None = None
    last_message_t: float | None = None


@dataclass(slots=True, frozen=True)
class _Outcome:
    code: int | None
    reason: str


def pusher_url(config: KickConfig) -> str:
    """The websocket URL from config: `pusher_url` with `{key}` and `{cluster}` filled in."""
    return config.pusher_url.format(key=config.pusher_key, cluster=config.pusher_cluster)


def room_channels(chatroom_id: int, channel_id: int | None) -> list[str]:
    """The Pusher channels of one Kick channel: its chat, and its live/offline events."""
    channels = [f"chatrooms.{chatroom_id}.v2"]
    if channel_id is not None:
        channels.append(f"channel.{channel_id}")
    return channels
