"""The decisions behind the scheduler's housekeeping jobs, kept pure so they are unit-tested.

The bot wires these to apscheduler and storage; here there is no scheduler, no database and
(apart from the two explicit file helpers, scan_segments and delete_files) no I/O. Each job is
"decide, then act": deciding which segment or clip file may go, whether the disk is low, when
the day rolls over and what the daily summary says is where the bugs hide, so it lives here.
"""

from __future__ import annotations

import logging
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, Protocol, TypeVar

log = logging.getLogger(__name__)

DEFAULT_SLACK_S = 5.0  # segment times can be a few seconds off (arrival timing, mtime fallback)
PENDING = frozenset({"detected", "cutting", "ready", "posting", "posted"})
REJECTED = frozenset({"rejected", "deleted"})  # a deleted clip is a rejected one whose files went

# -- segments -------------------------------------------------------------------------------

Window = tuple[str, float, float]  # (streamer, clip_start, clip_end) of a clip not cut yet


@dataclass(slots=True, frozen=True)
class SegmentInfo:
    """One recorded file and the wall-clock span it covers (the recorder's index has more)."""

    streamer: str
    path: Path
    start_t: float
    end_t: float


def is_needed(
    streamer: str,
    start_t: float,
    end_t: float,
    open_windows: Iterable[Window],
    slack_s: float = DEFAULT_SLACK_S,
) -> bool:
    """True if [start_t, end_t) overlaps an open window of the same streamer (widened by slack).

    Usable as SegmentIndex.prune's ``keep`` predicate, so the index and the files agree.
    """
    key = streamer.lower()
    return any(
        s.lower() == key and start_t < w_end + slack_s and end_t > w_start - slack_s
        for s, w_start, w_end in open_windows
    )


def segments_to_delete(
    segments: Iterable[SegmentInfo],
    now: float,
    keep_s: float,
    open_windows: Iterable[Window],
    slack_s: float = DEFAULT_SLACK_S,
) -> list[Path]:
    """Segments that ended more than ``keep_s`` ago and no unfinished clip still needs.

    ``keep_s`` is the longest clip window (before_s + max_length_s) plus a margin: a moment
    detected now reaches back before_s, and an upgrade can stretch it to max_length_s. A clip
    whose cut is late (a restart, a slow disk) protects its own window for as long as it is open.
    """
    windows: dict[str, list[Window]] = defaultdict(list)
    for w in open_windows:
        windows[w[0].lower()].append(w)
    cutoff = now - keep_s
    return [
        seg.path
        for seg in segments
        if seg.end_t < cutoff
        and not is_needed(
            seg.streamer, seg.start_t, seg.end_t, windows[seg.streamer.lower()], slack_s
        )
    ]


def scan_segments(
    segments_dir: Path, segment_s: float = 10.0, suffix: str = ".ts"
) -> list[SegmentInfo]:
    """List ``segments_dir/<streamer>/<rendition>/*.ts`` by mtime, oldest first.

    The fallback when no index is at hand (and the start-up sweep of a previous run's files):
    a segment's file is last written when it ends, so end_t = mtime, start_t = end_t - segment_s.
    Files that vanish mid-scan (the recorder or another sweep removed them) are skipped.
    """
    found: list[SegmentInfo] = []
    if not segments_dir.is_dir():
        return found
    for path in segments_dir.glob(f"*/*/*{suffix}"):
        try:
            if not path.is_file():
                continue
            mtime = path.stat().st_mtime
        except OSError:
            continue
        streamer = path.parent.parent.name
        found.append(SegmentInfo(streamer, path, mtime - segment_s, mtime))
    found.sort(key=lambda s: (s.end_t, str(s.path)))
    return found


@dataclass(slots=True)
class DeleteReport:
    """What a sweep did: files removed, bytes freed, already gone, and what could not go."""

    count: int = 0
    bytes_freed: int = 0
    missing: int = 0
    errors: list[tuple[Path, str]] = field(default_factory=list)
    #: Clips whose files a sweep removed (rejected-clip cleanup), for re-rendering their posts.
    clip_ids: list[int] = field(default_factory=list)

    def merge(self, other: DeleteReport) -> None:
        self.count += other.count
        self.bytes_freed += other.bytes_freed
        self.missing += other.missing
        self.errors.extend(other.errors)
        self.clip_ids.extend(other.clip_ids)

    def __str__(self) -> str:
        mb = self.bytes_freed / 1_048_576
        errors = len(self.errors)
        return f"deleted {self.count} files ({mb:.1f} MB), {self.missing} missing, {errors} errors"


def delete_files(paths: Iterable[Path | str]) -> DeleteReport:
    """Delete each file; never raises. A missing file counts as missing, other errors are logged.

    A sweep that stopped at the first permission error would leave the disk filling up.
    """
    report = DeleteReport()
    for raw in paths:
        path = Path(raw)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            report.missing += 1
        except OSError as exc:
            log.warning("could not delete %s: %s", path, exc)
            report.errors.append((path, f"{type(exc).__name__}: {exc}"))
        else:
            report.count += 1
            report.bytes_freed += size
    return report


def as_utc_aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=UTC)


# -- rejected clips -------------------------------------------------------------------------


class ClipLike(Protocol):
    """The storage.clips.ClipRow attributes these jobs read (engine never imports storage)."""

    status: str
    reviewed_at: str | None
    updated_at: str
    original_path: str | None
    preview_path: str | None
    thumbnail_path: str | None


C = TypeVar("C", bound=ClipLike)


def parse_iso(text: str | None) -> datetime | None:
    """Storage's ISO text as an aware datetime (naive means UTC); None if absent or garbled."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def rejected_expired(rows: Iterable[C], now: datetime | str, grace_h: float) -> list[C]:
    """Rejected clips whose review is older than the grace (so a mis-click can be undone)."""
    at = parse_iso(now) if isinstance(now, str) else now
    if at is None:
        raise ValueError(f"not an ISO time: {now!r}")
    cutoff = as_utc_aware(at) - timedelta(hours=grace_h)
    out = []
    for row in rows:
        when = parse_iso(row.reviewed_at or row.updated_at)
        if row.status == "rejected" and when is not None and when <= cutoff:
            out.append(row)
    return out


def clip_files(row: ClipLike) -> list[Path]:
    """The files one clip owns: original, preview and thumbnail (those that are set)."""
    paths = (row.original_path, row.preview_path, row.thumbnail_path)
    return list(dict.fromkeys(Path(p) for p in paths if p))


def rejected_clip_files(
    rows: Iterable[ClipLike], now: datetime | str, grace_h: float
) -> list[Path]:
    """Every file of every clip rejected more than ``grace_h`` hours before ``now``."""
    expired = rejected_expired(rows, now, grace_h)
    return list(dict.fromkeys(p for row in expired for p in clip_files(row)))


# -- disk -----------------------------------------------------------------------------------


UsageFn = Callable[[Path], tuple[int, int, int]]


@dataclass(slots=True, frozen=True)
class DiskStatus:
    free_mb: float
    total_mb: float
    low: bool


def disk_status(path: Path, min_free_mb: float, usage: UsageFn = shutil.disk_usage) -> DiskStatus:
    """Free and total space of the filesystem holding ``path`` (or its nearest existing parent,
    since the data directory may not exist yet on a first run)."""
    probe = Path(path)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    total, _used, free = usage(probe)
    free_mb, total_mb = free / 1_048_576, total / 1_048_576
    return DiskStatus(round(free_mb, 1), round(total_mb, 1), free_mb < min_free_mb)


Transition = Literal["became_low", "recovered"]


class DiskGuard:
    """Turns 30-second disk checks into one alert per change instead of one per check.

    Recovery needs ``recover_mb`` (default 10% over the minimum) so a disk hovering at the
    threshold does not alert on every check.
    """

    def __init__(self, min_free_mb: float, recover_mb: float | None = None) -> None:
        self.min_free_mb = min_free_mb
        self.recover_mb = recover_mb if recover_mb is not None else min_free_mb * 1.1
        self.low = False

    def update(self, status: DiskStatus | float) -> Transition | None:
        """Feed one reading (a DiskStatus or free MB); returns the transition it caused, if any."""
        free = status.free_mb if isinstance(status, DiskStatus) else float(status)
        if not self.low and free < self.min_free_mb:
            self.low = True
            return "became_low"
        if self.low and free >= self.recover_mb:
            self.low = False
            return "recovered"
        return None
