"""Per-streamer channel profiles: what the adaptive detector learnt about a channel's chat.

One row per streamer, not per watch: the chat is the same whichever guild watches it, so a guild
that starts watching a known streamer starts warm. The profile is plain JSON from
engine.detection.state.profile(); storage does not interpret it.
"""

from __future__ import annotations

import json
from typing import Any

from storage.db import Database, utcnow


class ProfileRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, streamer: str) -> dict[str, Any] | None:
        row = await self.db.fetchone(
            "SELECT profile FROM channel_profiles WHERE streamer = ?", (streamer,)
        )
        if row is None:
            return None
        try:
            value = json.loads(row[0])
        except ValueError:  # a damaged row costs a cold start, never a crash
            return None
        return value if isinstance(value, dict) else None

    async def put(self, streamer: str, profile: dict[str, Any]) -> None:
        await self.db.execute(
            "INSERT INTO channel_profiles (streamer, profile, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (streamer) DO UPDATE SET profile = excluded.profile,"
            " updated_at = excluded.updated_at",
            (streamer, json.dumps(profile), utcnow()),
        )
