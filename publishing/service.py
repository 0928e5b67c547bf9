"""PublishService: the one API both fronts call (enqueue, jobs, retry), and the job queue.

Jobs are rows (PublishStore), so the queue is only a wake-up list: a restart reloads every
unfinished job and carries on. A bounded number of workers (`publish.workers`, default 1)
run jobs; renders run at a lower CPU priority, so publishing never holds up new clips being
cut and posted (the clip pipeline has its own tasks and never waits on this queue).

Per job: queued -> rendering -> uploading -> published | failed. A job that meets YouTube's
quota goes back to queued with `not_before` (the quota reset) and its upload session, and is
woken then. Each change is announced to listeners (the review card, the web page); progress
announcements are throttled (publish.progress_every_pct / _every_s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from engine.config.schema import PublishConfig
from engine.core.app import UserError
from engine.core.stores import ClipStore
from publishing.layouts import Layouts
from publishing.metadata import Metadata, build_metadata
from publishing.model import (
    ACTIVE,
    ProgressThrottle,
    PublishError,
    PublishStore,
    QuotaExceeded,
    layout_of,
)
from publishing.render import has_bytes, render_vertical

log = logging.getLogger("publishing")
Listener = Callable[[Any], Awaitable[None]]
IDLE_WAKE_S = 300.0  # the quota timer looks again at least this often


class Target(Protocol):
    name: str

    async def problem(self) -> str | None: ...
    async def upload(
        self,
        path: Path,
        meta: Metadata,
        session_uri: str | None,
        save_session: Callable[[str | None], Awaitable[None]],
        on_progress: Callable[[int, int], Awaitable[None]],
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class Enqueued:
    job: Any
    created: bool
    message: str


def status_text(job: Any) -> str:
    """One line for a card or a page: what the job is doing or why it stopped."""
    if job.state == "queued" and job.not_before:
        when = datetime.fromtimestamp(job.not_before, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"queued: {job.error or 'waiting'} (until {when})"
    if job.state == "uploading":
        return f"uploading {job.progress:.0f}%"
    if job.state == "published":
        return f"published: {job.url}"
    if job.state == "failed":
        return f"failed: {job.error}"
    return str(job.state)


class PublishService:
    def __init__(
        self,
        cfg: PublishConfig,
        store: PublishStore,
        clips: ClipStore,
        targets: dict[str, Target],
        *,
        font: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cfg, self.store, self.clips, self.targets = cfg, store, clips, targets
        self.font, self.clock = font, clock
        self.listeners: list[Listener] = []
        self.layouts = Layouts(cfg, store, clips)  # get / set / preview, for both fronts
        self._queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
        self._queued: set[tuple[str, int]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._running: set[int] = set()  # one run per job, even with several workers

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Reload unfinished jobs (a restart resumes them), then start the workers."""
        for job in await self.store.with_state(*ACTIVE):
            if job.state == "rendering":  # the render died with the process: do it again
                await self.store.transition(job.id, ("rendering",), state="queued")
            self._push("job", job.id)
        for n in range(max(1, self.cfg.workers)):
            self._tasks.append(asyncio.create_task(self._worker(), name=f"publish-worker-{n}"))
        self._tasks.append(asyncio.create_task(self._timer(), name="publish-timer"))

    async def stop(self) -> None:
        """Cancel the workers; a job in flight keeps its state and session for the next start."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    # -- the API of the fronts -----------------------------------------------------------------

    async def enqueue(
        self, guild_id: int, clip_id: int, target: str = "youtube", requested_by: int | None = None
    ) -> Enqueued:
        """Publish an approved clip to `target` once: a second request finds the same job."""
        clip = await self._approved(guild_id, clip_id)
        tgt = self._target(target)
        existing = [j for j in await self.store.for_clip(clip_id) if j.target == target]
        if not existing and (problem := await tgt.problem()):
            raise UserError(problem)
        variant = self.cfg.youtube.variant
        job, created = await self.store.create(
            clip.id, clip.guild_id, target, variant, requested_by
        )
        if not created:
            return Enqueued(job, False, f"Already {status_text(job)}.")
        log.info("clip %s: publishing to %s queued (by %s)", clip_id, target, requested_by)
        self._push("job", job.id)
        await self._announce(job)
        return Enqueued(job, True, f"Queued for {target}.")

    async def retry(
        self, guild_id: int, clip_id: int, target: str = "youtube", requested_by: int | None = None
    ) -> Enqueued:
        """A failed job back to queued; its upload session is kept, so nothing is sent twice."""
        await self._approved(guild_id, clip_id)
        job = next((j for j in await self.store.for_clip(clip_id) if j.target == target), None)
        if job is None:
            return await self.enqueue(guild_id, clip_id, target, requested_by)
        if job.state != "failed":
            return Enqueued(job, False, f"Nothing to retry: {status_text(job)}.")
        if not await self.store.transition(
            job.id, ("failed",), state="queued", error=None, not_before=None
        ):
            fresh = await self.store.get(job.id)
            return Enqueued(fresh, False, f"Nothing to retry: {status_text(fresh)}.")
        fresh = await self.store.get(job.id)
        self._push("job", job.id)
        await self._announce(fresh)
        return Enqueued(fresh, True, "Retrying.")

    async def jobs(self, clip_id: int) -> list[Any]:
        return await self.store.for_clip(clip_id)

    async def on_review(self, clip: Any, action: str, origin: str = "discord") -> None:
        """App hook after a review change: auto-publish or pre-render approved clips; a deleted
        clip's vertical renders go with its other files."""
        if action == "delete" and clip.original_path:
            original = Path(clip.original_path)
            for render in original.parent.glob(f"{original.stem}-vertical-*.mp4"):
                render.unlink(missing_ok=True)
            return
        if action != "approve" or clip.status != "approved":
            return
        floor = self.cfg.auto_publish_min_score
        if floor is not None and clip.confidence >= floor:
            try:
                await self.enqueue(clip.guild_id, clip.id, "youtube", None)
            except UserError as exc:
                log.warning("clip %s: not auto-published: %s", clip.id, exc)
            return
        if self.cfg.render_on_approval and self.cfg.youtube.variant == "vertical":
            self._push("render", clip.id)

    # -- the queue -----------------------------------------------------------------------------

    def _push(self, kind: str, ident: int) -> None:
        if (kind, ident) not in self._queued:
            self._queued.add((kind, ident))
            self._queue.put_nowait((kind, ident))

    async def _worker(self) -> None:
        while True:
            item = await self._queue.get()
            self._queued.discard(item)
            try:
                if item[0] == "job":
                    await self.run_job(item[1])
                else:
                    await self._prerender(item[1])
            except asyncio.CancelledError:
                raise
            except Exception:  # one broken job must not stop the worker
                log.exception("publish %s %s failed unexpectedly", *item)

    async def _timer(self) -> None:
        """Wake jobs waiting for a quota reset when their time comes."""
        while True:
            now = self.clock()
            waits = [j for j in await self.store.with_state("queued") if j.not_before]
            for job in waits:
                if job.not_before <= now:
                    self._push("job", job.id)
            later = [j.not_before - now for j in waits if j.not_before > now]
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), min([IDLE_WAKE_S, *later]))

    # -- one job -------------------------------------------------------------------------------

    async def run_job(self, job_id: int) -> None:
        """Run one job to its next resting state (published, failed, or waiting for quota)."""
        if job_id in self._running:  # woken twice (timer + retry): the run in flight has it
            return
        self._running.add(job_id)
        try:
            await self._run_once(job_id)
        finally:
            self._running.discard(job_id)

    async def _run_once(self, job_id: int) -> None:
        job = await self.store.get(job_id)
        if job is None or job.state not in ACTIVE:
            return
        if job.not_before and job.not_before > self.clock():
            return  # the timer wakes it
        try:
            await self._run(job)
        except QuotaExceeded as exc:
            await self._set(
                job.id, ACTIVE, state="queued", error=str(exc), not_before=exc.resume_at
            )
            log.warning("clip %s: %s", job.clip_id, exc)
            self._wake.set()
        except PublishError as exc:
            await self._set(job.id, ACTIVE, state="failed", error=str(exc))
            log.error("clip %s: publishing to %s failed: %s", job.clip_id, job.target, exc)
        except asyncio.CancelledError:
            raise
        except Exception:
            ref = secrets.token_hex(3)
            log.exception("clip %s: publishing failed unexpectedly (ref %s)", job.clip_id, ref)
            await self._set(job.id, ACTIVE, state="failed", error=f"unexpected error (ref {ref})")

    async def _run(self, job: Any) -> None:
        clip = await self.clips.get(job.clip_id)
        if clip is None or clip.status != "approved" or not clip.original_path:
            raise PublishError("the clip is no longer approved or its video is gone")
        target = self._target(job.target)
        path = Path(job.file_path) if job.file_path else None
        session = job.session_uri
        if job.state == "queued" or path is None or not has_bytes(path):
            await self._set(
                job.id, ACTIVE, state="rendering", progress=0, error=None, not_before=None
            )
            new_path, duration = await self._rendered(job, clip)
            if path is not None and new_path != path:
                session = None  # other bytes: the old (unfinished) session cannot take them
            path = new_path
            await self._set(
                job.id,
                ("rendering",),
                state="uploading",
                file_path=str(path),
                session_uri=session,
                progress=0,
            )
        else:
            duration = clip.clip_end - clip.clip_start
        meta = build_metadata(
            clip, self.cfg.youtube, vertical=job.variant == "vertical", duration=duration
        )
        throttle = ProgressThrottle(self.cfg.progress_every_pct, self.cfg.progress_every_s)

        async def save_session(uri: str | None) -> None:
            await self.store.transition(job.id, ("uploading",), session_uri=uri)

        async def on_progress(sent: int, size: int) -> None:
            pct = round(100.0 * sent / max(1, size), 1)
            await self.store.transition(job.id, ("uploading",), progress=pct)
            if throttle.due(pct, self.clock()):
                await self._announce(await self.store.get(job.id))

        published = await target.upload(path, meta, session, save_session, on_progress)
        await self._set(
            job.id,
            ("uploading",),
            state="published",
            progress=100.0,
            remote_id=published.remote_id,
            url=published.url,
            error=None,
        )
        log.info("clip %s published to %s: %s", job.clip_id, job.target, published.url)

    async def _rendered(self, job: Any, clip: Any) -> tuple[Path, float]:
        """The job's file, rendering it if needed; render progress reaches the card (throttled)."""
        throttle = ProgressThrottle(self.cfg.progress_every_pct, self.cfg.progress_every_s)
        updates: set[asyncio.Task[None]] = set()

        async def store(pct: float) -> None:
            if await self.store.transition(job.id, ("rendering",), progress=pct):
                await self._announce(await self.store.get(job.id))

        def rendered(fraction: float) -> None:  # called from ffmpeg's progress lines
            pct = round(min(99.0, 100.0 * fraction), 1)
            if throttle.due(pct, self.clock()):
                task = asyncio.get_running_loop().create_task(store(pct))
                updates.add(task)
                task.add_done_callback(updates.discard)

        try:
            return await self._file(clip, job.variant, rendered)
        finally:
            await asyncio.gather(*updates, return_exceptions=True)

    async def _file(
        self, clip: Any, variant: str, progress: Callable[[float], None] | None = None
    ) -> tuple[Path, float]:
        original = Path(clip.original_path)
        if not has_bytes(original):
            raise PublishError(f"the clip's video {original.name} is gone from the disk")
        if variant == "original":
            return original, clip.clip_end - clip.clip_start
        layout = layout_of(await self.store.layout(clip.guild_id, clip.streamer), self.cfg.layout)
        rendered = await render_vertical(
            original, layout, self.cfg, title=clip.title, font=self.font, progress=progress
        )
        return rendered.path, rendered.duration

    async def _prerender(self, clip_id: int) -> None:
        clip = await self.clips.get(clip_id)
        if clip is None or clip.status != "approved" or not clip.original_path:
            return
        try:
            await self._file(clip, "vertical")
        except PublishError as exc:
            log.warning("clip %s: vertical pre-render failed: %s", clip_id, exc)

    # -- helpers -------------------------------------------------------------------------------

    async def _set(self, job_id: int, from_states: Any, **fields: Any) -> None:
        if await self.store.transition(job_id, from_states, **fields):
            await self._announce(await self.store.get(job_id))

    async def _announce(self, job: Any) -> None:
        for listener in list(self.listeners):
            try:
                await listener(job)
            except Exception:  # a card that cannot be edited must not fail the upload
                log.exception("clip %s: a publish listener failed", job.clip_id)

    async def _approved(self, guild_id: int, clip_id: int) -> Any:
        clip = await self.clips.get(clip_id)
        if clip is None or clip.guild_id != guild_id:
            raise UserError("That clip no longer exists.")
        if clip.status != "approved":
            raise UserError("Only approved clips can be published: approve it first.")
        return clip

    def _target(self, name: str) -> Target:
        target = self.targets.get(name)
        if target is None:
            raise UserError(f"Unknown target {name!r}; available: {', '.join(self.targets)}.")
        return target
