"""SegmentIndex, StreamTimeline and the line parsers: pure, no ffmpeg, no processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.media.open_segment import first_name, next_name, open_entry
from engine.media.recorder import quality_args, validate_slug
from engine.media.segments import (
    Gap,
    Segment,
    SegmentIndex,
    StreamTimeline,
    parse_segment_csv,
    parse_streamlink_line,
)

T0 = 1_700_000_000.0


def seg(start: float, end: float, rendition: str = "best", name: str | None = None) -> Segment:
    return Segment(Path(name or f"/nowhere/{rendition}-{start:g}.ts"), T0 + start, T0 + end,
                   rendition, size=1000)  # fmt: skip


def test_segments_for_returns_covering_files_in_order() -> None:
    idx = SegmentIndex(["best"])
    for i in range(5):
        assert idx.add(seg(i * 10, (i + 1) * 10)) is None
    got = idx.segments_for(T0 + 15, T0 + 31, "best")
    assert [s.start_t - T0 for s in got] == [10, 20, 30]
    assert idx.segments_for(T0 + 20, T0 + 30, "best")[0].start_t == T0 + 20
    assert len(idx.segments_for(T0 + 20, T0 + 30, "best")) == 1  # end is exclusive
    assert idx.segments_for(T0 - 50, T0 - 1, "best") == []
    assert idx.segments_for(T0 + 60, T0 + 70, "best") == []
    assert idx.segments_for(T0 + 5, T0 + 6, "other") == []


def test_has_through_and_coverage() -> None:
    idx = SegmentIndex(["best", "480p"])
    assert not idx.has_through(T0, "best")
    idx.add(seg(0, 10))
    idx.add(seg(10, 20))
    idx.add(seg(0, 10, "480p"))
    assert idx.has_through(T0 + 20, "best")
    assert not idx.has_through(T0 + 20.01, "best")
    assert not idx.has_through(T0 + 15, "480p")
    assert idx.covered_from("best") == T0
    assert idx.covered_until("480p") == T0 + 10
    assert len(idx) == 3


def test_gap_is_noted_between_runs() -> None:
    idx = SegmentIndex()
    idx.add(seg(0, 10))
    gap = idx.add(seg(14, 24))
    assert gap == Gap("best", T0 + 10, T0 + 14)
    assert idx.gaps("best") == [gap]
    assert idx.gaps("best", T0 + 11, T0 + 12) == [gap]
    assert idx.gaps("best", T0 + 15, T0 + 20) == []
    # a window spanning the gap gets both sides
    assert len(idx.segments_for(T0 + 5, T0 + 20, "best")) == 2
    # tiny jitter is not a gap
    assert idx.add(seg(24.3, 30)) is None


def test_overlapping_restart_trims_the_older_file() -> None:
    """A restarted run rejoins the stream behind the live edge: the new file wins, the old one
    is cut back (outpoint) so a clip never shows the same seconds twice."""
    idx = SegmentIndex()
    idx.add(seg(0, 10))
    idx.add(seg(10, 17))  # partial file of a killed ffmpeg
    idx.add(seg(12, 22))  # new run starts 5 s earlier than the old one ended
    entries = idx.entries("best")
    assert [(s.start_t - T0, s.end_t - T0, s.trimmed) for s in entries] == [
        (0, 10, False),
        (10, 12, True),
        (12, 22, False),
    ]
    assert idx.gaps() == []


def test_fully_superseded_entries_become_orphans_and_are_pruned(tmp_path: Path) -> None:
    idx = SegmentIndex()
    files = [tmp_path / f"{i}.ts" for i in range(3)]
    for f in files:
        f.write_bytes(b"x")
    idx.add(seg(0, 4, name=str(files[0])))
    idx.add(seg(4, 8, name=str(files[1])))
    idx.add(seg(3.9, 12, name=str(files[2])))  # covers all of file 1
    assert [s.path for s in idx.entries("best")] == [files[0], files[2]]
    dropped = idx.prune(T0 + 100)
    assert {s.path for s in dropped} == set(files)
    assert not any(f.exists() for f in files)


def test_prune_keeps_what_is_in_use_and_bounds_memory(tmp_path: Path) -> None:
    idx = SegmentIndex(max_entries=50)
    paths = []
    for i in range(60):
        p = tmp_path / f"{i}.ts"
        p.write_bytes(b"x")
        paths.append(p)
        idx.add(seg(i * 10, i * 10 + 10, name=str(p)))
    assert len(idx) == 50  # capped; the 10 oldest wait for prune as orphans
    idx.add_gap(Gap("best", T0 - 100, T0 - 50))
    keep = {paths[12]}
    dropped = idx.prune(T0 + 200, keep=lambda s: s.path in keep)
    assert len(dropped) == 18  # ended before +200 s: 0..18, except 12
    assert paths[12].exists() and not paths[11].exists() and paths[19].exists()
    assert idx.gaps() == []
    assert idx.segments_for(T0 + 120, T0 + 130, "best")[0].path == paths[12]
    assert idx.covered_from("best") == T0 + 120


def test_timeline_maps_output_time_through_program_date_time() -> None:
    tl = StreamTimeline()
    for n in range(100, 106):
        tl.on_queued(n, 2.0, T0 + (n - 100) * 2.0)
    for n in range(100, 106):
        tl.on_written(n, arrived=T0 + 8 + (n - 100) * 2)
    assert tl.has_pdt
    assert tl.wall(0.0) == (T0, "pdt")
    assert tl.wall(5.5) == (T0 + 5.5, "pdt")
    assert tl.known_until == 12.0


def test_timeline_reanchors_on_each_segment_and_skips_holes() -> None:
    """PDT wins over accumulated durations (no drift); a skipped segment moves the output
    timeline by its PDT difference, as the media timestamps jump too."""
    tl = StreamTimeline()
    tl.on_queued(1, 2.0, T0)
    tl.on_queued(2, 2.0, T0 + 2.1)  # PDT says 2.1 s later (encoder clock drift)
    tl.on_queued(4, 2.0, T0 + 6.1)  # segment 3 was lost
    for n in (1, 2, 4):
        tl.on_written(n, arrived=T0 + 10)
    assert tl.wall(2.5)[0] == pytest.approx(T0 + 2.6)
    assert tl.wall(6.5)[0] == pytest.approx(T0 + 6.6)  # segment 4 starts at output 6.0


def test_timeline_counts_only_completed_segments_as_fed() -> None:
    """``Writing segment N`` is logged before N's first byte; only ``Segment N complete`` says
    the pipe holds all of it, so complete_until trails known_until by the segment in flight."""
    tl = StreamTimeline()
    for n in (1, 2, 3):
        tl.on_queued(n, 2.0, T0 + (n - 1) * 2.0)
        tl.on_written(n, arrived=T0 + 8)
    assert tl.complete_until == 0.0
    tl.on_complete(1)
    tl.on_complete(2)
    assert (tl.complete_until, tl.known_until) == (4.0, 6.0)
    tl.on_complete(99)  # not a written segment: ignored
    assert tl.complete_until == 4.0


def test_open_segment_counts_until_its_file_is_listed() -> None:
    idx = SegmentIndex(["best", "480p"])
    idx.add(seg(0, 10))
    growing = seg(10, 13.5, name="/nowhere/run_00001.ts")
    idx.set_open(growing)
    assert growing.growing
    assert idx.open_segment("best") is growing and idx.open_segment("480p") is None
    assert idx.recorded_until("best") == T0 + 13.5
    assert idx.covered_until("best") == T0 + 10  # finished files only, as before
    assert idx.has_through(T0 + 13, "best") and not idx.has_through(T0 + 14, "best")
    assert [s.start_t - T0 for s in idx.segments_for(T0 + 5, T0 + 12, "best")] == [0, 10]
    assert idx.segments_for(T0 + 14, T0 + 20, "best") == []
    # never journaled, counted or pruned as a finished file
    assert [s.start_t - T0 for s in idx.entries("best")] == [0] and len(idx) == 1
    dropped = idx.prune(T0 + 12, delete_files=False)
    assert [s.start_t - T0 for s in dropped] == [0]
    assert idx.open_segment("best") is growing  # the file being written is not prune's
    # the finished file (same path) replaces it; the next file's claim follows
    idx2 = SegmentIndex(["best"])
    idx2.add(seg(0, 10))
    idx2.set_open(seg(10, 13.5, name="/nowhere/run_00001.ts"))
    idx2.add(seg(10, 20, name="/nowhere/run_00001.ts"))
    assert idx2.open_segment("best") is None and idx2.recorded_until("best") == T0 + 20
    assert not idx2.entries("best")[-1].growing
    idx2.set_open(seg(20, 21, name="/nowhere/run_00002.ts"))
    idx2.clear_open("best")  # the run ended
    assert idx2.recorded_until("best") == T0 + 20
    assert len(idx2.segments_for(T0, T0 + 30, "best")) == 2


def test_open_segment_overlapping_the_last_file_is_not_offered() -> None:
    """A restarted run's first file rejoins behind the live edge: until add() trims the older
    entry, cutting from both would show the overlap twice."""
    idx = SegmentIndex(["best"])
    idx.add(seg(0, 10))
    idx.set_open(seg(6, 9, name="/nowhere/run2_00000.ts"))
    assert idx.open_segment("best") is None
    assert idx.recorded_until("best") == T0 + 10
    assert len(idx.segments_for(T0, T0 + 20, "best")) == 1
    idx.set_open(seg(6, 6, name="/nowhere/run2_00000.ts"))  # empty: nothing claimed
    assert idx.open_segment("best") is None
    fresh = SegmentIndex(["best"])
    fresh.set_open(seg(0, 2, name="/nowhere/run_00000.ts"))  # a run's first file
    assert fresh.recorded_until("best") == T0 + 2 and fresh.has_through(T0 + 2, "best")
    assert fresh.covered_until("best") is None and fresh.covered_from("best") is None


def test_open_entry_names_and_claims() -> None:
    assert first_name("1700") == "1700_00000.ts"
    assert next_name("1700_00009.ts") == "1700_00010.ts"
    assert next_name("1700_99999.ts") == "1700_100000.ts"
    assert next_name("odd.ts") is None
    tl = StreamTimeline()
    for n in (1, 2, 3):
        tl.on_queued(n, 2.0, T0 + (n - 1) * 2.0)
        tl.on_written(n, arrived=T0 + 8)
    path = Path("/nowhere/1700_00001.ts")
    assert open_entry(path, 2.0, tl, "best", "1700") is None  # nothing complete past 2.0
    tl.on_complete(1)
    tl.on_complete(2)
    got = open_entry(path, 2.0, tl, "best", "1700")
    assert got is not None
    assert (got.start_t, got.end_t, got.timing) == (T0 + 2.0, T0 + 4.0, "pdt")


def test_timeline_without_pdt_falls_back_to_arrival() -> None:
    tl = StreamTimeline()
    for n, arrived in ((1, 105.0), (2, 105.1), (3, 106.5), (4, 109.0)):
        tl.on_queued(n, 2.0, None)
        tl.on_written(n, arrived)
    # tightest bound: segment 3 ended (output 6.0) when it arrived at 106.5 -> offset 100.5
    assert tl.wall(0.0) == (100.5, "arrival")
    assert StreamTimeline().wall(1.0) is None


def test_parse_streamlink_debug_lines() -> None:
    queued = (
        "[stream.segmented][debug] Queuing HLSSegment(num=5, init=False, discontinuity=False, "
        "duration=2.000, title=None, key=None, byterange=None, "
        "date=2026-11-24T18:13:55.401000Z, map=None, fileext='ts')"
    )
    kind, num, dur, date = parse_streamlink_line(queued)  # type: ignore[misc]
    assert (kind, num, dur) == ("queued", 5, 2.0)
    assert date == pytest.approx(1795544035.401)
    no_date = queued.replace("date=2026-11-24T18:13:55.401000Z", "date=None")
    assert parse_streamlink_line(no_date) == ("queued", 5, 2.0, None)
    assert parse_streamlink_line("[stream.hls][debug] Writing segment 5 to output") == (
        "written", 5, 0.0, None,
    )  # fmt: skip
    # the last byte of segment 5 went into the pipe (what the open segment's claim rests on)
    assert parse_streamlink_line("[stream.hls][debug] Segment 5 complete") == (
        "complete", 5, 0.0, None,
    )  # fmt: skip
    assert parse_streamlink_line("[stream.hls][debug] Segment initialization 5 complete") is None
    assert parse_streamlink_line("[cli][info] Opening stream: 360p (hls)") is None


def test_parse_segment_csv() -> None:
    assert parse_segment_csv("1700_00003.ts,30.021333,40.021333\n") == (
        "1700_00003.ts", 30.021333, 40.021333,
    )  # fmt: skip
    assert parse_segment_csv('"a,b.ts",1,2') == ("a,b.ts", 1.0, 2.0)
    assert parse_segment_csv("garbage") is None
    assert parse_segment_csv("x.ts,a,b") is None


@pytest.mark.parametrize("slug", ["xqc", "a", "some_streamer-1", "a" * 25])
def test_valid_slugs(slug: str) -> None:
    assert validate_slug(slug) == slug


@pytest.mark.parametrize("slug", ["", "A", "a" * 26, "../etc", "x y", "x;rm", "é", "a\n", "a/b"])
def test_invalid_slugs(slug: str) -> None:
    with pytest.raises(ValueError, match="slug"):
        validate_slug(slug)


def test_quality_args_fall_back_to_the_lowest_rendition_at_or_above_360p() -> None:
    assert quality_args("best") == ["best"]
    assert quality_args("480p") == [
        "--stream-sorting-excludes", "<360p", "480p,480p60,worst,worst-unfiltered",
    ]  # fmt: skip
    assert quality_args("720p60")[-1] == "720p60,worst,worst-unfiltered"
    assert quality_args("160p")[:2] == ["--stream-sorting-excludes", "<160p"]
    with pytest.raises(ValueError):
        quality_args("480p;rm -rf")


def test_journal_keeps_the_trimmed_flag_through_compaction(tmp_path: Path) -> None:
    """The scheduler compacts the journal to the index's entries; a restart must still know
    that a file's tail was re-recorded (else the clipper sets no outpoint: seconds twice)."""
    from engine.media.segment_journal import SegmentJournal

    files = [tmp_path / f"{i}.ts" for i in range(3)]
    for f in files:
        f.write_bytes(b"x")
    journal = SegmentJournal(tmp_path)
    live = SegmentIndex(["best"])
    for s in (seg(90, 100, name=str(files[0])), seg(100, 110, name=str(files[1])),
              seg(106, 116, name=str(files[2]))):  # fmt: skip
        live.add(s)
        journal.append(s)
    want = [(s.start_t - T0, s.end_t - T0, s.trimmed) for s in live.entries("best")]
    assert want == [(90, 100, False), (100, 106, True), (106, 116, False)]
    journal.rewrite(live)  # what engine.core.housekeeping does after a prune
    restored = SegmentIndex(["best"])
    assert journal.restore(restored) == 3
    got = [(s.start_t - T0, s.end_t - T0, s.trimmed) for s in restored.entries("best")]
    assert got == want


def test_journal_reads_lines_written_before_the_trimmed_flag(tmp_path: Path) -> None:
    from engine.media.segment_journal import FILE_NAME, SegmentJournal

    f = tmp_path / "a.ts"
    f.write_bytes(b"x")
    old_line = {"path": str(f), "start_t": T0, "end_t": T0 + 10, "rendition": "best",
                "run": "1", "size": 1, "timing": "pdt"}  # fmt: skip
    (tmp_path / FILE_NAME).write_text(json.dumps(old_line) + "\n")
    idx = SegmentIndex(["best"])
    assert SegmentJournal(tmp_path).restore(idx) == 1
    (only,) = idx.entries("best")
    assert (only.start_t, only.end_t, only.trimmed) == (T0, T0 + 10, False)
