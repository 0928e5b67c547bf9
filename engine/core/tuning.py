"""Per-watch tuning (/thresholds): the overrides a guild set for a streamer, validated against
the one table of tunables, applied to the live Detector at once and stored; resetting them all
also forgets what reviews taught the detector. Callers pass a slug the guild watches (App)."""

from __future__ import annotations

from engine.config import Config
from engine.core.detector_states import DetectorStates
from engine.core.results import ThresholdView, UserError
from engine.core.stores import WatchStore
from engine.core.watch_hub import WatchHub
from engine.detection.thresholds import TUNABLES, ThresholdError, current, validate
from engine.events import Snapshot


class Tuning:
    def __init__(
        self, config: Config, watches: WatchStore, hub: WatchHub, states: DetectorStates
    ) -> None:
        self.config = config
        self.watches = watches
        self.hub = hub
        self.states = states

    async def thresholds(self, guild_id: int, slug: str) -> list[ThresholdView]:
        overrides = await self.watches.thresholds(guild_id, slug)
        out = []
        for name, t in TUNABLES.items():
            default = float(current(self.config, name))
            value = float(overrides.get(name, default))
            out.append(ThresholdView(name, value, default, name in overrides, t.lo, t.hi, t.help))
        return out

    async def set_threshold(
        self, guild_id: int, slug: str, name: str, value: float, user_id: int | None
    ) -> float:
        try:
            checked = validate(name, value)
        except ThresholdError as exc:
            raise UserError(str(exc)) from exc
        overrides = {**await self.watches.thresholds(guild_id, slug), name: float(checked)}
        watch = self.hub.get(guild_id, slug)
        if watch is not None:
            watch.detector.set_overrides(overrides)  # effective on the next chat line
        await self.watches.set_threshold(guild_id, slug, name, float(checked), user_id)
        return float(checked)

    async def reset_thresholds(self, guild_id: int, slug: str, name: str | None) -> int:
        if name is not None and name not in TUNABLES:
            raise UserError(f"unknown threshold {name!r}; choose one of: {', '.join(TUNABLES)}")
        removed = await self.watches.reset_thresholds(guild_id, slug, name)
        watch = self.hub.get(guild_id, slug)
        if watch is not None:
            if name is None and watch.detector.learning.reviews:  # reset all: forget reviews too
                watch.detector.reset_learning()
                removed += 1
                await self.states.save(guild_id, slug, watch.detector)
            watch.detector.set_overrides(await self.watches.thresholds(guild_id, slug))
        return removed

    def learnt(self, guild_id: int, slug: str, now: float) -> Snapshot | None:
        """What the watch's detector learnt (bars, aim, achieved rate, reviews), for /thresholds."""
        watch = self.hub.get(guild_id, slug)
        return watch.detector.snapshot(now) if watch is not None else None
