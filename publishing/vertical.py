"""The 9:16 filter graphs (ffmpeg-python), one per layout; pure: no process is run here.

Every layout ends at exactly 1080x1920, square pixels, yuv420p (what phones and YouTube Shorts
expect). `center` crops before scaling (scaling a whole 1080p frame up to 1920 high first would
cost ~3x the pixels); `fit` blurs a 270x480 copy and scales it up, because a blur at full size
is the most expensive filter here and the background is meant to be soft anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from publishing.model import Layout, Rect

W, H = 1080, 1920
BLUR_W, BLUR_H = 270, 480


@dataclass(frozen=True, slots=True)
class Title:
    textfile: Path  # drawtext reads the text from a file: no escaping of what a reviewer typed
    font: Path
    size: int
    position: str  # top | bottom


@dataclass(frozen=True, slots=True)
class Encode:
    preset: str = "veryfast"
    crf: int = 21


def _fill(node: Any, w: int, h: int) -> Any:
    """Scale to cover w x h and crop the overflow (fills the area, keeps the aspect)."""
    return node.filter("scale", w, h, force_original_aspect_ratio="increase").filter("crop", w, h)


def _crop(node: Any, rect: Rect, width: int, height: int) -> Any:
    x, y, w, h = rect.pixels(width, height)
    return node.filter("crop", w, h, x, y)


def middle(width: int, height: int) -> Rect:
    """The widest 9:16 part of the frame, centred."""
    cw = min(width, height * 9 / 16)
    ch = min(height, width * 16 / 9)
    return Rect((1 - cw / width) / 2, (1 - ch / height) / 2, cw / width, ch / height)


def video_graph(src: Any, layout: Layout, width: int, height: int) -> Any:
    """The 1080x1920 video of `layout` from the source video stream `src` (width x height)."""
    if layout.kind == "center":
        out = _fill(_crop(src, layout.crop or middle(width, height), width, height), W, H)
    elif layout.kind == "split":
        assert layout.facecam is not None and layout.gameplay is not None
        parts = src.filter_multi_output("split")
        top = _fill(_crop(parts[0], layout.facecam, width, height), W, H // 2)
        bottom = _fill(_crop(parts[1], layout.gameplay, width, height), W, H // 2)
        out = ffmpeg.filter([top, bottom], "vstack")
    else:  # fit
        parts = src.filter_multi_output("split")
        back = _fill(parts[0], BLUR_W, BLUR_H).filter("boxblur", 8, 2).filter("scale", W, H)
        front = parts[1].filter(
            "scale", W, H, force_original_aspect_ratio="decrease", force_divisible_by=2
        )
        out = back.overlay(front, x="(W-w)/2", y="(H-h)/2")
    return out.filter("setsar", 1)


def with_title(node: Any, title: Title | None) -> Any:
    if title is None:
        return node
    y = "h*0.06" if title.position == "top" else "h*0.94-text_h"
    return node.drawtext(
        textfile=str(title.textfile),
        fontfile=str(title.font),
        fontsize=title.size,
        fontcolor="white",
        borderw=max(2, title.size // 14),
        bordercolor="black",
        line_spacing=title.size // 5,
        x="(w-text_w)/2",
        y=y,
        expansion="none",
    )


def render_command(
    src: Path,
    dest: Path,
    layout: Layout,
    width: int,
    height: int,
    *,
    has_audio: bool,
    duration: float,
    title: Title | None = None,
    encode: Encode = Encode(),
) -> Any:
    """The ffmpeg-python command of a whole clip: H.264 high + AAC, faststart mp4."""
    inp = ffmpeg.input(str(src))
    video = with_title(video_graph(inp.video, layout, width, height), title).filter(
        "format", "yuv420p"
    )
    audio = (
        inp.audio
        if has_audio
        else ffmpeg.input("anullsrc=r=48000:cl=stereo", f="lavfi", t=f"{duration:.3f}").audio
    )
    return ffmpeg.output(
        video,
        audio,
        str(dest),
        vcodec="libx264",
        preset=encode.preset,
        crf=encode.crf,
        **{"profile:v": "high"},
        acodec="aac",
        audio_bitrate="160k",
        ar=48000,
        movflags="+faststart",
        shortest=None,
        f="mp4",
    )


def frame_command(src: Path, dest: Path, layout: Layout, width: int, height: int, at: float) -> Any:
    """One frame of the layout at `at` seconds, as a 540x960 PNG (the /publish layout preview)."""
    inp = ffmpeg.input(str(src), ss=f"{max(0.0, at):.3f}")
    video = video_graph(inp.video, layout, width, height).filter("scale", W // 2, H // 2)
    return ffmpeg.output(video, str(dest), vframes=1, f="image2", vcodec="png")
