"""Feed: everything one streamer produces, shared by every guild that watches it.

One Feed owns the channel lookup, the chat socket, the viewer poller, the recorder and its
segment index, and the Clipper that cuts from that index. Detectors subscribe to its events;
two guilds watching one streamer share one recording and one chat subscription (and every
Feed's chat rides the bot's few shared Pusher sockets when given a ChatPool).

Why the gating: chat and viewer events reach subscribers only while the channel is live. A
moment decided while nothing is recorded would become a clip that cannot be cut, so offline chat
is counted but not forwarded. LiveChange events always go through (sessions start and end).

Supervision: each piece runs in its own task; when one dies of an unexpected error it is logged
and restarted after a jittered backoff, so a broken chat socket never stops the recording and a
crashed recorder never stops chat. start() and stop() are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.backoff import Backoff
from engine.config import Config
from engine.core.health import FeedHealth, feed_health
from engine.detection.emotes import EmoteParser
from engine.events import ChatMessage, Event, LiveChange, ViewerSample
from engine.kick.api import ChannelIds, ChannelNotFound, KickApi, KickError, normalize_slug
from engine.kick.chat import ChatClient, PusherRefused
from engine.kick.chat_pool import ChatLease, ChatPool
from engine.kick.models import LiveStatus
from engine.kick.poller import ViewerPoller
from engine.kick.pusher import LIVE_EVENT, ControlFrame
from engine.media.clipper import Clipper
from engine.media.recorder import Recorder
from engine.media.segment_journal import SegmentJournal
from engine.media.segments import SegmentIndex

log = logging.getLogger("engine.core.feed")

Subscriber = Callable[[Event], None]


@dataclass(slots=True)
class FeedStatus:
    """What /stats and health checks read."""

    slug: str
    live: bool = False
    viewers: int | None = None
    chatroom_id: int | None = None
    chat_connected: bool = False
    chat_messages: int = 0
    offline_messages: int = 0
    recorder_state: dict[str, str] = field(default_factory=dict)
    error: str | None = None


class Feed:
    """One streamer's chat, viewers and video; see the module docstring."""

    def __init__(
        self,
        slug: str,
        config: Config,
        api: KickApi,
        *,
        segments_dir: str | Path,
        clips_dir: str | Path,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        recorder_kwargs: dict[str, Any] | None = None,
        chat_kwargs: dict[str, Any] | None = None,
        chat_pool: ChatPool | None = None,
    ) -> None:
        """``chat_pool``: the bot's shared Pusher sockets (engine/kick/chat_pool.py); without
        one the Feed opens its own socket (``chat_kwargs`` go to it)."""
        self.slug = normalize_slug(slug)
        self.config = config
        self.api = api
        self.clock = clock
        self._sleep = sleep
        self.emotes = EmoteParser.from_config(config.triggers.emote_flood)
        rec = config.recording
        self.index = SegmentIndex(rec.renditions)
        # What an earlier run recorded stays cuttable: a restart mid-clip loses nothing.
        self.journal = SegmentJournal(Path(segments_dir) / self.slug)
        restored = self.journal.restore(self.index)
        recovered = self.journal.recover(self.index)  # the file a crash left half-written
        if restored or recovered:
            log.info(
                "feed %s: %d recorded segments restored, %d recovered",
                self.slug, restored, recovered,
            )  # fmt: skip
        self.recorder = Recorder(
            self.slug,
            config.kick.stream_url,
            segments_dir,
            renditions=rec.renditions,
            segment_s=rec.segment_s,
            clock=clock,
            index=self.index,
            backoff_initial_s=rec.restart_backoff_initial_s,
            backoff_max_s=rec.restart_backoff_max_s,
            stop_timeout_s=rec.stop_timeout_s,
            stream_timeout_s=rec.stream_timeout_s,
            live_edge=rec.live_edge,
            queue_deadline=rec.queue_deadline,
            stall_timeout_s=rec.stall_timeout_s,
            on_segment=self.journal.append,
            **(recorder_kwargs or {}),
        )
        clips = config.clips
        self.clipper = Clipper(
            self.index,
            Path(clips_dir) / self.slug,
            wait_timeout_s=clips.wait_timeout_s,
            preview_wait_s=clips.preview_wait_s,
            thumbnail=clips.thumbnail,
            transcode_codec=clips.preview_codec_fallback,
            transcode_preset=clips.preview_preset,
            max_preview_height=clips.preview_max_height,
            ffmpeg_timeout_s=clips.ffmpeg_timeout_s,
            clock=clock,
            # A stream that ended will not record the rest of the window: cut what exists now.
            is_recording=lambda: self.recorder.running,
        )
        self._chat_kwargs = chat_kwargs or {}
        self._chat_pool = chat_pool
        self._subscribers: list[Subscriber] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._side: set[asyncio.Task[None]] = set()
        self._rec_lock = asyncio.Lock()
        self._chat: ChatClient | ChatLease | None = None
        self._poller: ViewerPoller | None = None
        self.status = FeedStatus(self.slug)
        self.recording_paused = False

    # -- subscribers ---------------------------------------------------------------------------

    def subscribe(self, fn: Subscriber) -> None:
        if fn not in self._subscribers:
            self._subscribers.append(fn)

    def unsubscribe(self, fn: Subscriber) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(fn)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def _emit(self, event: Event) -> None:
        for fn in list(self._subscribers):
            try:
                fn(event)
            except Exception:  # one guild's bug must not starve the others
                log.exception("feed %s: a subscriber failed on %s", self.slug, type(event).__name__)

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    async def start(self) -> None:
        if self._tasks:
            return
        self._tasks = [asyncio.create_task(self._main(), name=f"feed-{self.slug}")]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        if self._chat is not None:
            self._chat.stop()
        if self._poller is not None:
            self._poller.stop()
        for task in [*tasks, *self._side]:
            task.cancel()
        await asyncio.gather(*tasks, *self._side, return_exceptions=True)
        self._side.clear()
        # The lock _sync_recorder holds: a pause_recording() racing this stop cannot start the
        # recorder again behind it (live is False first, so one waiting for the lock stops it).
        self.status.live = False
        async with self._rec_lock:
            await self.recorder.stop()
        self.status.chat_connected = False

    async def pause_recording(self, paused: bool) -> None:
        """Disk nearly full: stop writing segments until there is room again."""
        self.recording_paused = paused
        await self._sync_recorder()

    # -- the pieces ----------------------------------------------------------------------------

    async def _main(self) -> None:
        ids = await self._lookup()
        if ids is None:
            return
        self.status.chatroom_id = ids.chatroom_id
        if self._chat_pool is not None:
            self._chat = self._chat_pool.lease(ids.chatroom_id, ids.channel_id, self._on_chat)
        else:
            self._chat = ChatClient.from_config(
                self.config.kick,
                ids.chatroom_id,
                self._on_chat,
                self.emotes,
                clock=self.clock,
                channel_id=ids.channel_id,
                **self._chat_kwargs,
            )
        self._poller = ViewerPoller(
            self.api,
            self.slug,
            self._on_poll,
            interval_s=self.config.kick.poll_interval_s,
            clock=self.clock,
            sleep=self._sleep,
        )
        chat, poller = self._chat, self._poller
        await asyncio.gather(
            self._supervise("chat", chat.run),
            self._supervise("poller", poller.run),
        )

    async def _lookup(self) -> ChannelIds | None:
        """Channel ids, retried while Kick is unreachable; None (logged) for a dead slug."""
        backoff = Backoff(self.config.kick.backoff_initial_s, self.config.kick.backoff_max_s)
        while True:
            try:
                return await self.api.get_ids(self.slug)
            except ChannelNotFound as exc:
                self.status.error = str(exc)
                log.error("feed %s: %s; not watching it", self.slug, exc)
                return None
            except KickError as exc:
                self.status.error = str(exc)
                delay = backoff.next_delay()
                log.warning(
                    "feed %s: lookup failed (%s); retrying in %.0f s", self.slug, exc, delay
                )
                await self._sleep(delay)

    async def _supervise(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        backoff = Backoff(self.config.kick.backoff_initial_s, self.config.kick.backoff_max_s)
        while True:
            try:
                await run()
                return  # stopped on purpose
            except asyncio.CancelledError:
                raise
            except PusherRefused as exc:
                # Retrying as is cannot help and the client already said so (one ERROR line);
                # with kick.chat_refused_retry_s null the operator chose to leave chat off.
                self.status.error = f"{name}: {exc}"
                log.info("feed %s: %s stays off until the bot restarts", self.slug, name)
                return
            except Exception as exc:
                self.status.error = f"{name}: {exc}"
                delay = backoff.next_delay()
                log.warning(
                    "feed %s: %s died (%s); restarting in %.0f s", self.slug, name, exc, delay
                )
                await self._sleep(delay)

    def _on_chat(self, item: ChatMessage | ControlFrame) -> None:
        if isinstance(item, ChatMessage):
            self.status.chat_connected = True
            if self.status.live:
                self.status.chat_messages += 1
                self._emit(item)
            else:
                self.status.offline_messages += 1
            return
        # Kick's own live/offline push beats the next poll by up to a poll interval; the poll
        # stays authoritative: told what the push said, the poller emits the change back if
        # Kick's status still disagrees (a stray or early StopStreamBroadcast).
        live = item.event == LIVE_EVENT
        self._set_live(live, self.clock())
        if self._poller is not None:
            self._poller.assume(live)

    def _on_poll(self, event: ViewerSample | LiveChange) -> None:
        if isinstance(event, LiveChange):
            self._set_live(event.live, event.t)
            return
        self.status.viewers = event.viewers
        if self.status.live:
            self._emit(event)

    def _set_live(self, live: bool, t: float) -> None:
        if live == self.status.live:
            return
        self.status.live = live
        log.info("feed %s: %s", self.slug, "live" if live else "offline")
        self._emit(LiveChange(t, live))
        task = asyncio.get_running_loop().create_task(self._sync_recorder())
        self._side.add(task)
        task.add_done_callback(self._side.discard)

    async def _sync_recorder(self) -> None:
        """Bring the recorder to the state live/paused ask for *now*; serialised, so a quick
        offline-online flap cannot leave it stopped while live."""
        async with self._rec_lock:
            if self.status.live and not self.recording_paused:
                await self.recorder.start()
            else:
                await self.recorder.stop()

    def health(self) -> FeedHealth:
        """For the heartbeat file: is this feed's task still doing its job?"""
        status = self.snapshot()
        task = self._tasks[0] if self._tasks else None
        done = task is not None and task.done()
        error = task.exception() if done and task is not None and not task.cancelled() else None
        return feed_health(
            task_done=done,
            task_error=error,
            running=task is not None,
            live=status.live,
            chat_connected=status.chat_connected,
            recording=self.recorder.running,
            error=status.error,
        )

    async def recorded_once(self, within_s: float) -> bool:
        """True when the preview rendition is this stream's original, so it is recorded once
        (engine/media/renditions.py); waits up to ``within_s`` for a starting recorder."""
        probe = self.recorder.probe
        if len(probe.renditions) < 2:
            return False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within_s):
                await probe.known.wait()
        return bool(self.index.same_as_original)

    @property
    def live_status(self) -> LiveStatus | None:
        """The status Kick answered at the last poll (livestream id, title), None before one."""
        return self._poller.latest if self._poller is not None else None

    def snapshot(self) -> FeedStatus:
        self.status.recorder_state = dict(self.recorder.state)
        if self._chat is not None:
            self.status.chat_connected = bool(self._chat.subscribed)
        return self.status
