"""What the application core answers the fronts (cogs, web, publishing): plain records and the
one error whose message is meant for the operator. Importable from engine.core.app as before."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.events import Snapshot


class UserError(Exception):
    """A refusal with a message meant for the operator, shown as is (ephemerally)."""


@dataclass(frozen=True, slots=True)
class WatchResult:
    streamer: str
    already: bool
    live: bool
    viewers: int
    title: str | None
    shared: bool  # another guild already watched it: the feed was running
    live_known: bool = True  # False: Kick blocked the lookup, the stored ids were used
    recorded_once: bool = False  # the preview rendition is the original: one recording


@dataclass(frozen=True, slots=True)
class ThresholdView:
    name: str
    value: float
    default: float
    overridden: bool
    lo: float
    hi: float
    help: str


@dataclass(slots=True)
class StreamerStats:
    streamer: str
    live: bool
    viewers: int | None
    snapshot: Snapshot
    clip_counts: dict[str, int] = field(default_factory=dict)
    recent: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    clip: Any
    changed: bool
    message: str
