"""A Detector's state as plain data: what survives a restart (limits, cooldowns, the learnt
profile of the channel, what reviews taught), so the application core can persist it without
knowing the Detector's insides. Damaged values are skipped, never fatal: a bad row costs a cold
start, not a watch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.detection.learning import ReviewLearning
from engine.triggers.burst import Burst

if TYPE_CHECKING:
    from engine.detection.detector import Detector


def bursts(d: Detector) -> dict[str, Burst]:
    """The adaptive trackers by trigger (none with fixed bars)."""
    pairs = (
        ("chat_velocity", d.velocity.burst),
        ("emote_flood", d.emote_flood.burst),
        ("keyword", d.keyword.burst),
    )
    return {name: b for name, b in pairs if b is not None}


def profile(d: Detector) -> dict[str, Any]:
    """The channel's learnt normals and burst histories: persisted per streamer and shared by
    every watch of the channel (a property of its chat, not of a guild)."""
    return {name: b.to_state() for name, b in bursts(d).items()}


def load_profile(d: Detector, data: Mapping[str, Any]) -> None:
    for name, burst in bursts(d).items():
        saved = data.get(name)
        if not isinstance(saved, dict):
            continue
        try:
            burst.load_state(saved)
        except (TypeError, ValueError, OverflowError):  # damaged: this trigger starts cold
            burst.reset_learning()


def to_state(d: Detector) -> dict[str, Any]:
    return {
        "limiter": d.limiter.to_state(),
        "baseline": d.velocity.baseline.to_state(),
        "profile": profile(d),
        "learning": d.learning.to_state(),
    }


def load_state(d: Detector, state: Mapping[str, Any]) -> None:
    if "limiter" in state:
        d.limiter.load_state(dict(state["limiter"]))
    if "baseline" in state:
        d.velocity.baseline.load_state(dict(state["baseline"]))
    if isinstance(state.get("profile"), Mapping):
        load_profile(d, state["profile"])
    if isinstance(state.get("learning"), Mapping):
        d.learning = ReviewLearning.from_state(state["learning"])
        d.set_overrides(d.overrides)  # the learnt target factor reaches the bars
