"""The events that flow from a Feed into Detectors, and the Moments that come out.

Times are unix seconds (float) taken from the event itself, so the Detector is a pure function of
its input: a replay of captured chat decides exactly what the live bot decided.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MAX_T = 1e10
"""No real event is this late (it is the year 2286): a larger t is corrupt input, not time.

Below it, datetime handles every t (the limiter's day), and float seconds keep sub-millisecond
resolution. Accepted times are 0 <= t < MAX_T; NaN and infinities are not times at all.
"""
MAX_VIEWERS = 10**9
"""Viewer counts are 0 <= viewers < MAX_VIEWERS: more than any channel has had, by far."""


def plausible_time(t: float) -> bool:
    """Whether `t` can be an event time (finite, 0 <= t < MAX_T); NaN fails every comparison."""
    return 0.0 <= t < MAX_T


def plausible_viewers(viewers: int) -> bool:
    return 0 <= viewers < MAX_VIEWERS


@dataclass(slots=True)
class ChatMessage:
    """One chat line; `emotes` holds every emote name in it, in order, repeats included.

    Not frozen on purpose: a frozen dataclass builds through object.__setattr__, which is a
    measurable share of the per-message cost at 100k+ msg/s. Treat it as immutable.
    """

    t: float
    user: str
    text: str
    emotes: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class ViewerSample:
    """A viewer count as polled from Kick (every ~10 s while live)."""

    t: float
    viewers: int


@dataclass(slots=True, frozen=True)
class LiveChange:
    """The channel went live (a new session) or offline; resets what must not span sessions."""

    t: float
    live: bool


Event = ChatMessage | ViewerSample | LiveChange


@dataclass(slots=True)
class Moment:
    """A decision to clip.

    `key` names the clip: a later moment that lands while this clip's window is still open comes
    back with the same key and a higher `revision` (an upgrade: new trigger, confidence, end)
    instead of a second, overlapping clip. Revision 0 is a new clip.
    """

    t: float
    streamer: str
    trigger: str
    triggers: tuple[str, ...]
    confidence: float
    clip_start: float
    clip_end: float
    details: dict[str, Any] = field(default_factory=dict)
    key: str = ""
    revision: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["triggers"] = list(self.triggers)
        return d


@dataclass(slots=True)
class Snapshot:
    """What /stats shows about one Detector right now (Detector.snapshot; importable from
    engine.detection.detector as before)."""

    velocity: float
    baseline: float
    threshold: float
    warm: bool
    viewers: int | None
    viewer_baseline: float | None
    excitement: float | None
    top_emote: str | None
    top_emote_count: int
    clips_today: int
    daily_max: int
    fired_today: dict[str, int] = field(default_factory=dict)
    suppressed_today: dict[str, int] = field(default_factory=dict)
    open_clip: str | None = None
    # Adaptive bars (engine.triggers.burst); empty / None with the seed's fixed bars.
    bars: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per trigger: its measure's `normal` and the `bar` it must beat now, in `unit`s, and
    `live_h`, how many live hours of the channel the bars have learnt from."""
    target_per_hour: float | None = None  # the aim, after what reviews taught
    clips_per_live_hour: float | None = None  # achieved, over the remembered live hours
    learning: str = ""  # what reviews taught, in words
