"""The vertical renders with the real ffmpeg, checked with PyAV; layouts, titles, metadata and
the small pure rules of publishing (rectangles, Shorts, quota day, progress throttle)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from engine.config import Config
from engine.media import probe
from publishing.fonts import FontMissing, find_font, matplotlib_font
from publishing.metadata import build_metadata
from publishing.model import Layout, LayoutError, ProgressThrottle, Rect, next_quota_reset
from publishing.render import render_vertical, vertical_path
from publishing.vertical import frame_command
from tests.publish_support import ROOT, make_source


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("render") / "wide.mp4", seconds=2.0)


LAYOUTS = {
    "center": Layout("center"),
    "split": Layout("split", facecam=Rect.parse("0,0,25,30"), gameplay=Rect.parse("20,0,60,100")),
    "fit": Layout("fit"),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
async def test_every_layout_renders_1080x1920_h264_aac_faststart(
    tmp_path: Path, wide: Path, config: Config, name: str
) -> None:
    original = tmp_path / "xqc-7.mp4"
    original.write_bytes(wide.read_bytes())
    cfg = dataclasses.replace(config.publish, preset="ultrafast")
    done: list[float] = []
    first = await render_vertical(original, LAYOUTS[name], cfg, progress=done.append)
    assert done and done == sorted(done) and done[-1] == pytest.approx(1.0, abs=0.05)
    assert not first.cached and first.path == vertical_path(original, LAYOUTS[name], None)
    info = probe.probe(first.path)
    assert (info.width, info.height) == (1080, 1920)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.duration == pytest.approx(2.0, abs=0.3) and probe.is_faststart(first.path)
    again = await render_vertical(original, LAYOUTS[name], cfg)
    assert again.cached and again.path == first.path  # rendered once, reused
    if name == "split":  # the top half is the facecam: testsrc2's top-left corner scaled up
        frame = probe.first_frame_gray(first.path, 1.0)
        assert frame.shape == (1920, 1080)
        assert abs(float(np.mean(frame[:960])) - float(np.mean(frame[960:]))) > 1.0


async def test_burned_title_draws_text_where_configured(
    tmp_path: Path, wide: Path, config: Config
) -> None:
    original = tmp_path / "xqc-8.mp4"
    original.write_bytes(wide.read_bytes())
    plain_cfg = dataclasses.replace(config.publish, preset="ultrafast")
    titled_cfg = dataclasses.replace(plain_cfg, burn_title=True, title_position="bottom")
    plain = await render_vertical(original, Layout("fit"), plain_cfg, title="NO SHOT: 100% {x}")
    titled = await render_vertical(
        original, Layout("fit"), titled_cfg, title="NO SHOT: 100% {x}", font=find_font("")
    )
    assert plain.path != titled.path  # the title is part of the cache key
    a = probe.first_frame_gray(plain.path, 0.5).astype(int)
    b = probe.first_frame_gray(titled.path, 0.5).astype(int)
    changed = np.abs(a - b) > 40
    assert changed[1500:].sum() > 2000 and changed[:1200].sum() < 50  # text at the bottom only


def test_rectangles_and_layouts_refuse_bad_input() -> None:
    assert Rect.parse("0,0,25,30") == Rect(0, 0, 0.25, 0.3)
    assert Rect.parse("10% 5% 50% 50%").pixels(1920, 1080) == (192, 54, 960, 540)
    for bad, why in [
        ("a,b,c,d", "is not a rectangle"),
        ("0,0,30", "is not a rectangle"),
        ("90,0,30,30", "reaches past"),
        ("0,0,2,50", "at least 5"),
    ]:
        with pytest.raises(LayoutError, match=why):
            Rect.parse(bad)
    with pytest.raises(LayoutError, match="needs both"):
        Layout("split", facecam=Rect.parse("0,0,25,30"))
    with pytest.raises(LayoutError, match="unknown layout"):
        Layout("diagonal")


def _clip(**kw: object) -> SimpleNamespace:
    base = dict(id=5, streamer="xqc", trigger="super_combo", title=None, confidence=0.95)
    return SimpleNamespace(**{**base, **kw})


def test_metadata_templates_shorts_and_youtube_limits(config: Config) -> None:
    yt = config.publish.youtube
    short = build_metadata(_clip(), yt, vertical=True, duration=45)
    assert short.short and short.title == "xqc: super combo #Shorts"
    assert short.description.endswith("#Shorts") and "https://kick.com/xqc" in short.description
    assert short.resource()["status"]["privacyStatus"] == "private"
    wide = build_metadata(_clip(), yt, vertical=False, duration=45)
    assert not wide.short and "#Shorts" not in wide.title + wide.description
    long = build_metadata(_clip(), yt, vertical=True, duration=61)
    assert not long.short
    custom = dataclasses.replace(
        yt, title_template="<b>{streamer}</b> {title} {nope}", tags=("{streamer}", "x" * 600)
    )
    meta = build_metadata(_clip(title="W" * 120), custom, vertical=True, duration=30)
    assert len(meta.title) == 100 and meta.title.startswith("‹b›xqc‹/b› WWW")
    meta = build_metadata(_clip(title="ok"), custom, vertical=True, duration=30)
    assert meta.title == "‹b›xqc‹/b› ok {nope} #Shorts"  # an unknown field stays as typed
    assert meta.tags == ("xqc",)  # a tag past YouTube's 500 characters is dropped


def test_quota_resets_at_midnight_pacific_across_dst() -> None:
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC).timestamp()  # 05:00 PDT
    assert next_quota_reset(summer) == datetime(2026, 7, 2, 7, 0, tzinfo=UTC).timestamp()
    winter = datetime(2026, 1, 15, 9, 30, tzinfo=UTC).timestamp()  # 01:30 PST
    assert next_quota_reset(winter) == datetime(2026, 1, 16, 8, 0, tzinfo=UTC).timestamp()


def test_progress_throttle_every_10_percent_or_5_seconds() -> None:
    t = ProgressThrottle(10, 5)
    shown = [p for p, now in [(1, 0), (4, 1), (11, 2), (12, 8), (13, 8.5), (40, 9), (100, 9.1)]
             if t.due(p, now)]  # fmt: skip
    assert shown == [1, 11, 12, 40, 100]


def test_font_found_or_a_clear_error(tmp_path: Path) -> None:
    bundled = matplotlib_font()
    assert bundled is not None and find_font("") == bundled
    with pytest.raises(FontMissing, match=r"publish\.title_font"):
        find_font(str(tmp_path / "nope.ttf"))


def test_vertical_benchmark_runs_small() -> None:
    """bench/vertical.py keeps working (its figures are printed, never asserted)."""
    proc = subprocess.run(
        [sys.executable, "bench/vertical.py", "--seconds", "1", "--fps", "30", "--preset",
         "ultrafast"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    for label in ("vertical render (publishing):", "bare ffmpeg crop+scale:", "ratio ours/bare:"):
        assert label in proc.stdout


def test_card_lines_for_every_state() -> None:
    from cogs.publish_card import card_line

    def job(state: str, **kw: object) -> SimpleNamespace:
        base = dict(state=state, variant="vertical", progress=0.0, url=None, error=None,
                    not_before=None)  # fmt: skip
        return SimpleNamespace(**{**base, **kw})

    wait = "YouTube's daily upload quota is used up; waiting until it resets at midnight Pacific"
    assert card_line(job("queued")) == "⏳ queued"
    assert card_line(job("queued", error=wait, not_before=1_800_000_000.5)) == (
        f"⏳ {wait} (<t:1800000000:t>, <t:1800000000:R>)"
    )
    assert card_line(job("rendering")) == "🎬 rendering the 9:16 version"
    assert card_line(job("rendering", progress=52.4)) == "🎬 rendering the 9:16 version 52%"
    assert card_line(job("uploading", progress=39.6)) == "⬆️ uploading 40%"
    assert (
        card_line(job("published", url="https://youtu.be/x")) == "✅ published: https://youtu.be/x"
    )
    assert card_line(job("failed", error="boom")) == "⚠️ failed: boom"


async def test_renders_run_at_a_lower_cpu_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    """The 9:16 render yields the cores to the cuts of new clips: ffmpeg runs under `nice`."""
    from engine.media import ffmpeg_job

    seen: list[list[str]] = []

    async def capture(argv: list[str], limit_s: float, **_kw: object) -> tuple[int, list[str]]:
        seen.append(list(argv))
        return 0, []

    monkeypatch.setattr(ffmpeg_job, "run_to_end", capture)
    cmd = frame_command(Path("in.mp4"), Path("out.png"), Layout("fit"), 1920, 1080, 1.0)
    await ffmpeg_job.run_ffmpeg(cmd, "ffmpeg", 10, "test", nice=10)
    await ffmpeg_job.run_ffmpeg(cmd, "ffmpeg", 10, "test")
    assert seen[0][0].endswith("nice") and seen[0][1:4] == ["-n", "10", "ffmpeg"]
    assert seen[1][0] == "ffmpeg"  # the clipper's cuts keep their normal priority
