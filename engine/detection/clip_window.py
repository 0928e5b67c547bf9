"""The open clip of one watch: one clip per burst, re-timed to its peak, never overlapping.

Rules (times are the detector's clock):
- a new clip covers [now - before_s, now + after_s], but starts no earlier than the previous
  clip's end: that clip's window is closed, so it may already be cut, and clips never overlap;
- while a clip is open (now <= clip_end) a later fire upgrades it: same key, higher revision,
  triggers merged, confidence never lowered, end extended to now + after_s;
- a stronger second of the same burst (adaptive bars) re-times it: the moment moves to the peak
  and the end to peak + after_s, so the clip covers the peak and the reaction, not only the
  build-up;
- an open clip never grows past clip_start + max_length_s.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from engine.config import ClipsConfig
from engine.events import Moment


class ClipWindow:
    """Builds the Moments of one watch's clips; holds the open one."""

    __slots__ = ("open", "rarest", "streamer")

    def __init__(self, streamer: str) -> None:
        self.streamer = streamer
        self.open: Moment | None = None
        # The open clip's rarest burst: fewest bursts per live hour as strong (adaptive bars).
        self.rarest: float | None = None

    def current(self, now: float) -> Moment | None:
        """The clip still open at `now`, if any."""
        clip = self.open
        return clip if clip is not None and now <= clip.clip_end else None

    def clear(self) -> None:
        self.open = None
        self.rarest = None

    def note_rarity(self, per_hour: float | None) -> None:
        if per_hour is not None:
            self.rarest = per_hour if self.rarest is None else min(self.rarest, per_hour)

    def start(
        self,
        now: float,
        kind: str,
        triggers: Collection[str],
        confidence: float,
        details: dict[str, Any],
        cfg: ClipsConfig,
    ) -> Moment:
        start = now - cfg.before_s
        prev = self.open
        if prev is not None and prev.clip_end > start:
            start = prev.clip_end
        self.open = Moment(
            t=now,
            streamer=self.streamer,
            trigger=kind,
            triggers=tuple(sorted(triggers)),
            confidence=confidence,
            clip_start=start,
            clip_end=now + cfg.after_s,
            details=details,
            key=f"{self.streamer}-{int(now * 1000)}",
        )
        return self.open

    def upgrade(
        self,
        clip: Moment,
        t: float,
        kind: str,
        triggers: Collection[str],
        confidence: float,
        details: dict[str, Any],
        cfg: ClipsConfig,
        retime: bool = False,
    ) -> Moment | None:
        """The next revision of the open `clip` (None when nothing a reviewer sees changed).
        With `retime`, the moment itself moves to `t` (a new peak of its burst)."""
        end = min(max(clip.clip_end, t + cfg.after_s), clip.clip_start + cfg.max_length_s)
        upgraded = Moment(
            t=t if retime else clip.t,
            streamer=self.streamer,
            trigger=kind,
            triggers=tuple(sorted(triggers)),
            confidence=max(clip.confidence, confidence),
            clip_start=clip.clip_start,
            clip_end=end,
            details=details,
            key=clip.key,
            revision=clip.revision + 1,
        )
        if (
            upgraded.t == clip.t
            and upgraded.trigger == clip.trigger
            and upgraded.triggers == clip.triggers
            and upgraded.clip_end == clip.clip_end
            and upgraded.confidence == clip.confidence
        ):
            return None
        self.open = upgraded
        return upgraded
