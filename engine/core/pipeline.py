"""From a Moment to clip files, durably: store, wait for the window, cut, hand over for posting.

Every step is a row transition in the store (detected -> cutting -> ready, or failed), so a
restart resumes: `resume()` cuts again what was detected or cutting and hands over what was
ready. Upgrades of an open clip (same key, higher revision) only update the row; the job
re-reads the window before it cuts, so the clip covers the extended end. The store is a Protocol
(storage.clips.ClipRepo fits it) because the engine never imports storage.

No clip is lost to an error: a cut that fails for want of disk space goes back to "detected" and
is tried again after a growing delay (the scheduler frees space and pauses recording meanwhile;
open windows keep their segments), a bounded number of times; any other failure, a bug
included, is logged with the clip id and ends in "failed" with the reason, never a row stuck in
"cutting" by a job that died silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from engine.core.stores import ClipStore
from engine.events import Moment
from engine.media.clipper import ClipError, ClipFiles, Window

log = logging.getLogger("engine.core.pipeline")


class Cutter(Protocol):
    async def cut(
        self, window: Any, limit_bytes: int = ..., *, name: str | None = ...
    ) -> ClipFiles: ...


def describe(files: ClipFiles) -> str | None:
    """A reviewer-facing note about what is unusual in these files, if anything."""
    notes = []
    if files.preview is None:
        notes.append("no preview fits this server's upload limit: thumbnail only")
    elif files.preview_transcoded:
        notes.append("preview re-encoded to fit the upload limit")
    if files.gaps:
        lost = sum(g.end_t - g.start_t for g in files.gaps)
        notes.append(f"the recording has {len(files.gaps)} gap(s), {lost:.0f} s missing")
    return "; ".join(notes) or None


class ClipPipeline:
    def __init__(
        self,
        store: ClipStore,
        clipper_for: Callable[[str], Cutter | None],
        upload_limit: Callable[[int], Awaitable[int]],
        on_ready: Callable[[int], Awaitable[None]],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        poll_s: float = 1.0,
        disk_full_retry_s: float = 300.0,
        disk_full_attempts: int = 6,
    ) -> None:
        """``disk_full_retry_s``: the first wait before cutting a disk-full clip again (doubling,
        at most an hour); ``disk_full_attempts``: how many retries before it is failed."""
        self.store = store
        self._clipper_for = clipper_for
        self._upload_limit = upload_limit
        self._on_ready = on_ready
        self._clock = clock
        self._sleep = sleep
        self._poll_s = poll_s
        self._disk_full_retry_s = disk_full_retry_s
        self._disk_full_attempts = disk_full_attempts
        self._jobs: dict[int, asyncio.Task[None]] = {}

    async def on_moment(self, guild_id: int, moment: Moment) -> int:
        """Store a moment; a new clip gets a cutting job. Returns the clip id."""
        clip_id, new = await self.store.record_moment(guild_id, moment)
        if new:
            self._start(clip_id)
        return clip_id

    def _start(self, clip_id: int) -> None:
        if clip_id in self._jobs:
            return
        task = asyncio.get_running_loop().create_task(self._job(clip_id), name=f"clip-{clip_id}")
        self._jobs[clip_id] = task
        task.add_done_callback(lambda t: self._job_done(clip_id, t))

    def _job_done(self, clip_id: int, task: asyncio.Task[None]) -> None:
        self._jobs.pop(clip_id, None)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("clip %s: the job ended with %r", clip_id, exc)  # retrieved, not lost

    async def resume(self) -> None:
        """After a restart: cut what was not cut, hand over what was cut but not posted."""
        for row in await self.store.with_status("detected", "cutting"):
            self._start(int(row.id))
        for row in await self.store.with_status("ready", "posting"):
            await self._hand_over(int(row.id))

    async def _job(self, clip_id: int) -> None:
        try:
            await self._cut_until_done(clip_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the store itself failed, or a bug: say so, never vanish
            log.exception("clip %s: the clip job failed", clip_id)
            with contextlib.suppress(Exception):
                await self.store.transition(
                    clip_id, ("detected", "cutting"), status="failed", error=_reason(exc)
                )

    async def _wait_window(self, clip_id: int) -> Any:
        """The row once its window closed, re-read meanwhile: upgrades extend clip_end."""
        row = await self.store.get(clip_id)
        while row is not None and row.status == "detected":
            wait = float(row.clip_end) - self._clock()
            if wait <= 0:
                break
            await self._sleep(min(wait, self._poll_s))
            row = await self.store.get(clip_id)
        return row

    async def _cut_until_done(self, clip_id: int) -> None:
        retries = 0
        while True:
            row = await self._wait_window(clip_id)
            if row is None or not await self.store.transition(
                clip_id, ("detected", "cutting"), status="cutting"
            ):
                return
            try:
                files = await self._cut(row)
            except ClipError as exc:
                first = str(exc).splitlines()[0]
                if exc.disk_full and retries < self._disk_full_attempts:
                    retries += 1
                    delay = min(3600.0, self._disk_full_retry_s * 2 ** (retries - 1))
                    log.warning(
                        "clip %s (%s): disk full (%s); back to detected, retry %d/%d in %.0f s",
                        clip_id, row.streamer, first, retries, self._disk_full_attempts, delay,
                    )  # fmt: skip
                    note = f"disk full; retry {retries}/{self._disk_full_attempts} in {delay:.0f} s"
                    await self.store.transition(
                        clip_id, ("cutting",), status="detected", error=note
                    )
                    await self._sleep(delay)
                    continue
                log.error("clip %s (%s) failed: %s", clip_id, row.streamer, first)
                await self.store.transition(clip_id, ("cutting",), status="failed", error=str(exc))
                return
            except Exception as exc:  # not a ClipError: a bug, or an error nobody wrapped
                log.exception("clip %s (%s): the cut failed unexpectedly", clip_id, row.streamer)
                await self.store.transition(
                    clip_id, ("cutting",), status="failed", error=_reason(exc)
                )
                return
            done = {"error": None} if retries else {}
            await self.store.transition(
                clip_id,
                ("cutting",),
                status="ready",
                original_path=str(files.original),
                preview_path=str(files.preview) if files.preview else None,
                thumbnail_path=str(files.thumbnail) if files.thumbnail else None,
                note=describe(files),
                **done,
            )
            await self._hand_over(clip_id)
            return

    async def _cut(self, row: Any) -> ClipFiles:
        clipper = self._clipper_for(row.streamer)
        if clipper is None:
            raise ClipError(f"{row.streamer} is not being recorded any more")
        limit = await self._upload_limit(int(row.guild_id))
        window = Window(float(row.clip_start), float(row.clip_end), float(row.t))
        return await clipper.cut(window, limit, name=f"{row.streamer}-{row.id}")

    async def _hand_over(self, clip_id: int) -> None:
        try:
            await self._on_ready(clip_id)
        except Exception:  # the row stays ready/posting: the poster's outbox retries it
            log.exception(
                "clip %s: handing it over for posting failed; the outbox retries it", clip_id
            )

    async def drain(self) -> None:
        """Wait for the running jobs (tests, and a graceful shutdown with time to spare)."""
        while self._jobs:
            await asyncio.gather(*list(self._jobs.values()), return_exceptions=True)

    async def close(self) -> None:
        """Cancel running jobs; their rows stay detected/cutting and resume() picks them up."""
        jobs = list(self._jobs.values())
        for task in jobs:
            task.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)


def _reason(exc: BaseException) -> str:
    return f"unexpected error: {type(exc).__name__}: {exc}"[:2000]


def existing(path: str | None) -> Path | None:
    """A stored file path that still exists, or None (files can be cleaned up under us)."""
    if path and Path(path).is_file():
        return Path(path)
    return None
