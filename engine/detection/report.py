"""What people see of a Detector: a moment's details (the review card) and its snapshot
(/stats, /thresholds show, the dashboard). Read-only views, kept apart from the decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.detection.state import bursts
from engine.events import Snapshot

if TYPE_CHECKING:
    from engine.detection.detector import Detector


def moment_details(
    d: Detector, triggers: set[str], base: float, now: float, updated_at: float | None = None
) -> dict[str, Any]:
    """What a reviewer wants to see: why it fired, against what normal, and chat lines."""
    details: dict[str, Any] = {
        "base_confidence": base,
        "velocity": round(d.velocity.velocity(now), 2),
        "baseline": round(d.velocity.baseline.mean, 2),
        "viewers": d.viewer_spike.latest,
        "viewer_baseline": d.viewer_spike.baseline(now),
        "excitement": d.excitement.score(now),
        "top_emote": dict(zip(("emote", "count"), d.emote_flood.top(now), strict=True)),
        "samples": [{"t": t, "user": u, "text": x} for t, u, x in d.samples],
        "chatters": d.velocity.chatters(now),
        "reacting": d.emote_flood.reacting(now, d.config.triggers.chat_velocity.window_s),
        "by_trigger": {name: d.fire_details.get(name, {}) for name in sorted(triggers)},
    }
    if updated_at is not None:
        details["updated_at"] = updated_at
    return details


def snapshot(d: Detector, now: float) -> Snapshot:
    top, top_n = d.emote_flood.top(now)
    lim = d.limiter
    return Snapshot(
        velocity=round(d.velocity.velocity(now), 2),
        baseline=round(d.velocity.baseline.mean, 2),
        threshold=round(d.velocity.threshold(), 2),
        warm=d.velocity.baseline.ready,
        viewers=d.viewer_spike.latest,
        viewer_baseline=d.viewer_spike.baseline(now),
        excitement=d.excitement.score(now),
        top_emote=top,
        top_emote_count=top_n,
        clips_today=lim.clips_today(now),
        daily_max=d.config.limits.daily_max_clips,
        fired_today=dict(lim.fired),
        suppressed_today=dict(lim.suppressed),
        open_clip=clip.key if (clip := d.clip.current(now)) else None,
        **adaptive_view(d),
    )


_UNITS = {
    "chat_velocity": "msg/s",
    "emote_flood": "chatters on one emote",
    "keyword": "chatters asking for a clip",
}


def adaptive_view(d: Detector) -> dict[str, Any]:
    """The learnt bars in the units people read, the aim and the achieved clip rate."""
    found = bursts(d)
    if not found:
        return {}
    tc = d.config.triggers
    bars: dict[str, dict[str, Any]] = {}
    for name, burst in found.items():
        scale = 1.0 / tc.chat_velocity.window_s if name == "chat_velocity" else 1.0
        bars[name] = {
            "normal": round(burst.normal() * scale, 2),
            "bar": round(burst.bar_value() * scale, 2),
            "unit": _UNITS[name],
            "live_h": round(burst.peaks.live_h, 2),
            "ready": burst.ready,
        }
    velocity = found.get("chat_velocity")
    rate = velocity.peaks.clips_per_hour() if velocity is not None else None
    return {
        "bars": bars,
        "target_per_hour": round(tc.target_clips_per_hour * d.learning.target_factor(), 2),
        "clips_per_live_hour": round(rate, 2) if rate is not None else None,
        "learning": d.learning.explain(),
    }
