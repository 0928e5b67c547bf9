"""What people see of a Detector: a moment's details (the review card) and its snapshot
(/stats, /thresholds show, the dashboard). Read-only views, kept apart from the decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    )
