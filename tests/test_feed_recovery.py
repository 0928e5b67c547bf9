"""A Feed started after a crash keeps what the killed recorder had half-written.

The session folder is built from real recorded segments (the recorded_stream fixture): two files
the journal knows and a third cut short, as ffmpeg leaves it when the bot dies mid-segment.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest

from engine.config import Config
from engine.core.feed import Feed
from engine.kick.api import KickApi
from engine.media import probe as media_probe
from engine.media.segment_journal import SegmentJournal
from engine.media.segments import Segment
from tests.fakes.media_fixtures import Recording

pytestmark = pytest.mark.slow

SLUG = "crashed"


def session(rec: Recording, root: Path, run: str, journaled: int) -> tuple[list[Segment], Path]:
    """``journaled`` whole files of run ``run`` (in the journal) and a truncated next one."""
    out = root / SLUG / "best"
    out.mkdir(parents=True)
    journal = SegmentJournal(root / SLUG)
    segs = []
    src = rec.index.entries("best")
    for i in range(journaled):
        path = out / f"{run}_{i:05d}.ts"
        shutil.copyfile(src[i].path, path)
        seg = dataclasses.replace(src[i], path=path, run=run)
        journal.append(seg)
        segs.append(seg)
    data = src[journaled].path.read_bytes()
    partial = out / f"{run}_{journaled:05d}.ts"
    partial.write_bytes(data[: len(data) // 2 // 188 * 188])
    return segs, partial


async def restart(config: Config, root: Path) -> list[Segment]:
    """What a Feed constructed on ``root`` (as the bot does at start) has indexed."""
    async with KickApi(config.kick) as api:
        f = Feed(SLUG, config, api, segments_dir=root, clips_dir=root / "clips")
        return f.index.entries("best")


async def test_the_file_a_crash_left_unlisted_is_indexed_after_the_last_one(
    config: Config,
    recorded_stream: Recording,
    tmp_path: Path,
) -> None:
    segs, partial = session(recorded_stream, tmp_path, "1700000000000", journaled=2)
    span = media_probe.packet_span(partial)
    assert span is not None
    got = await restart(config, tmp_path)
    assert [s.path for s in got] == [*(s.path for s in segs), partial]
    tail = got[-1]
    assert tail.start_t == segs[-1].end_t and tail.timing == "pdt"
    assert tail.duration == pytest.approx(span[1] - span[0], abs=0.01)
    assert 2.0 < tail.duration < 9.0
    # journaled now: a second restart finds it without probing, and only once
    again = await restart(config, tmp_path)
    assert [(s.path, s.start_t, s.end_t) for s in again] == [
        (s.path, s.start_t, s.end_t) for s in got
    ]


async def test_a_leftover_of_a_run_with_nothing_journaled_is_timed_by_its_mtime(
    config: Config,
    recorded_stream: Recording,
    tmp_path: Path,
) -> None:
    _segs, partial = session(recorded_stream, tmp_path, "1700000000000", journaled=0)
    os.utime(partial, (1_800_000_000.0, 1_800_000_000.0))
    (tail,) = await restart(config, tmp_path)
    assert tail.end_t == pytest.approx(1_800_000_000.0) and tail.timing == "arrival"


async def test_old_unlisted_files_are_left_to_housekeeping(
    config: Config,
    recorded_stream: Recording,
    tmp_path: Path,
) -> None:
    """A file older than the last journaled one (superseded, pruned from the journal) is not a
    crash leftover: indexing it by its mtime would put old seconds in the wrong place."""
    segs, partial = session(recorded_stream, tmp_path, "1700000000000", journaled=2)
    os.utime(partial, (segs[-1].end_t - 100, segs[-1].end_t - 100))
    got = await restart(config, tmp_path)
    assert [s.path for s in got] == [s.path for s in segs]
