"""Stable nonces for the messages the bot must never send twice.

Discord's Create Message takes a `nonce` with `enforce_nonce`: the same nonce from the same
author within a few minutes returns the message already created instead of a new one. discord.py
sends a random nonce per `send()` call, which covers its own retries of that call (a 502 after
Discord created the message) but not ours: the outbox's next attempt, /setup's backlog or a
restart would send a fresh nonce and a second message. So each message that must exist once
gets a nonce derived from what it is (the clip row, the DM's recipient, the summary's day),
identical on every attempt and in every process, and different for every clip even across a
re-created database (the moment key and creation time are part of it). Beyond the few minutes
Discord remembers a nonce, the post is found again by its buttons (cogs.review._find_posted).
"""

from __future__ import annotations

import hashlib
from typing import Any

MAX_LENGTH = 25  # Discord refuses longer nonces (50035)


def _nonce(prefix: str, *parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return f"{prefix}{digest}"[:MAX_LENGTH]


def clip_nonce(row: Any) -> str:
    """The review message of one clip row."""
    return _nonce("clip-", row.guild_id, row.id, row.moment_key, row.created_at)


def alert_nonce(row: Any, user_id: int) -> str:
    """One super_combo DM of one clip to one member."""
    return _nonce("dm-", clip_nonce(row), user_id)


def summary_nonce(guild_id: int, day: str) -> str:
    """One guild's daily summary of one day."""
    return _nonce("day-", guild_id, day)
