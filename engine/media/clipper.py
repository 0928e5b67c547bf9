"""Cuts a clip window out of the recorded segments: original, preview, thumbnail.

The original is a stream copy (no re-encode): the covering MPEG-TS segments go through ffmpeg's
concat demuxer, ``-t`` bounds the length, ``-movflags +faststart`` puts the index first so
Discord plays it inline while loading. A copy cannot begin between keyframes, so the first file
is read from the last keyframe at or before ``clip_start`` and ``-itsoffset -residual`` puts
that preroll before 0, where the MP4 edit list hides it: players (and PyAV) start within a frame
of ``clip_start``. There is deliberately no ``-ss`` input seek: on MPEG-TS (and through concat)
ffmpeg 9 lands on the keyframe *after* the target when the right one is a file's first packet,
and mis-sizes ``-t``; the keyframe is found with PyAV instead (media_probe.cut_head). Nor
``-avoid_negative_ts make_zero``: it would shift the preroll into view.

The preview must fit the guild's upload limit: if the original fits it is the preview; else a
copy cut of the best recorded preview rendition that fits; else a transcode (libx264, bitrate
from the limit and the duration, scaled to 720p or lower, 30 fps) whose size is checked.

A window that spans a recording gap gives a clip of what exists: the pieces are joined (the gap
is skipped, not filled), ``duration`` is the recorded part and ``gaps`` lists what is missing.
Every file is written under a temporary name and renamed when complete (engine/media/ffmpeg_job.py),
so a crash, a dead ffmpeg or a full disk never leaves a half-written file under a final name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import av
import ffmpeg as ffmpeg_lib

from engine.media.cut_plan import plan_cut
from engine.media.ffmpeg_bin import ffmpeg_exe
from engine.media.ffmpeg_job import (
    ClipError,
    file_size,
    height_for,
    io_failure,
    is_disk_full,
    publish,
    remove_stale_scratch,
    run_ffmpeg,
    scratch,
)
from engine.media.open_segment import flushed_for
from engine.media.probe import cut_head, lowest_at_least, probe
from engine.media.segments import Gap, Segment, SegmentIndex, covered

log = logging.getLogger(__name__)

__all__ = ["ClipError", "ClipFiles", "ClipWindow", "Clipper", "Window"]

OPEN_POLL_S = 0.1  # while streamlink has fed clip_end but the open file's bytes lag behind
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


class ClipWindow(Protocol):
    """What cut() needs; engine.events.Moment has it."""

    clip_start: float
    clip_end: float
    t: float


@dataclass(frozen=True, slots=True)
class Window:
    """A bare clip window (unix seconds) for callers without a Moment."""

    clip_start: float
    clip_end: float
    t: float


@dataclass(frozen=True, slots=True)
class ClipFiles:
    """``preview`` is the file to upload (≤ the limit): the original itself when it fits, a
    lower rendition, or a transcode (``preview_transcoded``); None if nothing fitting could be
    made. ``duration`` is the original's, in seconds (the window minus any ``gaps``)."""

    original: Path
    preview: Path | None
    thumbnail: Path | None
    duration: float
    preview_transcoded: bool
    start_t: float = 0.0
    end_t: float = 0.0
    gaps: tuple[Gap, ...] = ()
    preview_rendition: str | None = None


class Clipper:
    """Makes clip files from a SegmentIndex. ``renditions[0]`` is the original's source, the rest
    are preview sources (default: the index's renditions, i.e. the recorder's order).
    ``poll_s``: how often the wait for the window's end looks at the index; the looks are
    in-memory until streamlink has fed that second, and a clip is cut from the live edge, so
    a coarse poll is pure latency (0.5 s added 0.25 s to the median clip)."""

    def __init__(
        self,
        index: SegmentIndex,
        out_dir: str | Path,
        ffmpeg: str | None = None,
        *,
        renditions: tuple[str, ...] | None = None,
        wait_timeout_s: float = 120.0,
        preview_wait_s: float = 15.0,
        poll_s: float = 0.1,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        thumbnail: bool = True,
        transcode_codec: str = "libx264",
        transcode_preset: str = "veryfast",
        max_preview_height: int = 720,
        ffmpeg_timeout_s: float = 300.0,
        is_recording: Callable[[], bool] | None = None,
    ) -> None:
        self.index = index
        self.out_dir = Path(out_dir)
        self.ffmpeg = ffmpeg or ffmpeg_exe()
        self._renditions = renditions
        self.wait_timeout_s = wait_timeout_s
        self.preview_wait_s = preview_wait_s
        self.poll_s = poll_s
        self._sleep = sleep
        self.clock = clock
        self.thumbnail = thumbnail
        self.transcode_codec = transcode_codec
        self.transcode_preset = transcode_preset
        self.max_preview_height = max_preview_height
        self.ffmpeg_timeout_s = ffmpeg_timeout_s
        self._is_recording = is_recording  # False: the stream ended, stop waiting for more
        self._busy: dict[Path, int] = {}
        self._transcodes = asyncio.Semaphore(1)  # one transcode at a time: 2 cores
        remove_stale_scratch(self.out_dir)  # a crash's work dirs

    @property
    def renditions(self) -> tuple[str, ...]:
        skip = self.index.same_as_original  # previews found to be the original's own stream
        return tuple(r for r in self._renditions or self.index.renditions if r not in skip)

    def in_use(self, seg: Segment) -> bool:
        """For ``SegmentIndex.prune(keep=...)``: a cut in progress still reads this file."""
        return self._busy.get(seg.path, 0) > 0

    # -- the job -------------------------------------------------------------------------------
    async def cut(
        self, window: ClipWindow, limit_bytes: int = 10 * 1024 * 1024, *, name: str | None = None
    ) -> ClipFiles:
        """Wait for the window to be recorded, then make the original, preview and thumbnail.

        Every failure is a ClipError (``disk_full`` set for ENOSPC): an I/O or media-read error
        escaping as itself would end the clip job without a word and leave its row "cutting".
        """
        try:
            return await self._cut(window, limit_bytes, name)
        except ClipError:
            raise
        except (OSError, av.error.FFmpegError) as exc:
            raise io_failure("clip files", exc) from exc

    async def _cut(self, window: ClipWindow, limit_bytes: int, name: str | None) -> ClipFiles:
        start, end = float(window.clip_start), float(window.clip_end)
        if end <= start:
            raise ClipError(f"empty clip window [{start}, {end}]")
        if not self.renditions:
            raise ClipError("nothing is being recorded (no renditions in the index)")
        # unique by default: two guilds' Watches may clip the same streamer at the same second
        default = f"{getattr(window, 'streamer', '') or 'clip'}-{int(start)}-{secrets.token_hex(3)}"
        base = _SAFE_NAME.sub("_", name or default)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        await self._wait_recorded(end)
        orig_r = self.renditions[0]
        segs = self.index.segments_for(start, end, orig_r)
        if not segs:
            raise ClipError(
                f"no recorded segments of {orig_r!r} cover [{start:.1f}, {end:.1f}]"
                f" (recorded: {self.index.covered_from(orig_r)} .. "
                f"{self.index.covered_until(orig_r)})"
            )
        original = self.out_dir / f"{base}.mp4"
        await self._copy_cut(segs, start, end, original)
        try:
            info = await asyncio.to_thread(probe, original)
        except (OSError, av.error.FFmpegError) as exc:
            original.unlink(missing_ok=True)  # never a broken file under a final name
            raise io_failure(f"the cut {original.name} is unreadable", exc) from exc
        duration = info.duration or 0.0
        try:
            preview, prev_r, transcoded = await self._preview(
                original, start, end, limit_bytes, base, duration
            )
            thumb = await self._thumbnail(window.t, start, end, base) if self.thumbnail else None
        except ClipError as exc:  # disk full: the whole clip is cut again later, free its room
            for path in (original, self.out_dir / f"{base}-preview.mp4") if exc.disk_full else ():
                path.unlink(missing_ok=True)
            raise
        return ClipFiles(
            original=original,
            preview=preview,
            thumbnail=thumb,
            duration=duration,
            preview_transcoded=transcoded,
            start_t=max(start, segs[0].start_t),
            end_t=min(end, segs[-1].end_t),
            gaps=tuple(self.index.gaps(orig_r, start, end)),
            preview_rendition=prev_r,
        )

    async def _wait_recorded(self, end: float) -> None:
        """Poll until every rendition has ``end`` on disk; the original may take up to
        ``wait_timeout_s`` past ``end``, the others ``preview_wait_s`` more. Returns at the
        deadline regardless, or as soon as ``is_recording()`` says the recording stopped (the
        stream went offline): the caller cuts what exists."""
        deadline = max(self.clock(), end) + self.wait_timeout_s
        polls = int((deadline - self.clock()) / max(self.poll_s, 1e-3)) + 2
        first = self.renditions[0]
        for _ in range(polls):
            now = self.clock()
            if await self._through(end, first):
                deadline = min(deadline, now + self.preview_wait_s)
                if all([await self._through(end, r) for r in self.renditions[1:]]):
                    return
            if now >= deadline or (self._is_recording is not None and not self._is_recording()):
                return
            # fed but not yet on disk: the muxer is ~0.2 s behind, worth a closer look
            fed = all(self.index.has_through(end, r) for r in self.renditions)
            await self._sleep(min(self.poll_s, OPEN_POLL_S) if fed else self.poll_s)

    async def _through(self, end: float, rendition: str) -> bool:
        """Is ``end`` on disk? Through a closed file by the index; through the file ffmpeg is
        still writing only once its packets (both streams) reach ``end`` plus a margin."""
        if not self.index.has_through(end, rendition):
            return False
        seg = self.index.open_segment(rendition)
        if seg is None or seg.start_t >= end:
            return True
        return await asyncio.to_thread(flushed_for, seg, end) is not None

    # -- pieces ----------------------------------------------------------------------------------
    async def _copy_cut(self, segs: list[Segment], start: float, end: float, dest: Path) -> None:
        """Stream-copy [start, end) of ``segs`` into a faststart MP4 at ``dest``. No demuxer
        seek: ``-itsoffset -residual`` puts the preroll GOP before 0, where the MP4 edit list
        hides it."""
        with self._using(segs), scratch(self.out_dir) as tmp:
            plan = await plan_cut(segs, start, end, Path(tmp))
            inp = ffmpeg_lib.input(
                str(plan.listing), f="concat", safe=0, itsoffset=f"{-plan.residual:.6f}"
            )
            part = Path(tmp) / "out.mp4"
            out = ffmpeg_lib.output(
                inp["v:0"], inp["a:0?"], str(part),
                c="copy", t=f"{plan.span:.3f}", movflags="+faststart", f="mp4",
            )  # fmt: skip
            await self._run(out, f"cut of {dest.name}")
            publish(part, dest)

    def _sources(self, start: float, end: float) -> list[tuple[str, list[Segment]]]:
        """Renditions whose files cover (90 % of) what the original covers, in index order."""
        want = covered(self.index.segments_for(start, end, self.renditions[0]), start, end)
        out = []
        for r in self.renditions:
            segs = self.index.segments_for(start, end, r)
            if segs and covered(segs, start, end) >= 0.9 * want:
                out.append((r, segs))
        return out

    async def _preview(
        self, original: Path, start: float, end: float, limit: int, base: str, duration: float
    ) -> tuple[Path | None, str | None, bool]:
        if file_size(original) <= limit:
            return original, self.renditions[0], False
        dest = self.out_dir / f"{base}-preview.mp4"
        options = []
        for r, segs in self._sources(start, end)[1:]:
            estimate = sum(s.size * (min(end, s.end_t) - max(start, s.start_t)) / s.duration
                           for s in segs if s.duration > 0)  # fmt: skip
            options.append((estimate, r, segs))
        for estimate, r, segs in sorted(options, key=lambda o: o[0], reverse=True):
            if estimate > limit * 1.05:
                continue  # a cut is about its segments' share in size: skip the attempt
            await self._copy_cut(segs, start, end, dest)
            if file_size(dest) <= limit:
                return dest, r, False
            dest.unlink(missing_ok=True)
        if duration <= 0:
            return None, None, False
        source = await self._transcode(start, end, limit, dest, duration)
        return (dest, source, True) if source else (None, None, False)

    async def _transcode(
        self, start: float, end: float, limit: int, dest: Path, duration: float
    ) -> str | None:
        """Encode a preview sized for ``limit``; returns the source rendition, or None when even
        the second try (bitrate scaled down by the overshoot) does not fit."""
        audio_bps = 64_000
        budget = limit * 8 * 0.92 / max(duration, 0.5) - audio_bps  # container + VBV slack
        sources = self._sources(start, end)
        for attempt in range(2):
            video_bps = int(max(budget, 50_000))
            height = min(self.max_preview_height, height_for(video_bps))
            # the cheapest source to decode that still has the lines (1080p60 costs 3-5x 480p)
            r, segs = await self._smallest_at_least(sources, height)
            with self._using(segs), scratch(self.out_dir) as tmp:
                plan = await plan_cut(segs, start, end, Path(tmp))
                inp = ffmpeg_lib.input(str(plan.listing), f="concat", safe=0)
                video = inp["v:0"].filter("scale", -2, f"min({height},ih)").filter("fps", 30)
                part = Path(tmp) / "out.mp4"
                out = ffmpeg_lib.output(
                    video, inp["a:0?"], str(part),
                    ss=f"{plan.residual:.3f}", t=f"{plan.span:.3f}", movflags="+faststart",
                    f="mp4",
                    pix_fmt="yuv420p", vcodec=self.transcode_codec, preset=self.transcode_preset,
                    **{"b:v": str(video_bps), "maxrate": str(int(video_bps * 1.1)),
                       "bufsize": str(video_bps), "c:a": "aac", "b:a": str(audio_bps),
                       "ac": "2"},
                )  # fmt: skip
                async with self._transcodes:
                    await self._run(out, f"preview transcode of {dest.name}")
                size = file_size(part)
                if size <= limit:
                    publish(part, dest)
                    return r
            log.warning("preview transcode %d bytes > limit %d (try %d)", size, limit, attempt)
            budget = video_bps * limit / size * 0.85
        return None

    async def _smallest_at_least(
        self, sources: list[tuple[str, list[Segment]]], height: int
    ) -> tuple[str, list[Segment]]:
        i = await asyncio.to_thread(lowest_at_least, [segs[0].path for _r, segs in sources], height)
        if i is None:
            raise ClipError("no readable source for the preview transcode")
        return sources[i]

    async def _thumbnail(self, t: float, start: float, end: float, base: str) -> Path | None:
        """JPEG of the frame at ``t`` (clamped into what was recorded), at most 720 lines; an
        unreadable frame costs only the thumbnail, a full disk is the clip's ``disk_full``."""
        for r in reversed(self.renditions):
            segs = [s for s in self.index.segments_for(start, end, r) if s.path.exists()]
            if not segs:
                continue
            seg = next((s for s in segs if s.start_t <= t < s.end_t), None)
            if seg is None:
                seg = min(segs, key=lambda s: min(abs(s.start_t - t), abs(s.end_t - t)))
            offset = min(max(0.0, t - seg.start_t), max(0.0, seg.duration - 0.1))
            dest = self.out_dir / f"{base}.jpg"
            with self._using([seg]), scratch(self.out_dir) as tmp:
                try:
                    head = await asyncio.to_thread(
                        cut_head, seg.path, offset, Path(tmp) / "head.ts"
                    )
                except (OSError, av.error.FFmpegError, ValueError) as exc:
                    if is_disk_full(exc):
                        raise io_failure(f"thumbnail of {base}", exc) from exc
                    log.warning("no thumbnail: %s", exc)
                    return None
                part = Path(tmp) / "thumb.jpg"
                out = ffmpeg_lib.output(
                    ffmpeg_lib.input(str(head.path))["v:0"].filter("scale", -2, "min(720,ih)"),
                    str(part), ss=f"{head.video_residual:.3f}", vframes=1, f="image2",
                    **{"q:v": "3"},
                )  # fmt: skip
                try:
                    await self._run(out, f"thumbnail of {base}")
                except ClipError as exc:
                    if exc.disk_full:
                        raise
                    log.warning("no thumbnail: %s", exc)
                    return None
                if not part.exists() or part.stat().st_size == 0:
                    return None
                publish(part, dest)
                return dest
        return None

    # -- plumbing --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _using(self, segs: list[Segment]) -> Any:
        for s in segs:
            self._busy[s.path] = self._busy.get(s.path, 0) + 1
        try:
            yield
        finally:
            for s in segs:
                n = self._busy.get(s.path, 1) - 1
                if n:
                    self._busy[s.path] = n
                else:
                    self._busy.pop(s.path, None)

    async def _run(self, stream: Any, what: str) -> None:
        await run_ffmpeg(stream, self.ffmpeg, self.ffmpeg_timeout_s, what)
