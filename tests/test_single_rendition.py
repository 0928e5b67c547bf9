"""A stream without a real small rendition is recorded once (issue 11 item 11).

When "480p" resolves to the very variant "best" is (a one-variant master playlist), a second
streamlink + ffmpeg pair used to download the same bytes. The recorder lists the streams once
(engine/media/renditions.py), records the original only, and the clipper makes the preview from
it: the original itself when it fits the upload limit, else a transcode. Real streamlink and
ffmpeg on the fake HLS serving a single-rendition master; the selection rules on listings.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from engine.media import probe as media_probe
from engine.media.clipper import Clipper, Window
from engine.media.recorder import Recorder
from engine.media.renditions import parse_listing, pick, same_as_original
from tests.fakes.hls_stream import FakeHLS
from tests.fakes.media_fixtures import fake_hls, fake_media  # noqa: F401 - fixtures
from tests.test_recorder import wait_for


def listing(*names: str) -> dict[str, str]:
    out = {n: f"https://cdn/{n}.m3u8" for n in names}
    out["best"], out["worst"] = out[names[0]], out[names[-1]]
    return out


@pytest.mark.parametrize(
    ("names", "merged"),
    [(("720p",), {"480p"}),  # one variant: everything resolves to it
     (("720p", "360p"), set()),  # a real small one (>= 360p)
     (("1080p60", "720p60", "480p"), set()),
     (("720p60", "160p"), {"480p"}),  # the only one >= 360p is the original
     (("1080p60", "720p60"), set())],  # 720p60 is the lowest >= 360p: a smaller stream
)  # fmt: skip
def test_which_preview_renditions_are_the_original(
    names: tuple[str, ...], merged: set[str]
) -> None:
    assert same_as_original(("best", "480p"), listing(*names)) == merged


def test_selection_mirrors_the_quality_arguments() -> None:
    streams = listing("1080p60", "720p60", "480p", "160p")
    assert pick("480p", streams) == streams["480p"]
    assert pick("360p", streams) == streams["480p"]  # the lowest at or above 360p
    assert pick("best", streams) == streams["1080p60"]
    assert pick("240p", listing("720p", "160p")) == "https://cdn/720p.m3u8"
    assert same_as_original(("best",), streams) == set()
    assert same_as_original(("best", "480p"), None) == set()  # no listing: record both
    assert parse_listing(b"not json") is None
    assert parse_listing(b'{"streams": []}') is None
    assert parse_listing('{"streams": {"best": {"url": "u"}, "x": 3}}') == {"best": "u"}


@pytest.mark.slow
async def test_a_single_rendition_stream_is_recorded_once_and_previews_come_from_it(
    fake_hls: FakeHLS,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake_hls.single_rendition("solo")
    fake_hls.go_live("solo")
    fake_hls.go_live("duo")  # the usual two variants, for contrast
    solo = Recorder("solo", fake_hls.url_template(), tmp_path, ("best", "480p"), segment_s=4)
    duo = Recorder("duo", fake_hls.url_template(), tmp_path, ("best", "480p"), segment_s=4)
    await asyncio.gather(solo.start(), duo.start())
    try:
        async with asyncio.timeout(30):
            await asyncio.gather(solo.probe.known.wait(), duo.probe.known.wait())
        assert solo.index.same_as_original == {"480p"} and duo.index.same_as_original == set()
        assert "recorded once" in solo.state["480p"]
        assert set(solo.pids()) == {"best"} and len(solo.child_pids()) == 2  # one pair only
        await wait_for(lambda: len(duo.pids()) == 2, 20, "both pipelines of the duo")
        await wait_for(lambda: len(solo.index.entries("best")) >= 3, 40, "three segments")
        assert solo.index.entries("480p") == []
    finally:
        await asyncio.gather(solo.stop(), duo.stop())
    t0 = solo.index.covered_from("best")
    assert t0 is not None
    clipper = Clipper(solo.index, tmp_path / "clips", thumbnail=False)
    assert clipper.renditions == ("best",)  # nothing else is waited for
    window = Window(t0 + 1.0, t0 + 7.0, t0 + 3.0)
    started = time.monotonic()
    fits = await clipper.cut(window, 50 * 1024 * 1024, name="fits")
    assert fits.preview == fits.original and fits.preview_rendition == "best"
    small = await clipper.cut(window, 300_000, name="small")
    assert small.preview is not None and small.preview_transcoded
    assert small.preview_rendition == "best"
    info = media_probe.probe(small.preview)
    assert 0 < info.size <= 300_000 and info.duration == pytest.approx(6.0, abs=0.3)
    assert time.monotonic() - started < clipper.preview_wait_s  # never waited for a 480p


@pytest.mark.slow
async def test_watch_says_a_stream_is_recorded_once(
    fake_hls: FakeHLS,  # noqa: F811
    tmp_path: Path,
) -> None:
    """/watch of a live single-rendition stream, through the real bot: the answer says it."""
    from tests.bot_harness import running_harness

    fake_hls.single_rendition("solo")
    fake_hls.go_live("solo")
    fake_hls.go_live("duo")
    async with running_harness(tmp_path, video=fake_hls) as h:
        await h.setup_review()
        h.kick.add_channel("solo", live=True, viewers=10)
        h.kick.add_channel("duo", live=True, viewers=10)
        solo = await h.answer(h.cast.reviewer, "watch", {"streamer": "solo"})
        assert "Now watching `solo`" in solo.content, solo.content
        assert "recorded once" in solo.content and "one quality only" in solo.content
        duo = await h.answer(h.cast.reviewer, "watch", {"streamer": "duo"})
        assert "Now watching `duo`" in duo.content and "recorded once" not in duo.content
        feed = h.services.hub.feeds["solo"]
        assert set(feed.recorder.pids()) == {"best"}  # type: ignore[attr-defined]


async def test_a_listing_that_cannot_run_records_every_rendition(tmp_path: Path) -> None:
    from engine.media.renditions import RenditionProbe
    from engine.media.segments import SegmentIndex

    index = SegmentIndex(("best", "480p"))
    probe = RenditionProbe("x", [str(tmp_path / "no-such-streamlink")], "hls://x", [], index,
                           ("best", "480p"))  # fmt: skip
    assert not await probe.same_as_original("480p", asyncio.Event())
    assert probe.known.is_set() and index.same_as_original == set()
