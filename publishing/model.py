"""The plain data of publishing: layouts and their rectangles, job states, the errors a target
raises, the progress throttle and YouTube's quota day. Pure: no I/O, clock passed in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

STATES = ("queued", "rendering", "uploading", "published", "failed")
ACTIVE = ("queued", "rendering", "uploading")
LAYOUTS = ("center", "split", "fit")
VARIANTS = ("vertical", "original")
PRIVACY = ("private", "unlisted", "public")
POSITIONS = ("top", "bottom")
PACIFIC = ZoneInfo("America/Los_Angeles")


class LayoutError(ValueError):
    """A layout or rectangle an operator typed that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Rect:
    """A rectangle as fractions (0-1) of the source frame: resolution-independent."""

    x: float
    y: float
    w: float
    h: float

    @classmethod
    def parse(cls, text: str) -> Rect:
        """`"x,y,w,h"` in percent of the frame (`"0,0,30,35"`: the top-left 30 % x 35 %)."""
        parts = [p.strip().rstrip("%") for p in text.replace(" ", ",").split(",") if p.strip()]
        try:
            x, y, w, h = (float(p) / 100 for p in parts)
        except ValueError as exc:
            raise LayoutError(
                f"`{text[:40]}` is not a rectangle: give x,y,width,height in percent of the "
                "frame, e.g. `0,0,30,35`"
            ) from exc
        rect = cls(x, y, w, h)
        if not (0 <= x < 1 and 0 <= y < 1 and 0.05 <= w <= 1 and 0.05 <= h <= 1):
            raise LayoutError(f"`{text[:40]}`: each value must be 0-100 and the size at least 5")
        if x + w > 1.0001 or y + h > 1.0001:
            raise LayoutError(f"`{text[:40]}` reaches past the frame's edge")
        return rect

    def to_json(self) -> str:
        return json.dumps([round(v, 5) for v in (self.x, self.y, self.w, self.h)])

    @classmethod
    def from_json(cls, text: str | None) -> Rect | None:
        return cls(*json.loads(text)) if text else None

    def percent(self) -> str:
        return ",".join(f"{v * 100:g}" for v in (self.x, self.y, self.w, self.h))

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """Even pixel values inside a width x height frame (x264 wants even sizes)."""
        w = max(2, int(self.w * width) // 2 * 2)
        h = max(2, int(self.h * height) // 2 * 2)
        x = min(int(self.x * width), width - w)
        y = min(int(self.y * height), height - h)
        return x, y, w, h


@dataclass(frozen=True, slots=True)
class Layout:
    kind: str = "center"
    crop: Rect | None = None  # center: the part to keep (None = the middle 9:16 of the frame)
    facecam: Rect | None = None  # split: top half
    gameplay: Rect | None = None  # split: bottom half

    def __post_init__(self) -> None:
        if self.kind not in LAYOUTS:
            raise LayoutError(f"unknown layout `{self.kind}`: choose {', '.join(LAYOUTS)}")
        if self.kind == "split" and (self.facecam is None or self.gameplay is None):
            raise LayoutError("the split layout needs both a facecam and a gameplay rectangle")

    def key(self) -> str:
        """Names the render: a changed layout makes a new file instead of reusing a stale one."""
        parts = [self.kind] + [
            r.percent() if r else "-" for r in (self.crop, self.facecam, self.gameplay)
        ]
        return "|".join(parts)

    def describe(self) -> str:
        if self.kind == "split":
            assert self.facecam and self.gameplay
            return (
                f"split: facecam {self.facecam.percent()} over gameplay {self.gameplay.percent()}"
            )
        if self.kind == "center" and self.crop:
            return f"center: crop {self.crop.percent()}"
        return {"center": "center (middle of the frame)", "fit": "fit (whole frame over a blur)"}[
            self.kind
        ]


def layout_of(row: Any, default: str = "center") -> Layout:
    """A stored layout row (or None) as a Layout."""
    if row is None:
        return Layout(default)
    return Layout(
        row.layout,
        Rect.from_json(row.crop),
        Rect.from_json(row.facecam),
        Rect.from_json(row.gameplay),
    )


class PublishError(Exception):
    """A job failed for a reason the operator reads as is (one line on the card and in the log).

    `retryable`: a later Retry may work without changing anything (network, YouTube 5xx).
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class QuotaExceeded(PublishError):
    """The target's daily quota is used up: the job waits until `resume_at` (unix seconds)."""

    def __init__(self, message: str, resume_at: float) -> None:
        super().__init__(message, retryable=True)
        self.resume_at = resume_at


def next_quota_reset(now: float) -> float:
    """YouTube's daily quota resets at midnight Pacific time: the next such midnight (unix)."""
    local = datetime.fromtimestamp(now, tz=PACIFIC)
    midnight = datetime(local.year, local.month, local.day, tzinfo=PACIFIC) + timedelta(days=1)
    return midnight.astimezone(UTC).timestamp()


@dataclass(slots=True)
class ProgressThrottle:
    """Decides which progress updates are worth a Discord message edit: one per `every_pct`
    percent or per `every_s` seconds, whichever comes first (Discord rate-limits edits)."""

    every_pct: float
    every_s: float
    last_pct: float = -1.0
    last_t: float = float("-inf")

    def due(self, pct: float, now: float) -> bool:
        if pct >= 100 or pct - self.last_pct >= self.every_pct or now - self.last_t >= self.every_s:
            if pct == self.last_pct:
                return False
            self.last_pct, self.last_t = pct, now
            return True
        return False


class PublishStore(Protocol):
    """What publishing needs from storage (storage.publish.PublishRepo implements it)."""

    async def create(
        self, clip_id: int, guild_id: int, target: str, variant: str, requested_by: int | None
    ) -> tuple[Any, bool]: ...
    async def get(self, job_id: int) -> Any: ...
    async def for_clip(self, clip_id: int) -> list[Any]: ...
    async def with_state(self, *states: str) -> list[Any]: ...
    async def transition(self, job_id: int, from_states: Any, **fields: Any) -> bool: ...
    async def layout(self, guild_id: int, streamer: str) -> Any: ...
    async def set_layout(
        self,
        guild_id: int,
        streamer: str,
        layout: str,
        crop: str | None,
        facecam: str | None,
        gameplay: str | None,
        by: int | None,
    ) -> None: ...
    async def refresh_token(self, provider: str) -> str | None: ...
    async def save_refresh_token(
        self, provider: str, token: str, scope: str | None, account: str | None
    ) -> None: ...
