"""Scheduler job bodies on real files and a real SQLite store: what goes, what must stay."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chatscript import T0

from engine.config import Config
from engine.core.housekeeping import clean_rejected, clean_segments, keep_window_s
from engine.events import Moment
from engine.media.segments import Segment, SegmentIndex
from storage.clips import ClipRepo
from storage.db import Database


class Feed:
    def __init__(self, index: SegmentIndex, busy: set[Path]) -> None:
        self.index = index
        self.clipper = type("C", (), {"in_use": lambda _self, s: s.path in busy})()


def seg_file(root: Path, slug: str, n: int, start: float) -> Segment:
    path = root / slug / "best" / f"{n:06d}.ts"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * 100)
    os.utime(path, (start + 10, start + 10))
    return Segment(path, start, start + 10, "best", size=100)


@pytest.fixture
async def clips(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = await Database.open(tmp_path / "db.sqlite3")
    yield ClipRepo(db)
    await db.close()


def cfg_with_dirs(config: Config, tmp_path: Path) -> Config:
    import dataclasses

    return dataclasses.replace(
        config,
        storage=dataclasses.replace(config.storage, segments_dir=str(tmp_path / "segments")),
    )


async def test_segment_cleanup_keeps_what_clips_need(
    config: Config, tmp_path: Path, clips: ClipRepo
) -> None:
    cfg = cfg_with_dirs(config, tmp_path)
    root = tmp_path / "segments"
    now = T0 + 3600
    keep = keep_window_s(cfg)
    index = SegmentIndex(["best"])
    segs = [seg_file(root, "xqc", i, T0 + 10 * i) for i in range(360)]
    for s in segs:
        index.add(s)
    # An unfinished clip needs [T0+1000, T0+1045]; a cut is reading segment 5 right now.
    await clips.record_moment(
        1, Moment(T0 + 1020, "xqc", "keyword", ("keyword",), 0.6, T0 + 1000, T0 + 1045, {}, "k", 0)
    )
    busy = {segs[5].path}
    # A leftover from a previous run of another streamer, old by mtime.
    stale = seg_file(root, "gone", 1, T0)
    fresh = seg_file(root, "gone", 2, now - 30)
    report = await clean_segments({"xqc": Feed(index, busy)}, clips, cfg, now)
    left = {s.path for s in index.entries("best")}
    for s in segs:
        needed = (
            s.end_t >= now - keep
            or s.path in busy
            or (s.end_t > T0 + 1000 - 5 and s.start_t < T0 + 1045 + 5)
        )
        assert (s.path in left) == needed, s.path.name
        assert s.path.exists() == needed, s.path.name
    assert not stale.path.exists() and fresh.path.exists()
    assert report.count == 360 - len(left) + 1


async def test_rejected_files_go_after_the_grace(
    config: Config, tmp_path: Path, clips: ClipRepo
) -> None:
    files: dict[str, Path] = {}
    ids: dict[str, int] = {}
    for name in ("old", "new"):
        cid, _ = await clips.record_moment(
            1, Moment(T0, "xqc", "keyword", ("keyword",), 0.6, T0 - 20, T0 + 25, {}, name, 0)
        )
        files[name] = tmp_path / f"{name}.mp4"
        files[name].write_bytes(b"mp4")
        await clips.update(cid, status="rejected", original_path=str(files[name]))
        ids[name] = cid
    now = datetime.now(UTC)
    await clips.update(ids["old"], reviewed_at=(now - timedelta(hours=30)).isoformat())
    await clips.update(ids["new"], reviewed_at=(now - timedelta(hours=2)).isoformat())
    report = await clean_rejected(clips, config, now.timestamp())
    assert report.count == 1
    assert not files["old"].exists() and files["new"].exists()
    old: Any = await clips.get(ids["old"])
    assert old.status == "deleted"


def test_segment_journal_survives_restarts_and_torn_lines(tmp_path: Path) -> None:
    from engine.media.segment_journal import SegmentJournal

    root = tmp_path / "segments"
    j = SegmentJournal(root / "xqc")
    segs = [seg_file(root, "xqc", i, T0 + 10 * i) for i in range(5)]
    for s in segs:
        j.append(s)
    segs[0].path.unlink()  # the scheduler deleted it
    with open(j.path, "a", encoding="utf-8") as f:
        f.write('{"path": "torn')  # the bot died mid-write
    index = SegmentIndex(["best"])
    assert j.restore(index) == 4
    assert [s.path for s in index.entries("best")] == [s.path for s in segs[1:]]
    assert j.path.read_text().count("\n") == 4, "compacted"
    index.prune(T0 + 30, delete_files=False)
    j.rewrite(index)
    again = SegmentIndex(["best"])
    assert j.restore(again) == 3  # segment 1 ended before T0+30; 2, 3 and 4 stay


async def test_rejected_cleanup_loses_to_a_reviewer_who_approves_meanwhile(
    config: Config, tmp_path: Path, clips: ClipRepo
) -> None:
    """The job reads the rejected clips, then a reviewer approves one before the job acts on
    it: that clip stays approved with its files; the other expired one is deleted."""
    files: dict[str, Path] = {}
    ids: dict[str, int] = {}
    old = (datetime.now(UTC) - timedelta(hours=30)).isoformat()
    for name in ("approved_meanwhile", "still_rejected"):
        cid, _ = await clips.record_moment(
            1, Moment(T0, "xqc", "keyword", ("keyword",), 0.6, T0 - 20, T0 + 25, {}, name, 0)
        )
        files[name] = tmp_path / f"{name}.mp4"
        files[name].write_bytes(b"mp4")
        await clips.update(cid, status="rejected", original_path=str(files[name]), reviewed_at=old)
        ids[name] = cid
    read = clips.with_status

    async def read_then_a_reviewer_approves(*statuses: str, **kw: Any) -> list[Any]:
        rows = await read(*statuses, **kw)
        assert await clips.transition(
            ids["approved_meanwhile"], ("rejected",), status="approved", reviewed_by=7
        )
        return rows

    clips.with_status = read_then_a_reviewer_approves  # type: ignore[method-assign]
    report = await clean_rejected(clips, config, datetime.now(UTC).timestamp())
    kept: Any = await clips.get(ids["approved_meanwhile"])
    assert kept.status == "approved" and files["approved_meanwhile"].exists()
    gone: Any = await clips.get(ids["still_rejected"])
    assert gone.status == "deleted" and not files["still_rejected"].exists()
    assert "files removed by the cleanup" in gone.note
    assert report.clip_ids == [ids["still_rejected"]] and report.count == 1
