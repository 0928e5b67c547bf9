"""Facts about a media file, read with PyAV (the imageio-ffmpeg wheel carries no ffprobe).

Used by the Recorder (duration of a segment whose ffmpeg was killed mid-file), the Clipper
(where a cut starts: :func:`cut_head`), the bot (what it is about to upload) and the tests (is
the clip what we promised). Everything here is synchronous and file-bound; from async code call
it through ``asyncio.to_thread``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image


@dataclass(frozen=True, slots=True)
class MediaInfo:
    path: Path
    format: str
    size: int
    duration: float | None  # container duration, seconds (edit lists applied for MP4)
    start_time: float | None  # container start time, seconds
    has_video: bool
    has_audio: bool
    video_codec: str | None
    audio_codec: str | None
    width: int | None
    height: int | None
    fps: float | None
    bit_rate: int | None


def probe(path: str | Path) -> MediaInfo:
    """Container and stream facts. An unreadable file raises ``av.error.FFmpegError``, which is
    *not* an OSError in general (``InvalidDataError`` is a ValueError; only errno-style ones such
    as ``av.error.FileNotFoundError`` are OSErrors too): callers catch FFmpegError explicitly."""
    p = Path(path)
    with av.open(str(p)) as c:
        v = c.streams.video[0] if c.streams.video else None
        a = c.streams.audio[0] if c.streams.audio else None
        fps = float(v.average_rate) if v is not None and v.average_rate else None
        return MediaInfo(
            path=p,
            format=c.format.name,
            size=p.stat().st_size,
            duration=c.duration / av.time_base if c.duration is not None else None,
            start_time=c.start_time / av.time_base if c.start_time is not None else None,
            has_video=v is not None,
            has_audio=a is not None,
            video_codec=v.codec_context.name if v is not None else None,
            audio_codec=a.codec_context.name if a is not None else None,
            width=v.codec_context.width if v is not None else None,
            height=v.codec_context.height if v is not None else None,
            fps=fps,
            bit_rate=c.bit_rate or None,
        )


def packet_span(path: str | Path) -> tuple[float, float] | None:
    """(first timestamp, last timestamp + its duration) over all packets, in seconds, by reading
    every packet: exact for a truncated MPEG-TS file, where the container duration is a guess."""
    lo: float | None = None
    hi: float | None = None
    try:
        with av.open(str(path)) as c:
            for pkt in c.demux():
                ts = pkt.pts if pkt.pts is not None else pkt.dts
                if ts is None or pkt.time_base is None:
                    continue
                start = float(ts * pkt.time_base)
                end = start + float((pkt.duration or 0) * pkt.time_base)
                lo = start if lo is None else min(lo, start)
                hi = end if hi is None else max(hi, end)
    except (av.error.FFmpegError, OSError):
        if lo is None:
            return None
    if lo is None or hi is None:
        return None
    return lo, hi


def flushed_span(path: str | Path) -> tuple[float, float] | None:
    """(first timestamp, how far every stream is complete) of an MPEG-TS file ffmpeg may still
    be writing, in seconds on the file's clock. A stream is complete up to the *decoding* time
    of its last packet, exclusive: the demuxer hands out a file's last PES whole or torn
    (nothing ends it but EOF), so that packet is never counted, and concat's ``outpoint``
    (which compares decoding times) at or before it leaves it out of a cut. The minimum over
    the streams: the muxer interleaves them, one runs ahead of the other. None when nothing
    is readable yet; (lo, lo) while a stream has no packet."""
    lo: float | None = None
    last: dict[int, float] = {}
    media: set[int] = set()
    try:
        with av.open(str(path)) as c:
            media = {s.index for s in (*c.streams.video, *c.streams.audio)}
            for pkt in c.demux():
                if pkt.time_base is None or pkt.size == 0:
                    continue
                pts = pkt.pts if pkt.pts is not None else pkt.dts
                dts = pkt.dts if pkt.dts is not None else pkt.pts
                if pts is None or dts is None:
                    continue
                start = float(pts * pkt.time_base)
                lo = start if lo is None else min(lo, start)
                i = pkt.stream.index
                last[i] = max(float(dts * pkt.time_base), last.get(i, float("-inf")))
    except (av.error.FFmpegError, OSError):
        pass  # what was read before the damage stands
    if lo is None or not last:
        return None
    if media - last.keys():
        return lo, lo  # a stream with no packet yet: nothing is complete
    return lo, max(lo, min(last.values()))


def lowest_at_least(paths: list[Path], height: int) -> int | None:
    """Which of ``paths`` to transcode from: the lowest video at least ``height`` lines high
    (1080p60 costs 3-5x 480p to decode), else the highest; None when none is readable."""
    sized = []
    for i, path in enumerate(paths):
        try:
            sized.append(((probe(path).height or 0), i))
        except (OSError, av.error.FFmpegError):
            continue
    if not sized:
        return None
    fit = [x for x in sized if x[0] >= height]
    return min(fit)[1] if fit else max(sized)[1]


def _frames(path: str | Path, seek: float | None) -> Any:
    c = av.open(str(path))
    try:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        if seek:
            c.seek(int(seek / stream.time_base) if stream.time_base else 0, stream=stream)
        for frame in c.decode(stream):
            if seek is None or frame.time is None or frame.time >= seek - 1e-3:
                yield frame
    finally:
        c.close()


def first_frame(path: str | Path, seek: float | None = None) -> Image.Image:
    """The first presented video frame (at or after ``seek`` seconds of stream time) as an RGB
    image. MP4 edit lists are honoured, so this is what a player shows first."""
    for frame in _frames(path, seek):
        return frame.to_image()
    raise ValueError(f"{path}: no video frame")


def first_frame_gray(path: str | Path, seek: float | None = None) -> np.ndarray:
    """Like :func:`first_frame`, as a 2-D uint8 luma array (for machine-read markers)."""
    for frame in _frames(path, seek):
        return frame.to_ndarray(format="gray")
    raise ValueError(f"{path}: no video frame")


def video_frame_times(path: str | Path) -> list[tuple[float, bool]]:
    """(presentation time, is keyframe) of every video packet, in decode order."""
    out = []
    with av.open(str(path)) as c:
        for pkt in c.demux(c.streams.video[0]):
            if pkt.pts is not None and pkt.time_base is not None:
                out.append((float(pkt.pts * pkt.time_base), bool(pkt.is_keyframe)))
    return out


def top_level_atoms(path: str | Path) -> list[str]:
    """MP4 top-level box types in file order (``moov`` before ``mdat`` = faststart)."""
    names = []
    with open(path, "rb") as f:
        while True:
            head = f.read(8)
            if len(head) < 8:
                break
            size = int.from_bytes(head[:4], "big")
            kind = head[4:8].decode("latin-1")
            names.append(kind)
            if size == 1:
                size = int.from_bytes(f.read(8), "big")
                f.seek(size - 16, 1)
            elif size == 0:
                break
            else:
                f.seek(size - 8, 1)
    return names


def is_faststart(path: str | Path) -> bool:
    """True when the index (moov) precedes the media data, so playback starts while loading."""
    atoms = top_level_atoms(path)
    return "moov" in atoms and "mdat" in atoms and atoms.index("moov") < atoms.index("mdat")


def keyframe_at_or_before(path: str | Path, offset: float) -> tuple[float, float, int]:
    """(file start time, time of the last video keyframe at or before ``start + offset``, its
    byte position), seconds on the file's own clock. Reads packets only (no decoding) and
    stops past the target: a few ms for a 10 s segment.

    Clips use this instead of ffmpeg's ``-ss`` input seek, which on MPEG-TS can land on the
    keyframe *after* the target when the right one is the file's first packet.
    """
    with av.open(str(path)) as c:
        start = c.start_time / av.time_base if c.start_time is not None else 0.0
        if not c.streams.video:
            return start, start, 0
        v = c.streams.video[0]
        target = start + offset
        best: tuple[float, int] | None = None
        for pkt in c.demux(v):
            if pkt.pts is None or pkt.time_base is None:
                continue
            t = float(pkt.pts * pkt.time_base)
            if t > target + 1e-3:
                break
            if pkt.is_keyframe and pkt.pos is not None and pkt.pos >= 0:
                best = (t, pkt.pos)
    if best is None:
        return start, start, 0
    return start, best[0], best[1]


# --- where a cut starts ------------------------------------------------------------------

_TS = 188


@dataclass(frozen=True, slots=True)
class CutHead:
    """Where a cut starts reading: ``path`` begins at the last keyframe at or before the target,
    ``residual`` seconds before it on the container clock (what concat and a multi-stream
    input start from), ``video_residual`` on the video stream's clock (what ffmpeg starts a
    video-only output from). ``outpoint``: where a trimmed file's coverage ends."""

    path: Path
    residual: float
    video_residual: float
    outpoint: float | None


def cut_head(
    path: Path, offset: float, scratch: Path, trimmed_duration: float | None = None
) -> CutHead:
    """Where a cut of the MPEG-TS ``path`` starting ``offset`` s in should read from. When the
    last keyframe at or before it is not the file's first, the file from that keyframe on is
    copied to ``scratch`` (behind its PAT/PMT packets): the cut then neither seeks (unreliable on
    MPEG-TS) nor carries seconds of hidden preroll. ``trimmed_duration``: the file's coverage
    was cut back to this many seconds (a later run re-recorded its tail)."""
    file_start, key_t, pos = keyframe_at_or_before(path, offset)
    new_start = file_start
    if key_t - file_start > 0.1 and pos > 0:
        write_ts_from(path, pos, scratch)
        path = scratch
        new_start = probe(path).start_time or key_t
    target = file_start + offset
    # concat compares outpoint with the file's raw timestamps
    outpoint = None if trimmed_duration is None else file_start + trimmed_duration
    return CutHead(path, max(0.0, target - new_start), max(0.0, target - key_t), outpoint)


def write_ts_from(src: Path, pos: int, dst: Path) -> None:
    """Copy an MPEG-TS file from byte ``pos`` (a PES start), keeping the leading PSI packets
    (PAT/PMT/SDT) without which a demuxer cannot find the streams."""
    data = src.read_bytes()
    prefix = bytearray()
    for i in range(0, min(pos, _TS * 64), _TS):
        pkt = data[i : i + _TS]
        if len(pkt) < _TS or pkt[0] != 0x47:
            break
        body = 4 + (1 + pkt[4] if pkt[3] & 0x20 else 0)
        if pkt[1] & 0x40 and pkt[body : body + 3] == b"\x00\x00\x01":
            break  # the first PES: media starts here
        prefix += pkt
    dst.write_bytes(bytes(prefix) + data[pos - pos % _TS :])
