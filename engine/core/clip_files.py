"""Small helpers of the review actions: a deleted clip's files, and the review timestamp."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("engine.core.app")


def remove_files(clip: Any) -> None:
    """A deleted clip's files go at once (the Discord message and its upload stay)."""
    for name in ("original_path", "preview_path", "thumbnail_path"):
        path = getattr(clip, name, None)
        if not path:
            continue
        try:
            Path(path).unlink(missing_ok=True)
        except OSError as exc:
            log.warning("clip %s: could not delete %s: %s", clip.id, path, exc)


def iso_utc(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat(timespec="seconds")
