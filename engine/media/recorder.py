"""Records one streamer: ``streamlink --stdout <url> <quality> | ffmpeg -c copy -f segment``.

One pipeline per rendition (``best`` for the original clips, a low one for previews that fit
Discord's upload limit without transcoding). Each pipeline is supervised: when streamlink or
ffmpeg exits (stream offline, network, a crash), both are stopped, the backoff sleeps (doubling
up to a cap, reset after a run that produced segments) and both restart. The index notes the gap.

The command lines, and why each flag is there, are engine/media/recorder_cmd.py's. The file ffmpeg
is writing is announced as the index's open entry (engine/media/open_segment.py): the segment
pattern's next name, begun where the last listed file ended, fed as far as streamlink's
``Segment N complete`` lines say; a clip need not wait for it to close.

Child processes are started by engine.media.procs: own process group, SIGTERM on parent death,
reaped. Their pipes are drained to EOF whatever they print (engine.media.procs.read_lines). A stall
watchdog restarts a run that indexed no segment for ``stall_timeout_s`` (default 3 segments + 10 s)
while both processes live on: a wedged child, or data that flows but makes no files, would
otherwise record nothing until someone looked. Restart pauses are jittered (engine.backoff, never
below half the cap) so ten recorders that lost the same CDN do not come back in lockstep.
start() and stop() hold one lock: a start during a stop waits for it instead of racing it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from engine.backoff import Backoff
from engine.media.ffmpeg_bin import ffmpeg_exe, streamlink_cmd
from engine.media.open_segment import first_name, next_name, open_entry
from engine.media.probe import packet_span
from engine.media.procs import reap, start_process, stop_process
from engine.media.recorder_cmd import (
    SLUG_RE,
    ffmpeg_argv,
    quality_args,
    streamlink_argv,
    validate_slug,
)
from engine.media.recorder_run import Run, pump
from engine.media.renditions import RenditionProbe
from engine.media.segments import (
    Segment,
    SegmentIndex,
    parse_segment_csv,
    parse_streamlink_line,
)

log = logging.getLogger(__name__)

__all__ = ["SLUG_RE", "Recorder", "quality_args", "validate_slug"]


class Recorder:
    """Supervised recording of ``slug`` into ``out_dir/<slug>/<rendition>/*.ts``.

    ``stream_url`` is a template with ``{slug}`` (``https://kick.com/{slug}``; tests use the
    fake's ``hls://http://127.0.0.1:PORT/{slug}/master.m3u8``). ``sleep`` waits out the restart
    backoff (inject a fake to test restarts quickly). ``start()``/``stop()`` are idempotent.
    """

    def __init__(
        self,
        slug: str,
        stream_url: str,
        out_dir: str | Path,
        renditions: Sequence[str] = ("best", "480p"),
        segment_s: float = 10.0,
        clock: Callable[[], float] = time.time,
        *,
        index: SegmentIndex | None = None,
        backoff_initial_s: float = 2.0,
        backoff_max_s: float = 60.0,
        stop_timeout_s: float = 5.0,
        stream_timeout_s: float = 20.0,
        live_edge: int = 3,
        queue_deadline: float = 10.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        ffmpeg: str | None = None,
        streamlink: Sequence[str] | None = None,
        streamlink_args: Sequence[str] = (),
        on_segment: Callable[[Segment], None] | None = None,
        stall_timeout_s: float | None = None,
        probe_renditions: bool = True,
        rand: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.slug = validate_slug(slug)
        if not renditions:
            raise ValueError("at least one rendition")
        for r in renditions:
            quality_args(r)  # validates
        self.renditions = tuple(renditions)
        self.stream_url = stream_url.replace("{slug}", self.slug)
        self.out_dir = Path(out_dir) / self.slug
        self.segment_s = segment_s
        self.clock = clock
        self.index = index if index is not None else SegmentIndex(self.renditions)
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.stop_timeout_s = stop_timeout_s
        self.stream_timeout_s = stream_timeout_s
        self.live_edge = live_edge
        self.queue_deadline = queue_deadline
        self._sleep = sleep
        self._ffmpeg = ffmpeg or ffmpeg_exe()
        self._streamlink = list(streamlink) if streamlink else streamlink_cmd()
        self._streamlink_args = list(streamlink_args)
        self._on_segment = on_segment
        self.stall_timeout_s = (
            stall_timeout_s if stall_timeout_s is not None else 3 * segment_s + 10.0
        )
        self._rand = rand
        self._monotonic = monotonic
        self._lock = asyncio.Lock()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._runs: dict[str, Run] = {}
        self._stop_evt = asyncio.Event()
        self.restarts: dict[str, int] = dict.fromkeys(self.renditions, 0)
        self.stalls: dict[str, int] = dict.fromkeys(self.renditions, 0)
        self.state: dict[str, str] = dict.fromkeys(self.renditions, "stopped")
        self.last_error: dict[str, str] = {}
        #: which preview renditions are the original's own stream (engine/media/renditions.py)
        self.probe = RenditionProbe(
            self.slug, self._streamlink, self.stream_url, self._streamlink_args, self.index,
            self.renditions if probe_renditions else self.renditions[:1],
        )  # fmt: skip

    # -- public ------------------------------------------------------------------------------
    def dir_for(self, rendition: str) -> Path:
        return self.out_dir / rendition

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not self._stop_evt.is_set()

    async def start(self) -> None:
        """Start every rendition's supervisor (no-op when already running). Called during a
        stop(), it waits for that stop to finish, then starts afresh: the stop cannot drop the
        new supervisors (untracked children nobody would ever stop)."""
        async with self._lock:
            if self.running:
                return
            self._stop_evt = asyncio.Event()
            self.probe.reset()
            for r in self.renditions:
                self.dir_for(r).mkdir(parents=True, exist_ok=True)
                self._tasks[r] = asyncio.create_task(
                    self._supervise(r), name=f"rec-{self.slug}-{r}"
                )

    async def stop(self) -> None:
        """Stop recording: SIGINT ffmpeg (it finalises its file), SIGTERM streamlink, SIGKILL
        after ``stop_timeout_s``; returns once every child is reaped. No-op when stopped."""
        async with self._lock:
            if not self._tasks:
                return
            self._stop_evt.set()
            tasks = dict(self._tasks)
            _done, pending = await asyncio.wait(tasks.values(), timeout=self.stop_timeout_s * 3 + 5)
            for t in pending:  # a wedged supervisor: cancelling runs its finally (stops children)
                t.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
            for r, t in tasks.items():  # only what this stop awaited
                if self._tasks.get(r) is t:
                    del self._tasks[r]
            await self.probe.aclose()  # a listing in flight: its streamlink is reaped too

    def pids(self) -> dict[str, dict[str, int]]:
        """Current children per rendition: ``{"best": {"streamlink": 123, "ffmpeg": 124}}``."""
        out: dict[str, dict[str, int]] = {}
        for r, run in self._runs.items():
            d = {}
            for name in ("streamlink", "ffmpeg"):
                p = getattr(run, name)
                if p is not None and p.returncode is None:
                    d[name] = p.pid
            out[r] = d
        return out

    def child_pids(self) -> list[int]:
        return [pid for d in self.pids().values() for pid in d.values()]

    # -- supervision ---------------------------------------------------------------------------
    async def _supervise(self, rendition: str) -> None:
        # Equal jitter: between half the cap and the cap, so a restart is never a hot loop.
        backoff = Backoff(
            self.backoff_initial_s, self.backoff_max_s, rand=lambda: 0.5 + 0.5 * self._rand()
        )
        if await self.probe.same_as_original(rendition, self._stop_evt):
            self.state[rendition] = f"same stream as {self.renditions[0]}: recorded once"
            return
        while not self._stop_evt.is_set():
            self.state[rendition] = "starting"
            try:
                produced = await self._run_once(rendition)
            except Exception as exc:  # cannot exec, no pipe, disk full, a bug: back off, retry
                log.exception("%s/%s: recorder run failed", self.slug, rendition)
                self.last_error[rendition] = f"{type(exc).__name__}: {exc}"
                produced = 0
            if self._stop_evt.is_set():
                break
            if produced:
                backoff.reset()
            delay = backoff.next_delay()
            self.restarts[rendition] += 1
            self.state[rendition] = "backoff"
            log.info("%s/%s: restarting in %.1fs", self.slug, rendition, delay)
            sleeper = asyncio.ensure_future(self._sleep(delay))
            stopper = asyncio.ensure_future(self._stop_evt.wait())
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for t in (sleeper, stopper):
                t.cancel()
        self.state[rendition] = "stopped"

    async def _run_once(self, rendition: str) -> int:
        run = Run(rendition, f"{int(self.clock() * 1000)}", progress=self._monotonic())
        self._runs[rendition] = run
        out = self.dir_for(rendition)
        out.mkdir(parents=True, exist_ok=True)
        sl_argv = streamlink_argv(
            self._streamlink, self.stream_url, rendition, live_edge=self.live_edge,
            stream_timeout_s=self.stream_timeout_s, queue_deadline=self.queue_deadline,
            extra=self._streamlink_args,
        )  # fmt: skip
        ff_argv = ffmpeg_argv(self._ffmpeg, out / f"{run.run_id}_%05d.ts", self.segment_s)
        run.open_path = out / first_name(run.run_id)
        rfd, wfd = os.pipe()
        try:
            run.streamlink = await start_process(
                sl_argv, stdout=wfd, stderr=asyncio.subprocess.PIPE
            )
            run.ffmpeg = await start_process(
                ff_argv, stdin=rfd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
        except BaseException:
            if run.streamlink is not None:
                await stop_process(run.streamlink, self.stop_timeout_s, first_signal=signal.SIGTERM)
            raise
        finally:
            os.close(rfd)
            os.close(wfd)
        self.state[rendition] = "recording"
        log.info(
            "%s/%s: recording (streamlink %d, ffmpeg %d)",
            self.slug, rendition, run.streamlink.pid, run.ffmpeg.pid,
        )  # fmt: skip
        readers = [
            asyncio.create_task(pump(self.slug, run, run.streamlink.stderr, self._on_streamlink)),
            asyncio.create_task(pump(self.slug, run, run.ffmpeg.stdout, self._on_listed)),
            asyncio.create_task(pump(self.slug, run, run.ffmpeg.stderr, self._on_ffmpeg_log)),
        ]
        waits = [
            asyncio.ensure_future(reap(run.streamlink)),
            asyncio.ensure_future(reap(run.ffmpeg)),
            asyncio.ensure_future(self._stop_evt.wait()),
            asyncio.ensure_future(self._watch_stall(run)),
        ]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits[2:]:
                w.cancel()
            await asyncio.gather(
                stop_process(run.ffmpeg, self.stop_timeout_s),
                stop_process(run.streamlink, self.stop_timeout_s, first_signal=signal.SIGTERM),
                return_exceptions=True,
            )
            await asyncio.gather(*readers, return_exceptions=True)
            await asyncio.gather(*waits, return_exceptions=True)
            self.index.clear_open(rendition)  # what ffmpeg left is _index_partial's to judge
        await self._index_partial(run)
        if run.stalled and not self._stop_evt.is_set():
            self.stalls[rendition] += 1
            self.last_error[rendition] = f"stalled: no new segment for {self.stall_timeout_s:g} s"
            log.warning(
                "%s/%s: no new segment for %.0f s while streamlink and ffmpeg ran; restarted "
                "them (the index notes the gap from %s)",
                self.slug, rendition, self.stall_timeout_s, self.index.covered_until(rendition),
            )  # fmt: skip
        elif not self._stop_evt.is_set():
            tail = [*run.sl_tail, *run.ff_tail]
            why = next(
                (x for x in reversed(tail) if "error" in x.lower()), tail[-1] if tail else ""
            )
            self.last_error[rendition] = "\n".join([*run.sl_tail, *run.ff_tail])[-2000:]
            log.warning(
                "%s/%s: recorder exited (streamlink %s, ffmpeg %s) after %d segments: %s",
                self.slug, rendition, run.streamlink.returncode, run.ffmpeg.returncode,
                run.segments, why,
            )  # fmt: skip
        return run.segments

    # -- process output --------------------------------------------------------------------------
    async def _watch_stall(self, run: Run) -> None:
        """Return (marking the run stalled) once no segment was indexed for stall_timeout_s."""
        while True:
            left = self.stall_timeout_s - (self._monotonic() - run.progress)
            if left <= 0:
                run.stalled = True
                return
            await asyncio.sleep(min(left, 1.0) + 0.01)

    def _on_streamlink(self, run: Run, line: str) -> None:
        parsed = parse_streamlink_line(line)
        if parsed is None:
            if "][debug]" not in line and line:
                run.sl_tail.append(line)
            return
        kind, num, duration, date = parsed
        if kind == "queued":
            run.timeline.on_queued(num, duration, date)
        elif kind == "written":
            run.timeline.on_written(num, self.clock())
        else:
            run.timeline.on_complete(num)
            self._announce_open(run)

    def _announce_open(self, run: Run) -> None:
        """(Re)state the open entry: the file being written, as far as streamlink has fed it."""
        if run.open_path is None:
            return
        seg = open_entry(run.open_path, run.open_start, run.timeline, run.rendition, run.run_id)
        if seg is not None:
            self.index.set_open(seg)

    @staticmethod
    def _on_ffmpeg_log(run: Run, line: str) -> None:
        if line:
            run.ff_tail.append(line)

    def _on_listed(self, run: Run, line: str) -> None:
        entry = parse_segment_csv(line)
        if entry is None:
            return
        name, start, end = entry
        run.listed.add(name)
        run.last_end = end
        self._add_segment(run, self.dir_for(run.rendition) / name, start, end)
        nxt = next_name(name)
        run.open_path = self.dir_for(run.rendition) / nxt if nxt else None
        run.open_start = end
        self._announce_open(run)

    def _add_segment(self, run: Run, path: Path, start: float, end: float) -> None:
        mapped = run.timeline.wall(start)
        if mapped is None:  # no streamlink timing at all: the file just arrived
            wall, timing = self.clock() - (end - start), "arrival"
        else:
            wall, timing = mapped
        try:
            size = path.stat().st_size
        except OSError:
            return
        seg = Segment(
            path, wall, wall + (end - start), run.rendition, run.run_id, size, timing=timing
        )
        gap = self.index.add(seg)
        run.segments += 1
        run.progress = self._monotonic()
        if gap is not None:
            log.info(
                "%s/%s: gap of %.1fs in the recording", self.slug, run.rendition,
                gap.end_t - gap.start_t,
            )  # fmt: skip
        if self._on_segment is not None:
            self._on_segment(seg)

    async def _index_partial(self, run: Run) -> None:
        """Index (or delete) the file ffmpeg was writing when it died without finishing it."""
        out = self.dir_for(run.rendition)
        leftovers = sorted(p for p in out.glob(f"{run.run_id}_*.ts") if p.name not in run.listed)
        for p in leftovers[:-1]:
            p.unlink(missing_ok=True)
        if not leftovers:
            return
        last = leftovers[-1]
        span = await asyncio.to_thread(packet_span, last)
        if span is None or span[1] - span[0] < 0.3:
            last.unlink(missing_ok=True)
            return
        start = run.last_end
        self._add_segment(run, last, start, start + (span[1] - span[0]))
        log.info("%s/%s: kept partial segment %s", self.slug, run.rendition, last.name)
