"""The application core the cogs call: watch, thresholds, stats, alerts, review.

Cogs translate Discord to these calls and back; everything that decides something lives here or
below, so it is tested without Discord. Storage is reached through the small Protocols in
engine.core.stores (storage/ implements them), which keeps engine/ free of aiosqlite. Every refusal
an operator should read is a UserError with the message to show.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from engine.config import Config
from engine.core.access import may_review
from engine.core.clip_files import iso_utc as _iso
from engine.core.clip_files import remove_files as _remove_files
from engine.core.daily import day_of
from engine.core.detector_states import DetectorStates
from engine.core.history import Series, StatsHistory
from engine.core.pipeline import ClipPipeline
from engine.core.results import (
    ReviewOutcome,
    StreamerStats,
    ThresholdView,
    UserError,
    WatchResult,
)
from engine.core.stores import ClipStoreFull, ProfileStore, SettingsStore, WatchStore
from engine.core.tuning import Tuning
from engine.core.watch_hub import WatchHub
from engine.core.watch_rules import cap_refusal, lookup_refusal, valid_slug
from engine.detection.detector import Snapshot
from engine.events import Moment
from engine.kick.api import InvalidSlug, KickApi, KickError, normalize_slug

log = logging.getLogger("engine.core.app")

REVIEW_ACTIONS = ("approve", "reject", "favorite", "delete")
REVIEWABLE = ("posted", "approved", "rejected")
BULK_LIMIT = 500  # clips one /review approve_all|reject_all touches
MAX_ROW_ID = 2**63 - 1  # SQLite's INTEGER PRIMARY KEY range
RENDITIONS_WAIT_S = 10.0  # /watch of a live stream waits this long to say it is recorded once


class App:
    def __init__(
        self,
        config: Config,
        kick: KickApi,
        settings: SettingsStore,
        watches: WatchStore,
        clips: ClipStoreFull,
        hub: WatchHub,
        pipeline: ClipPipeline,
        history: StatsHistory,
        clock: Callable[[], float] = time.time,
        profiles: ProfileStore | None = None,
    ) -> None:
        self.config = config
        self.states = DetectorStates(watches, profiles)
        self.tuning = Tuning(config, watches, hub, self.states)
        self.kick = kick
        self.settings = settings
        self.watches = watches
        self.clips = clips
        self.hub = hub
        self.pipeline = pipeline
        # StatsHistory holds one streamer; `history` is the template (horizon) for each of them.
        self.history = history
        self.histories: dict[str, StatsHistory] = {}
        self.clock = clock
        self.on_moment_hooks: list[Callable[[int, Moment, int], Awaitable[None]]] = []
        self._watch_locks: dict[int, asyncio.Lock] = {}
        # (fresh clip row, action, origin "discord" | "web") after each review change that took
        # effect: each front shows what the other did (the review cog re-renders the Discord
        # message of a web action, the dashboard pushes it to open pages) and publishing reacts
        # to approvals. A failing listener only logs.
        self.review_listeners: list[Callable[[Any, str, str], Awaitable[None]]] = []

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """End sessions a previous run left open, restore every persisted watch, then resume
        unfinished clips."""
        if self.hub.sessions is not None:
            await self.hub.sessions.start()
        for row in await self.watches.all():
            if not valid_slug(row.streamer):  # saved by a version that trusted Kick's answer
                log.warning(
                    "watch %s/%r is not a Kick channel name and is not started; remove it "
                    "with /unwatch", row.guild_id, row.streamer,
                )  # fmt: skip
                continue
            try:
                state = await self.states.with_profile(row.streamer, row.state)
                await self.hub.add(row.guild_id, row.streamer, row.overrides, state)
            except Exception:  # one broken watch must not keep the others down
                log.exception("could not restore watch %s/%s", row.guild_id, row.streamer)
        await self.pipeline.resume()

    async def stop(self) -> None:
        """Hub first, pipeline second: closing the hub drains the moments already handed to
        the App, and each of them still needs an open pipeline to be stored. The pipeline then
        cancels its jobs (rows stay detected/cutting and resume on the next start)."""
        watches = dict(self.hub.watches)
        await self.hub.close()
        await self.pipeline.close()
        for (guild_id, streamer), watch in watches.items():  # after the drained moments
            await self.states.save(guild_id, streamer, watch.detector)

    async def save_states(self) -> None:
        for (guild_id, streamer), watch in list(self.hub.watches.items()):
            await self.states.save(guild_id, streamer, watch.detector)

    async def on_moment(self, guild_id: int, moment: Moment) -> None:
        """Hub callback: persist the clip and the limiter state, mark the chart."""
        clip_id = await self.pipeline.on_moment(guild_id, moment)
        if moment.revision == 0 and self.hub.sessions is not None:
            self.hub.sessions.clip_made(moment.streamer, clip_id, moment.t)
        self.history_of(moment.streamer).mark(moment.t, moment.trigger)
        day = day_of(moment.t, self.config.limits.timezone)
        await self.clips.count_day(guild_id, moment.streamer, day, new_clip=moment.revision == 0)
        watch = self.hub.get(guild_id, moment.streamer)
        if watch is not None:
            await self.states.save(guild_id, moment.streamer, watch.detector)
        for hook in self.on_moment_hooks:
            await hook(guild_id, moment, clip_id)

    # -- commands ------------------------------------------------------------------------------

    async def setup(self, guild_id: int, channel_id: int, role_id: int | None) -> None:
        await self.settings.set_review(guild_id, channel_id, role_id)

    async def watch(self, guild_id: int, streamer: str, user_id: int | None) -> WatchResult:
        """Look the channel up, start its feed, and only then save the watch: what is saved
        is a channel Kick vouched for (engine/kick/answers.py) and a feed that started."""
        slug = self._slug(streamer)
        cap = self.config.limits.max_watches_per_guild
        async with self._watch_locks.setdefault(guild_id, asyncio.Lock()):  # one cap check
            watched = await self.watches.streamers(guild_id)
            if (refusal := cap_refusal(slug, watched, cap)) is not None:
                raise UserError(refusal)
            try:
                info = await self.kick.get_channel(slug)
            except KickError as exc:
                raise UserError(lookup_refusal(slug, exc)) from exc
            slug = info.slug
            shared = slug in self.hub.feeds
            try:
                overrides = await self.watches.thresholds(guild_id, slug)
                state = await self.states.with_profile(slug, {})
                await self.hub.add(guild_id, slug, overrides, state)
            except Exception as exc:
                log.exception("watch %s/%s: the feed did not start", guild_id, slug)
                if slug not in watched:  # a half-registered watch goes too
                    await self.hub.remove(guild_id, slug)
                raise UserError(
                    f"Could not start watching `{slug}` ({exc}); nothing was saved."
                ) from exc
            try:
                added = await self.watches.add(guild_id, slug, user_id)
            except BaseException:
                if slug not in watched:
                    await self.hub.remove(guild_id, slug)
                raise
        once = getattr(self.hub.feeds.get(slug), "recorded_once", None)  # feeds of tests lack it
        single = bool(info.live and once is not None and await once(RENDITIONS_WAIT_S))
        return WatchResult(
            slug, not added, info.live, info.viewers, info.title, shared, info.live_known, single
        )

    async def unwatch(self, guild_id: int, streamer: str) -> str:
        if not valid_slug(streamer) and streamer in await self.watches.streamers(guild_id):
            await self.watches.remove(guild_id, streamer)  # a bad name an older version saved
            return streamer
        slug = self._slug(streamer)
        watch = self.hub.get(guild_id, slug)
        if watch is not None:
            await self.states.save(guild_id, slug, watch.detector)
        removed = await self.watches.remove(guild_id, slug)
        await self.hub.remove(guild_id, slug)
        if not removed:
            raise UserError(f"This server does not watch `{slug}`.")
        return slug

    async def streamers(self, guild_id: int) -> list[str]:
        return await self.watches.streamers(guild_id)

    def _slug(self, streamer: str) -> str:
        try:
            return normalize_slug(streamer.strip().removeprefix("https://kick.com/").strip("/"))
        except InvalidSlug as exc:
            raise UserError(
                f"`{streamer[:40]}` is not a Kick channel name: use the name from the channel's "
                "URL (letters, digits, _ and -, up to 25)."
            ) from exc

    async def _watched(self, guild_id: int, streamer: str) -> str:
        slug = self._slug(streamer)
        if slug not in await self.watches.streamers(guild_id):
            raise UserError(f"This server does not watch `{slug}`; use /watch first.")
        return slug

    # /thresholds: engine.core.tuning, on the watch named by a slug this guild watches.
    async def thresholds(self, guild_id: int, streamer: str) -> list[ThresholdView]:
        return await self.tuning.thresholds(guild_id, await self._watched(guild_id, streamer))

    async def set_threshold(
        self, guild_id: int, streamer: str, name: str, value: float, user_id: int | None
    ) -> float:
        slug = await self._watched(guild_id, streamer)
        return await self.tuning.set_threshold(guild_id, slug, name, value, user_id)

    async def reset_thresholds(self, guild_id: int, streamer: str, name: str | None) -> int:
        slug = await self._watched(guild_id, streamer)
        return await self.tuning.reset_thresholds(guild_id, slug, name)

    async def learnt(self, guild_id: int, streamer: str) -> Snapshot | None:
        slug = await self._watched(guild_id, streamer)
        return self.tuning.learnt(guild_id, slug, self.clock())

    async def stats(self, guild_id: int, streamer: str | None) -> list[StreamerStats]:
        slugs = [await self._watched(guild_id, streamer)] if streamer else None
        now = self.clock()
        out = []
        for watch in self.hub.for_guild(guild_id):
            if slugs is not None and watch.streamer not in slugs:
                continue
            feed = self.hub.feeds.get(watch.streamer)
            status = getattr(feed, "status", None)
            out.append(
                StreamerStats(
                    streamer=watch.streamer,
                    live=bool(getattr(status, "live", False)),
                    viewers=getattr(status, "viewers", None),
                    snapshot=watch.detector.snapshot(now),
                    clip_counts=await self.clips.status_counts(guild_id, watch.streamer),
                )
            )
        return out

    async def alerts(self, guild_id: int, user_id: int, on: bool) -> bool:
        return await self.settings.subscribe(guild_id, user_id, on)

    # -- review --------------------------------------------------------------------------------

    async def may_review(self, guild_id: int, manage_guild: bool, role_ids: Iterable[int]) -> bool:
        """The reviewer rule (engine.core.access) with this guild's configured role."""
        if manage_guild:
            return True
        settings = await self.settings.get(guild_id)
        return may_review(False, role_ids, settings.reviewer_role_id)

    async def review(
        self,
        guild_id: int,
        clip_id: int,
        action: str,
        user_id: int,
        title: str | None = None,
        *,
        origin: str = "discord",
    ) -> ReviewOutcome:
        """Apply a review action; idempotent and race-safe (compare-and-set on the status)."""
        if not 0 < clip_id <= MAX_ROW_ID:  # SQLite cannot even bind a larger integer
            raise UserError("That clip no longer exists.")
        clip = await self.clips.get(clip_id)
        if clip is None or clip.guild_id != guild_id:
            raise UserError("That clip no longer exists.")
        stamp = {"reviewed_by": user_id, "reviewed_at": _iso(self.clock())}
        if action in ("approve", "reject"):
            target = "approved" if action == "approve" else "rejected"
            if clip.status == target:
                return ReviewOutcome(clip, False, f"Already {target}.")
            if clip.status not in REVIEWABLE:
                return ReviewOutcome(clip, False, f"It is {clip.status}; nothing to review.")
            # From the status just read, not any reviewable one: of two reviewers who read the
            # same row, exactly one wins and the other is told, instead of silently overwriting.
            changed = await self.clips.transition(clip_id, (clip.status,), status=target, **stamp)
        elif action == "favorite":
            changed = await self.clips.transition(clip_id, None, favorite=int(not clip.favorite))
        elif action == "delete":
            if clip.status == "deleted":
                return ReviewOutcome(clip, False, "Already deleted.")
            changed = await self.clips.transition(
                clip_id, (clip.status,), status="deleted", **stamp
            )
            if changed:
                _remove_files(clip)
        elif action == "rename":
            name = (title or "").strip()
            if not 1 <= len(name) <= 100:
                raise UserError("A title needs 1 to 100 characters.")
            changed = await self.clips.transition(clip_id, None, title=name)
        else:
            raise UserError(f"Unknown action {action!r}.")
        fresh = await self.clips.get(clip_id)
        if not changed:
            return ReviewOutcome(fresh, False, f"Someone else reviewed it first ({fresh.status}).")
        if action in ("approve", "reject"):
            await self._learn(guild_id, clip, action == "approve")
        await self._announce(fresh, action, origin)
        return ReviewOutcome(fresh, True, "Done.")

    async def _learn(self, guild_id: int, clip: Any, approved: bool) -> None:
        """The decision teaches the watch's detector (engine.detection.learning), saved at once."""
        watch = self.hub.get(guild_id, clip.streamer)
        if watch is None:
            return
        watch.detector.learn(approved, [clip.trigger, *clip.triggers])
        await self.states.save(guild_id, clip.streamer, watch.detector)

    async def _announce(self, clip: Any, action: str, origin: str) -> None:
        for listener in list(self.review_listeners):
            try:
                await listener(clip, action, origin)
            except Exception:  # the change is saved; a front that cannot show it only logs
                log.exception("clip %s: a review listener failed after %s", clip.id, action)

    async def pending(
        self, guild_id: int, streamer: str | None = None, limit: int = 25
    ) -> tuple[list[Any], int]:
        """Posted clips waiting for review, oldest first; and how many are waiting in all."""
        slug = self._slug(streamer) if streamer else None
        rows = await self.clips.listing(guild_id, "posted", slug, limit)
        if len(rows) < limit:
            return rows, len(rows)
        counts = await self.clips.status_counts(guild_id, slug)
        return rows, max(len(rows), counts.get("posted", 0))

    async def bulk_review(
        self,
        guild_id: int,
        action: str,
        user_id: int,
        streamer: str | None = None,
        *,
        ids: Iterable[int] | None = None,
        origin: str = "discord",
    ) -> list[Any]:
        """Approve or reject every clip waiting for review (or the given ids, at most
        BULK_LIMIT); returns the clips it changed. Ids of another guild change nothing."""
        if action not in ("approve", "reject"):
            raise UserError(f"Bulk {action!r} is not possible; use approve or reject.")
        wanted = list(dict.fromkeys(int(i) for i in ids or ()))
        if len(wanted) > BULK_LIMIT:
            raise UserError(f"At most {BULK_LIMIT} clips at once.")
        if ids is None:
            slug = self._slug(streamer) if streamer else None
            wanted = [r.id for r in await self.clips.listing(guild_id, "posted", slug, BULK_LIMIT)]
        changed = []
        for clip_id in wanted:
            try:
                outcome = await self.review(guild_id, clip_id, action, user_id, origin=origin)
            except UserError:  # gone, or another guild's: skipped like an already-done one
                continue
            if outcome.changed:
                changed.append(outcome.clip)
        return changed

    async def upload_limit(self, guild_id: int) -> int:
        s = await self.settings.get(guild_id)
        return int(s.upload_limit or self.config.discord.default_upload_limit)

    def sample_history(self) -> None:
        """Scheduler job (every 10 s): one point per streamer for the /stats chart."""
        now = self.clock()
        seen: set[str] = set()
        for watch in self.hub.watches.values():
            if watch.streamer in seen:
                continue
            seen.add(watch.streamer)
            snap = watch.detector.snapshot(now)
            self.history_of(watch.streamer).record_snapshot(now, snap)

    def history_of(self, streamer: str) -> StatsHistory:
        found = self.histories.get(streamer)
        if found is None:
            found = self.histories[streamer] = StatsHistory(self.history.horizon_s)
        return found

    def chart_series(self, streamer: str, minutes: float = 30.0) -> Series:
        """The last `minutes` of one streamer's chat/viewer samples and marks, for /stats."""
        return self.history_of(streamer).series(self.clock(), minutes)

