"""Clip rows and live state as the dashboard shows them: JSON for the API, values for pages."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from publishing.service import status_text

MEDIA_KINDS = {
    "original": "original_path",
    "preview": "preview_path",
    "thumbnail": "thumbnail_path",
}


def has_file(row: Any, kind: str) -> bool:
    path = getattr(row, MEDIA_KINDS[kind], None)
    return path is not None and Path(path).is_file()


def publish_json(jobs: Any) -> list[dict[str, Any]]:
    """A clip's publish jobs as the page and the API show them, in the card's words."""
    return [
        {
            "target": j.target,
            "variant": j.variant,
            "state": j.state,
            "progress": j.progress,
            "url": j.url,
            "error": j.error,
            "text": status_text(j),
        }
        for j in jobs
    ]


def clip_json(row: Any) -> dict[str, Any]:
    # Every kind is a key (None when its file is gone), so pages can test any of them.
    media = {k: f"/media/{row.id}/{k}" if has_file(row, k) else None for k in MEDIA_KINDS}
    return {
        "id": row.id,
        "streamer": row.streamer,
        "title": row.title,
        "status": row.status,
        "favorite": bool(row.favorite),
        "trigger": row.trigger,
        "triggers": list(row.triggers),
        "score": round(float(row.confidence), 3),
        "t": row.t,
        "at": when(row.t),
        "duration_s": round(float(row.clip_end) - float(row.clip_start), 1),
        "created_at": row.created_at,
        "reviewed_by": str(row.reviewed_by) if row.reviewed_by else None,
        "reviewed_at": row.reviewed_at,
        "note": row.note,
        "details": row.details,
        "page": f"/clips/{row.id}",
        "media": media,
    }


def when(t: float) -> str:
    return datetime.fromtimestamp(float(t), tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def bars(snapshot: Any) -> list[tuple[str, str]]:
    """The detector snapshot as (name, value) rows, whatever fields it grows: new learnt bars
    or a target rate show up without a change here."""
    rows: list[tuple[str, str]] = []
    is_record = dataclasses.is_dataclass(snapshot) and not isinstance(snapshot, type)
    data = dataclasses.asdict(snapshot) if is_record else dict(vars(snapshot))
    for name, value in data.items():
        if name == "bars" and isinstance(value, dict):  # the learnt bars, as /thresholds says
            for trigger, bar in value.items():
                rows.append(
                    (
                        f"{trigger.replace('_', ' ')} bar",
                        f"normal {_fmt(bar.get('normal'))}, fires above {_fmt(bar.get('bar'))} "
                        f"{bar.get('unit', '')}",
                    )
                )
            continue
        rows.append((name.replace("_", " "), _fmt(value)))
    return rows


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_fmt(v)}" for k, v in value.items()) or "–"
    if isinstance(value, list | tuple):
        return ", ".join(_fmt(v) for v in value) or "–"
    return str(value)


def streamer_json(item: Any) -> dict[str, Any]:
    snap = item.snapshot
    velocity, baseline = float(snap.velocity), float(snap.baseline)
    return {
        "streamer": item.streamer,
        "live": bool(item.live),
        "viewers": item.viewers,
        "velocity": velocity,
        "normal": baseline,
        "ratio": round(velocity / baseline, 2) if baseline > 0 else None,
        "threshold": float(snap.threshold),
        "clip_counts": dict(item.clip_counts),
        "bars": bars(snap),
    }
