"""Saving and restoring what each watch's Detector learnt.

Two places: the watch's own row (limits, cooldowns, what its guild's reviews taught, its profile)
and, per streamer, the channel profile (what the chat of that channel is like), shared by every
guild that watches it, so a new watch of a known streamer, a restart and the next stream start
warm instead of learning the channel again.
"""

from __future__ import annotations

from typing import Any

from engine.core.stores import ProfileStore, WatchStore
from engine.detection.detector import Detector


class DetectorStates:
    def __init__(self, watches: WatchStore, profiles: ProfileStore | None) -> None:
        self.watches = watches
        self.profiles = profiles

    async def save(self, guild_id: int, streamer: str, detector: Detector) -> None:
        """The watch's state, and the channel profile for every watch of the streamer."""
        state = detector.to_state()
        await self.watches.save_state(guild_id, streamer, state)
        if self.profiles is not None and state.get("profile"):
            await self.profiles.put(streamer, state["profile"])

    async def with_profile(self, streamer: str, state: dict[str, Any]) -> dict[str, Any]:
        """A watch without a profile of its own (new, or saved before profiles) starts from
        the streamer's shared profile: another guild's watch, or an earlier stream."""
        if self.profiles is None or state.get("profile"):
            return state
        profile = await self.profiles.get(streamer)
        return {**state, "profile": profile} if profile else state
