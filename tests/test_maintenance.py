"""Housekeeping decisions: which files may go, disk alerts once per change, days and summaries."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.core.daily import (
    StreamerDay,
    daily_summary,
    day_of,
    day_range_utc,
    next_midnight,
    tally,
)
from engine.core.maintenance import (
    DiskGuard,
    DiskStatus,
    SegmentInfo,
    clip_files,
    delete_files,
    disk_status,
    is_needed,
    rejected_clip_files,
    rejected_expired,
    scan_segments,
    segments_to_delete,
)

NOW = 1_700_000_000.0
KEEP = 20 + 90 + 120  # before_s + max_length_s + retention margin


def seg(streamer: str, end_ago: float, length: float = 10.0) -> SegmentInfo:
    end = NOW - end_ago
    return SegmentInfo(streamer, Path(f"/seg/{streamer}/best/{int(end)}.ts"), end - length, end)


# -- segments -------------------------------------------------------------------------------


def test_old_segments_go_recent_and_needed_ones_stay() -> None:
    recent = seg("xqc", 60)
    old = seg("xqc", 1000)
    needed = seg("xqc", 2000)
    other_streamer_same_time = seg("amouranth", 2000)
    just_inside = seg("xqc", KEEP - 1)
    windows = [("xqc", NOW - 2015, NOW - 1995), ("trainwreck", NOW - 1000, NOW - 990)]
    doomed = segments_to_delete(
        [recent, old, needed, other_streamer_same_time, just_inside], NOW, KEEP, windows
    )
    assert doomed == [old.path, other_streamer_same_time.path]


def test_window_overlap_is_half_open_plus_slack() -> None:
    # segment [100, 110); window [110, 130): adjacent, needed only thanks to slack
    assert is_needed("xqc", 100, 110, [("xqc", 110, 130)])
    assert not is_needed("xqc", 100, 110, [("xqc", 110, 130)], slack_s=0)
    assert is_needed("XQC", 100, 110, [("xqc", 105, 106)], slack_s=0)  # slugs are caseless
    assert not is_needed("xqc", 100, 110, [("other", 100, 110)])
    # the window keeps exactly the segments it spans, per streamer
    segs = [seg("xqc", 3000 - i * 10) for i in range(10)]  # ends at NOW-3000 .. NOW-2910
    window = ("xqc", NOW - 2975, NOW - 2945)
    doomed = segments_to_delete(segs, NOW, KEEP, [window], slack_s=0)
    kept = {s.path for s in segs} - set(doomed)
    assert kept == {s.path for s in segs if s.start_t < window[2] and s.end_t > window[1]}
    assert len(kept) == 4


def test_nothing_open_nothing_old() -> None:
    assert segments_to_delete([seg("a", 10), seg("b", 100)], NOW, KEEP, []) == []
    assert segments_to_delete([], NOW, KEEP, [("a", 0, 1)]) == []


def make_tree(root: Path) -> dict[str, Path]:
    files = {
        "old": root / "xqc" / "best" / "r1_00001.ts",
        "new": root / "xqc" / "480p" / "r1_00002.ts",
        "other": root / "amouranth" / "best" / "r2_00001.ts",
        "not_ts": root / "xqc" / "best" / "notes.txt",
        "too_shallow": root / "stray.ts",
    }
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 1000)
    mtimes = {"old": NOW - 5000, "new": NOW - 5, "other": NOW - 4000}
    for name, path in files.items():
        t = mtimes.get(name, NOW - 9000)
        os.utime(path, (t, t))
    (root / "empty" / "best").mkdir(parents=True)
    return files


def test_scan_lists_segments_by_mtime(tmp_path: Path) -> None:
    files = make_tree(tmp_path)
    found = scan_segments(tmp_path, segment_s=10)
    assert [(s.streamer, s.path) for s in found] == [
        ("xqc", files["old"]),
        ("amouranth", files["other"]),
        ("xqc", files["new"]),
    ]
    assert found[0].end_t == pytest.approx(NOW - 5000)
    assert found[0].start_t == pytest.approx(NOW - 5010)
    doomed = segments_to_delete(found, NOW, KEEP, [("amouranth", NOW - 4020, NOW - 3990)])
    assert doomed == [files["old"]]
    assert scan_segments(tmp_path / "missing") == []


def test_delete_files_counts_and_survives_missing(tmp_path: Path) -> None:
    files = make_tree(tmp_path)
    a_dir = tmp_path / "xqc"  # unlink on a directory fails: an error, not an exception
    report = delete_files([files["old"], str(files["new"]), tmp_path / "gone.ts", a_dir])
    assert report.count == 2 and report.bytes_freed == 2000
    assert report.missing == 1
    assert [p for p, _why in report.errors] == [a_dir]
    assert not files["old"].exists() and files["other"].exists()
    again = delete_files([files["old"]])
    assert (again.count, again.missing, again.errors) == (0, 1, [])
    assert "2 files" in str(report)


def test_delete_files_survives_permission_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "a.ts"
    victim.write_bytes(b"abc")

    def refuse(self: Path, missing_ok: bool = False) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "unlink", refuse)
    report = delete_files([victim, tmp_path / "gone.ts"])
    assert (report.count, report.missing, len(report.errors)) == (0, 1, 1)
    assert "PermissionError" in report.errors[0][1]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_delete_files_survives_real_permission_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    victim = locked / "a.ts"
    victim.write_bytes(b"abc")
    locked.chmod(0o500)
    try:
        report = delete_files([victim])
    finally:
        locked.chmod(0o700)
    assert report.count == 0 and len(report.errors) == 1 and victim.exists()


# -- rejected clips -------------------------------------------------------------------------


@dataclass
class Row:
    status: str
    reviewed_at: str | None
    updated_at: str = "2024-01-01T00:00:00+00:00"
    original_path: str | None = "/clips/a.mp4"
    preview_path: str | None = "/clips/a.preview.mp4"
    thumbnail_path: str | None = "/clips/a.jpg"


def test_rejected_files_only_after_grace() -> None:
    now = datetime(2024, 1, 3, 12, 0, tzinfo=UTC)
    old = Row("rejected", "2024-01-02T11:00:00+00:00", original_path="/clips/old.mp4")
    fresh = Row("rejected", "2024-01-03T11:00:00+00:00", original_path="/clips/fresh.mp4")
    approved = Row("approved", "2024-01-01T00:00:00+00:00", original_path="/clips/keep.mp4")
    no_review = Row("rejected", None, updated_at="2024-01-01T00:00:00", thumbnail_path=None)
    files = rejected_clip_files([old, fresh, approved, no_review], now, grace_h=24)
    assert files == [
        Path("/clips/old.mp4"),
        Path("/clips/a.preview.mp4"),
        Path("/clips/a.jpg"),
        Path("/clips/a.mp4"),
    ]
    assert rejected_expired([old, fresh], "2024-01-03T12:00:00+00:00", 24) == [old]
    assert rejected_expired([fresh], now + timedelta(hours=22), 24) == []
    assert rejected_expired([fresh], now + timedelta(hours=23), 24) == [fresh]  # exactly 24 h
    assert clip_files(Row("rejected", None, original_path=None, preview_path=None)) == [
        Path("/clips/a.jpg")
    ]
    with pytest.raises(ValueError):
        rejected_expired([old], "yesterday", 24)


# -- disk -----------------------------------------------------------------------------------


def test_disk_status_uses_injected_usage(tmp_path: Path) -> None:
    seen: list[Path] = []

    def usage(path: Path) -> tuple[int, int, int]:
        seen.append(path)
        return (10_000 * 1_048_576, 9_000 * 1_048_576, 1_000 * 1_048_576)

    status = disk_status(tmp_path / "not" / "yet", 2048, usage=usage)
    assert status == DiskStatus(free_mb=1000.0, total_mb=10_000.0, low=True)
    assert seen == [tmp_path]  # nearest existing parent
    assert not disk_status(tmp_path, 500, usage=usage).low
    assert disk_status(tmp_path, 1).total_mb > 0  # the real shutil.disk_usage


def test_disk_guard_alerts_once_per_transition() -> None:
    guard = DiskGuard(min_free_mb=1000)  # recovers at 1100
    readings = [5000, 4000, 999, 900, 1050, 999, 1099, 1100, 1200, 800]
    got = {i: guard.update(r) for i, r in enumerate(readings)}
    assert {i: g for i, g in got.items() if g} == {2: "became_low", 7: "recovered", 9: "became_low"}
    assert guard.low
    assert guard.update(DiskStatus(5000, 10_000, False)) == "recovered"


# -- days -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "when", "hours"),
    [
        ("America/New_York", "2024-03-09T15:00", 23),  # spring forward on the 10th
        ("America/New_York", "2024-11-02T23:59", 25),  # fall back on Nov 3rd
        ("Europe/Berlin", "2024-03-30T00:00", 23),  # spring forward on the 31st
        ("Europe/Berlin", "2024-10-26T12:00", 25),  # fall back on the 27th
    ],
)
def test_next_midnight_across_dst(tz: str, when: str, hours: int) -> None:
    now = datetime.fromisoformat(when).replace(tzinfo=ZoneInfo(tz))
    first = next_midnight(now, tz)
    second = next_midnight(first, tz)
    for m in (first, second):
        assert m.tzinfo is not None and (m.hour, m.minute, m.second) == (0, 0, 0)
    assert first > now
    assert first.date() == now.date() + timedelta(days=1)
    # (second - first) in one zone is wall-clock arithmetic (always 24 h): compare in UTC
    assert (second.astimezone(UTC) - first.astimezone(UTC)).total_seconds() == hours * 3600
    assert next_midnight(first - timedelta(microseconds=1), tz) == first


def test_next_midnight_from_naive_utc_and_day_of() -> None:
    assert next_midnight(datetime(2024, 1, 1, 23, 30), "UTC") == datetime(  # noqa: DTZ001
        2024, 1, 2, tzinfo=UTC
    )
    t = datetime(2024, 3, 10, 4, 30, tzinfo=UTC).timestamp()  # 23:30 on the 9th in New York
    assert day_of(t, "America/New_York") == "2024-03-09"
    assert day_of(t, "Europe/Berlin") == "2024-03-10"
    assert day_range_utc("2024-03-10", "America/New_York") == (
        "2024-03-10T05:00:00+00:00",
        "2024-03-11T04:00:00+00:00",
    )


def test_midnight_that_does_not_exist() -> None:
    # America/Santiago springs forward at 24:00 -> 01:00 (2024-09-08 has no 00:00)
    now = datetime(2024, 9, 7, 12, 0, tzinfo=ZoneInfo("America/Santiago"))
    m = next_midnight(now, "America/Santiago")
    assert m > now and m.date().isoformat() == "2024-09-08" and m.hour == 1


# -- daily summary --------------------------------------------------------------------------


@dataclass
class ClipDay:
    guild_id: int
    streamer: str
    status: str
    trigger: str


def test_tally_and_summary_text() -> None:
    rows = [
        ClipDay(1, "xqc", "approved", "chat_velocity"),
        ClipDay(1, "xqc", "approved", "super_combo"),
        ClipDay(1, "xqc", "rejected", "chat_velocity"),
        ClipDay(1, "xqc", "deleted", "keyword"),
        ClipDay(1, "xqc", "posted", "chat_velocity"),
        ClipDay(1, "xqc", "failed", "keyword"),
        ClipDay(1, "amouranth", "ready", "emote_flood"),
        ClipDay(2, "xqc", "approved", "keyword"),
    ]
    by_guild = tally(rows)
    assert set(by_guild) == {1, 2}
    xqc, amou = by_guild[1]
    assert (xqc.streamer, xqc.made, xqc.approved, xqc.rejected, xqc.pending, xqc.failed) == (
        "xqc",
        5,
        2,
        2,
        1,
        1,
    )
    assert xqc.top_trigger == ("chat_velocity", 3)
    assert (amou.made, amou.pending) == (1, 1)
    text = daily_summary("2024-03-10", by_guild[1], tz="Europe/Berlin")
    assert text.splitlines() == [
        "**Daily clip summary for 2024-03-10** (Europe/Berlin)",
        "• **xqc**: 5 clips: 2 approved, 2 rejected, 1 pending, 1 failed;"
        " top trigger chat_velocity (3)",
        "• **amouranth**: 1 clip: 0 approved, 0 rejected, 1 pending; top trigger emote_flood (1)",
        "Total: 6 clips, 2 approved.",
    ]
    assert "No clips today." in daily_summary("2024-03-10", [])
    assert "No clips today." in daily_summary("2024-03-10", [StreamerDay("idle")])


def test_summary_respects_discord_limit() -> None:
    many = [StreamerDay(f"streamer{i:03d}", made=3, approved=1) for i in range(200)]
    text = daily_summary("2024-03-10", many)
    assert len(text) <= 2000
    assert "more streamers" in text and text.endswith("Total: 600 clips, 200 approved.")
