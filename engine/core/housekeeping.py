"""The bodies of the scheduler's jobs, free of apscheduler and Discord (cogs/maintenance.py
schedules them and says what needs saying in Discord).

Segments: every minute, each feed's index drops (and deletes) segments that ended more than the
longest clip window plus a margin ago, except those an unfinished clip still needs or a cut is
reading right now; then files on disk that no index knows (a previous run, an unwatched
streamer) go by the same rule, judged by their modification time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.config import Config
from engine.core.maintenance import (
    DeleteReport,
    clip_files,
    delete_files,
    is_needed,
    rejected_expired,
    scan_segments,
    segments_to_delete,
)
from engine.core.stores import ClipStoreFull
from engine.media.segments import Segment

log = logging.getLogger("engine.core.housekeeping")


def keep_window_s(config: Config) -> float:
    """How long a segment may still be wanted: the longest clip reaches this far back."""
    c = config.clips
    return max(c.before_s + c.max_length_s, c.before_s + c.after_s) + (
        config.scheduler.segment_retention_margin_s
    )


async def clean_segments(
    feeds: Mapping[str, Any], clips: ClipStoreFull, config: Config, now: float
) -> DeleteReport:
    windows = await clips.open_windows()
    keep_s = keep_window_s(config)
    report = DeleteReport()
    indexed: set[Path] = set()
    for slug, feed in feeds.items():
        index, clipper = feed.index, feed.clipper

        def keep(seg: Segment, slug: str = slug, clipper: Any = clipper) -> bool:
            return bool(clipper.in_use(seg)) or is_needed(slug, seg.start_t, seg.end_t, windows)

        dropped = index.prune(now - keep_s, keep)
        if dropped and getattr(feed, "journal", None) is not None:
            feed.journal.rewrite(index)
        report.count += len(dropped)
        report.bytes_freed += sum(s.size for s in dropped)
        for rendition in index.renditions:
            indexed.update(s.path for s in index.entries(rendition))
    leftovers = [
        p
        for p in segments_to_delete(
            scan_segments(Path(config.storage.segments_dir), config.recording.segment_s),
            now,
            keep_s,
            windows,
        )
        if p not in indexed
    ]
    report.merge(delete_files(leftovers))
    return report


async def clean_rejected(clips: ClipStoreFull, config: Config, now: float) -> DeleteReport:
    """Delete the files of clips rejected longer ago than the grace, and mark them deleted.

    Per clip, the compare-and-set rejected -> deleted comes first and the files go only if it
    won: a reviewer who approves the clip meanwhile (the awaits between reading and acting
    leave room for that) keeps an approved clip with its files, exactly as App.review("delete")
    orders it. The report lists the clips it deleted, so their messages can say so.
    """
    rows = await clips.with_status("rejected")
    grace_h = config.scheduler.rejected_grace_h
    expired = rejected_expired(rows, datetime.fromtimestamp(now, tz=UTC), grace_h)
    report = DeleteReport()
    for row in expired:
        note = f"files removed by the cleanup {grace_h:g} h after the rejection"
        merged = f"{row.note}; {note}" if row.note else note
        if not await clips.transition(row.id, ("rejected",), status="deleted", note=merged):
            log.info("clip %s was reviewed again meanwhile; its files stay", row.id)
            continue
        report.merge(delete_files(clip_files(row)))
        report.clip_ids.append(int(row.id))
    if report.clip_ids:
        log.info(
            "removed the files of %d rejected clip(s), %d bytes",
            len(report.clip_ids),
            report.bytes_freed,
        )
    return report
