"""Clip cut time: a 45 s 1080p60 clip from 10 s segments, next to a bare ffmpeg copy remux.

    python bench/clip_cut.py [--runs 5] [--tiny]

Builds (once, cached) 60 s of 1080p60 + 480p recorded exactly as the Recorder writes it: an
8 s ultrafast loop (8 Mb/s CBR, 2 s keyframes) made continuous by the fake HLS server's
timestamp rewriting, piped through the Recorder's ffmpeg segmenter flags into 10 s files.

Prints, as medians over --runs in the same run:
- the original cut (Clipper: keyframe lookup + concat + copy + faststart + probe) and a bare
  ``ffmpeg -f concat -i <same files> -c copy out.mp4``, and their ratio (target <= 1.5x,
  <= 0.5 s);
- the same window's files ready (original + preview copy of 480p under 10 MiB + thumbnail)
  once its segments are on disk: the cut part of moment -> clip. The wait for the video to
  reach the disk (HLS delivery; the recorder's open segment) is not in it: bench/moment_to_post.py
  measures the whole.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.media.clipper import Clipper, Window
from engine.media.ffmpeg_bin import ffmpeg_exe
from engine.media.segments import Segment, SegmentIndex, parse_segment_csv
from tests.fakes.hls_stream import FakeHLS, MediaSpec, Rendition, encode_media

CACHE = Path(tempfile.gettempdir()) / "kick_clip_bench"
T0 = 1_800_000_000.0
FULL = MediaSpec(
    loop_s=8,
    fps=60,
    renditions=(
        Rendition("1080p60", 1920, 1080, 8000, 160, cbr=True),
        Rendition("480p", 854, 480, 1200, 96, cbr=True),
    ),
)
TINY = MediaSpec(
    loop_s=8,
    fps=30,
    renditions=(Rendition("360p", 640, 360, 600), Rendition("180p", 320, 180, 150)),
)


def build_segments(spec: MediaSpec, seconds: int, segment_s: int = 10) -> SegmentIndex:
    """Recorder-identical 10 s segments of ``seconds`` of the looped stream (cached)."""
    media = encode_media(spec, CACHE / "media")
    out = CACHE / f"segments-{spec.key()}-{seconds}-{segment_s}"
    names = ["best", *[r.name for r in spec.renditions[1:]]]
    index = SegmentIndex(names)
    fake = FakeHLS(media)  # not started: only its segment rewriting is used
    try:
        for name, r in zip(names, spec.renditions, strict=True):
            d = out / name
            listing = d / "list.csv"
            if not listing.exists():
                shutil.rmtree(d, ignore_errors=True)
                d.mkdir(parents=True)
                stream = b"".join(fake.segment(r.name, k) for k in range(seconds // spec.seg_s))
                subprocess.run(
                    [ffmpeg_exe(), "-v", "error", "-i", "pipe:0", "-map", "0:v:0", "-map",
                     "0:a:0", "-c", "copy", "-f", "segment", "-segment_format", "mpegts",
                     "-segment_time", str(segment_s), "-reset_timestamps", "1",
                     "-segment_list", str(listing), "-segment_list_type", "csv",
                     str(d / "seg_%05d.ts")],
                    input=stream, check=True, timeout=300,
                )  # fmt: skip
            for line in listing.read_text().splitlines():
                entry = parse_segment_csv(line)
                if entry:
                    f, s, e = entry
                    p = d / f
                    index.add(Segment(p, T0 + s, T0 + e, name, size=p.stat().st_size))
    finally:
        fake.stop()
    return index


def bare_remux(segs: list[Segment], dest: Path) -> float:
    listing = dest.with_suffix(".txt")
    listing.write_text("".join(f"file '{s.path}'\n" for s in segs))
    t = time.perf_counter()
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
         "-map", "0:v:0", "-map", "0:a:0", "-c", "copy", str(dest)],
        check=True, timeout=120,
    )  # fmt: skip
    return time.perf_counter() - t


async def measure(index: SegmentIndex, runs: int, length: float, limit: int) -> dict[str, float]:
    start = T0 + 7.3  # mid-GOP, mid-segment: the realistic case
    w = Window(start, start + length, start + 20)
    segs = index.segments_for(w.clip_start, w.clip_end, "best")
    cut, bare, full = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        copy_only = Clipper(index, out / "a", thumbnail=False, renditions=("best",))
        everything = Clipper(index, out / "b")
        for i in range(runs):
            t = time.perf_counter()
            files = await copy_only.cut(w, 1 << 40, name=f"o{i}")
            cut.append(time.perf_counter() - t)
            bare.append(bare_remux(segs, out / f"bare{i}.mp4"))
            t = time.perf_counter()
            ready = await everything.cut(w, limit, name=f"f{i}")
            full.append(time.perf_counter() - t)
            if i == 0:
                size = files.original.stat().st_size
                assert ready.preview is not None
                print(f"clip {files.duration:.2f} s, {size / 1e6:.1f} MB; preview "
                      f"{ready.preview_rendition} {ready.preview.stat().st_size / 1e6:.1f} MB, "
                      f"transcoded={ready.preview_transcoded}")  # fmt: skip
    return {
        "cut_s": statistics.median(cut),
        "bare_s": statistics.median(bare),
        "ratio": statistics.median(cut) / statistics.median(bare),
        "ready_s": statistics.median(full),
    }


def run(tiny: bool = False, runs: int = 5) -> dict[str, float]:
    spec = TINY if tiny else FULL
    t = time.perf_counter()
    index = build_segments(spec, 16 if tiny else 60)
    print(f"segments ready in {time.perf_counter() - t:.1f} s (cached after the first run)")
    length = 8.0 if tiny else 45.0
    return asyncio.run(measure(index, runs, length, 10 * 1024 * 1024))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tiny", action="store_true", help="360p30, 8 s clip (smoke test)")
    args = ap.parse_args()
    r = run(args.tiny, args.runs)
    what = "8 s 360p30" if args.tiny else "45 s 1080p60"
    print(f"original cut of a {what} clip (median of {args.runs}): {r['cut_s']:.3f} s")
    print(f"bare ffmpeg -c copy remux of the same segments:        {r['bare_s']:.3f} s")
    ok = r["ratio"] <= 1.5 and r["cut_s"] <= 0.5
    print(f"ratio: {r['ratio']:.2f}x  (target <= 1.5x and <= 0.5 s: {'met' if ok else 'NOT met'})")
    print(f"segments on disk -> original + preview + thumbnail ready (the cut, no waiting): "
          f"{r['ready_s']:.3f} s")  # fmt: skip


if __name__ == "__main__":
    main()
