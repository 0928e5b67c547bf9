"""What a trigger reports when its condition turns true."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NEVER = float("-inf")


@dataclass(slots=True)
class Fire:
    """A trigger's rising edge: it was quiet, now its condition holds.

    Triggers report edges, not levels, so a minute of sustained hype is one decision (later
    edges within an open clip extend it) rather than one per message.
    """

    trigger: str
    t: float
    confidence: float
    details: dict[str, Any] = field(default_factory=dict)
    peak: bool = False
    """Not an edge: a new high of a burst that already fired. It re-times the open clip to
    the peak (Detector) and never starts a clip of its own."""
    strength: float | None = None
    """Channel-relative strength (engine.triggers.burst) when the bars are adaptive."""
    per_hour: float | None = None
    """How many bursts per live hour of this measure were at least this strong (adaptive)."""
