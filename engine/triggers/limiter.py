"""Rate limiting: per-trigger cooldowns, the clip cooldown, combo bypass and the daily limit.

Rules, in order, for a decision that would start a new clip:
1. the daily limit (`daily_max_clips` per streamer per day, the day taken in `timezone`) binds
   everything, combos included;
2. a combo needs only its own cooldown (`cooldowns_s.combo`, per combo kind): combos bypass the
   per-trigger cooldowns and the clip cooldown, because several triggers agreeing is exactly the
   evidence those cooldowns wait for;
3. a single trigger needs its own cooldown (`cooldowns_s.<trigger>`, else `default_cooldown_s`)
   and `clip_cooldown_s` since the last new clip.
Moments that merge into an open clip start no clip, so only cooldown stamps apply to them.

The state is a plain dict (`to_state` / `load_state`) so the bot can persist it and a restart
neither resets the daily count nor forgets cooldowns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.config import LimitsConfig
from engine.triggers.combos import is_combo
from engine.triggers.fire import NEVER


class RateLimiter:
    __slots__ = ("_tz", "cfg", "clips", "day", "fired", "last", "last_clip", "suppressed")

    def __init__(self, cfg: LimitsConfig) -> None:
        self.last: dict[str, float] = {}
        self.last_clip = NEVER
        self.day = ""
        self.clips = 0
        self.fired: Counter[str] = Counter()
        self.suppressed: Counter[str] = Counter()
        self.configure(cfg)

    def configure(self, cfg: LimitsConfig) -> None:
        self.cfg = cfg
        self._tz = ZoneInfo(cfg.timezone)

    def day_of(self, t: float) -> str:
        return datetime.fromtimestamp(t, tz=UTC).astimezone(self._tz).date().isoformat()

    def _roll_day(self, now: float) -> None:
        day = self.day_of(now)
        if day != self.day:
            self.day = day
            self.clips = 0
            self.fired.clear()
            self.suppressed.clear()

    def cooldown_of(self, name: str) -> float:
        cds = self.cfg.cooldowns_s
        if is_combo(name):
            return cds.combo
        value = getattr(cds, name, None)
        return float(value) if value is not None else self.cfg.default_cooldown_s

    def clips_today(self, now: float) -> int:
        self._roll_day(now)
        return self.clips

    def note_fire(self, trigger: str, now: float) -> None:
        self._roll_day(now)
        self.fired[trigger] += 1

    def refuse(self, kind: str, now: float) -> str | None:
        """Why a new clip of `kind` may not start now, or None if it may."""
        self._roll_day(now)
        if self.clips >= self.cfg.daily_max_clips:
            return "daily_limit"
        if now - self.last.get(kind, NEVER) < self.cooldown_of(kind):
            return "cooldown"
        if not is_combo(kind) and now - self.last_clip < self.cfg.clip_cooldown_s:
            return "clip_cooldown"
        return None

    def suppress(self, reason: str, now: float) -> None:
        self._roll_day(now)
        self.suppressed[reason] += 1

    def stamp(self, names: Iterable[str], now: float) -> None:
        """Start the cooldowns of these triggers / combo kinds at `now`."""
        for name in names:
            self.last[name] = now

    def rewind(self, now: float) -> None:
        """The clock went back to `now` (engine.detection.detector): stamps later than `now` belong
        to a
        timeline that no longer exists. Clamped to `now`, cooldowns restart at the reset instead
        of blocking until the old clock comes round again (forever, after one bogus far-future
        time). The day's count is kept while the day is the same; a reset into another day
        starts that day's count, as any change of day does."""
        self.last = {name: min(t, now) for name, t in self.last.items()}
        self.last_clip = min(self.last_clip, now)

    def record_clip(self, names: Iterable[str], now: float) -> None:
        self._roll_day(now)
        self.clips += 1
        self.last_clip = now
        self.stamp(names, now)

    def to_state(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "clips": self.clips,
            "last_clip": self.last_clip if self.last_clip != NEVER else None,
            "last": dict(self.last),
            "fired": dict(self.fired),
            "suppressed": dict(self.suppressed),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.day = str(state.get("day", ""))
        self.clips = int(state.get("clips", 0))
        last_clip = state.get("last_clip")
        self.last_clip = float(last_clip) if last_clip is not None else NEVER
        self.last = {str(k): float(v) for k, v in dict(state.get("last", {})).items()}
        self.fired = Counter({str(k): int(v) for k, v in dict(state.get("fired", {})).items()})
        self.suppressed = Counter(
            {str(k): int(v) for k, v in dict(state.get("suppressed", {})).items()}
        )
