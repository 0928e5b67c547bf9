"""A short upstream playlist stall is ridden out by the same streamlink run (issue 11 item 12).

streamlink ends a live HLS run when no new segment was queued for ``queue deadline x target
duration`` (its default 3 x 2 s on Kick = 6 s), which made every short origin hiccup a restart
and a restart gap. The recorder sets ``--stream-segmented-queue-deadline`` (recording.
queue_deadline, 10 = 20 s): real streamlink and ffmpeg on the fake HLS, stalled for 9 s.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.media.recorder import Recorder
from engine.media.recorder_cmd import streamlink_argv
from tests.fakes.hls_stream import FakeHLS
from tests.fakes.media_fixtures import fake_hls, fake_media  # noqa: F401 - fixtures
from tests.test_recorder import wait_for

pytestmark = pytest.mark.slow
STALL_S = 9.0  # longer than streamlink's default deadline (6 s here), shorter than ours (20 s)


def test_the_queue_deadline_reaches_streamlink() -> None:
    argv = streamlink_argv(["streamlink"], "hls://x", "best", live_edge=3, stream_timeout_s=20)
    i = argv.index("--stream-segmented-queue-deadline")
    assert argv[i + 1] == "10"
    argv = streamlink_argv(
        ["streamlink"], "hls://x", "best", live_edge=3, stream_timeout_s=20, queue_deadline=4.5
    )
    assert argv[argv.index("--stream-segmented-queue-deadline") + 1] == "4.5"


async def test_a_short_playlist_stall_is_one_run_without_a_restart_gap(
    fake_hls: FakeHLS,  # noqa: F811
    tmp_path: Path,
) -> None:
    slug = "hiccup"
    fake_hls.go_live(slug)
    rec = Recorder(slug, fake_hls.url_template(), tmp_path, ("best",), segment_s=4,
                   backoff_initial_s=0.2)  # fmt: skip
    await rec.start()
    try:
        await wait_for(lambda: len(rec.index.entries("best")) >= 2, 30, "two segments")
        before = set(rec.child_pids())
        fake_hls.stall(slug)
        stalled = time.monotonic()
        await wait_for(lambda: time.monotonic() - stalled >= STALL_S, STALL_S + 5, "the stall")
        assert set(rec.child_pids()) == before, "the run ended during the stall"
        fake_hls.unstall(slug)
        back = time.time()
        await wait_for(lambda: (rec.index.covered_until("best") or 0) > back + 4, 40, "recording")
        after = set(rec.child_pids())
    finally:
        await rec.stop()
    assert rec.restarts["best"] == 0, rec.last_error
    assert after == before  # the same streamlink and ffmpeg all along
    assert len({s.run for s in rec.index.entries("best")}) == 1
