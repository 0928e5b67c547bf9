"""Posting clips for review, exactly once, and the `/review` commands.

The pipeline calls `services.extra["poster"](clip_id)` when a clip is cut. Posting is an outbox
step: ready -> posting (compare-and-set) -> send -> record the message -> posted. Every send
carries the clip's own nonce with enforce_nonce (cogs.nonces), so a retry within Discord's few
minutes gets the first message back. A crash or a 5xx after the send leaves the row in
`posting`; the next attempt first looks for the message in the review channel, from the clip's
creation on (its buttons carry the clip id), and only sends when none is found, so a clip is
never posted twice. Whatever is not posted (Discord down, no review channel, no permission)
stays ready/posting and the outbox (engine.core.outbox, run here) retries it with backoff until
it is posted; /setup posts the backlog at once.

discord.py's own retry of 500/502/504 (five tries over ~25 s, the same nonce each time) is kept:
with enforce_nonce a retry cannot duplicate, and switching it off would need a private API.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from cogs import embeds, safe_send
from cogs.alerts import send_alerts, wants_alert
from cogs.checks import app_of, guild_id_of, reviewer_only, services_of
from cogs.nonces import clip_nonce
from cogs.review_view import (
    ACTIONS,
    ClipButton,
    as_posted,
    build_view,
    clip_link,
    custom_id,
    refresh_message,
    stop_open_modals,
)
from cogs.watch import streamer_autocomplete
from engine.core.outbox import Attempt, Outbox

log = logging.getLogger("cogs.review")

#: Messages searched (from the clip's creation on) for a post whose outcome a crash hid.
SEARCH_CAP = 20_000
#: Clock slack: the row's creation time comes from this machine, snowflakes from Discord's.
SEARCH_SLACK = timedelta(minutes=5)
TOO_LARGE = 40005
DONE = Attempt(True)


def created_at(row: Any) -> datetime | None:
    """When the clip row was made (minus clock slack), or None when it cannot be read."""
    try:
        when = datetime.fromisoformat(str(row.created_at))
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)) - SEARCH_SLACK


def _existing(path: str | None) -> Path | None:
    return Path(path) if path and Path(path).is_file() else None


def attachment_for(row: Any, limit: int | None) -> tuple[Path | None, str | None]:
    """(file to attach, note for the reviewer): the preview, else the thumbnail and why."""
    preview, thumb = _existing(row.preview_path), _existing(row.thumbnail_path)
    if preview is not None and (limit is None or preview.stat().st_size <= limit):
        return preview, None
    if preview is not None:
        why = "the preview is larger than this server's upload limit"
    elif row.preview_path:
        why = "the preview file is missing"
    else:
        why = "no preview fits this server's upload limit"
    if thumb is None:
        return None, f"{why}, and there is no thumbnail: open the original on the bot's disk"
    return thumb, f"{why}: thumbnail only"


@app_commands.guild_only()
class Review(commands.GroupCog, group_name="review"):
    """Clips waiting for review, in bulk."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        # One post at a time: Discord serialises a channel's sends anyway, and it keeps the
        # pipeline's hand-over, /setup's backlog and a restart's resume from racing on a clip.
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        super().__init__()

    async def cog_load(self) -> None:
        services = services_of(self.bot)
        services.extra["poster"] = self.post_clip
        self.outbox = Outbox(app_of(self.bot).clips, self.attempt)
        services.extra["outbox"] = self.outbox
        self.bot.add_dynamic_items(ClipButton)
        self._outbox_task = asyncio.get_running_loop().create_task(
            self.outbox.run(self.bot.wait_until_ready), name="clip-outbox"
        )
        app_of(self.bot).review_listeners.append(self.on_review)

    async def cog_unload(self) -> None:
        extra = services_of(self.bot).extra
        if extra.get("poster") == self.post_clip:
            del extra["poster"]
        if extra.get("outbox") is self.outbox:
            del extra["outbox"]
        listeners = app_of(self.bot).review_listeners
        if self.on_review in listeners:
            listeners.remove(self.on_review)
        self.bot.remove_dynamic_items(ClipButton)
        stop_open_modals()
        self._outbox_task.cancel()
        await asyncio.gather(self._outbox_task, return_exceptions=True)

    async def on_review(self, row: Any, action: str, origin: str) -> None:
        """App listener: a change made elsewhere (the dashboard) re-renders the Discord message
        in the background (a bulk action on the web must not wait for Discord's edit rate
        limit); a button click already edited its own message."""
        if origin == "discord":
            return
        task = asyncio.get_running_loop().create_task(refresh_message(self.bot, row))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- posting -------------------------------------------------------------------------------

    async def post_clip(self, clip_id: int) -> None:
        """Post a ready clip now (the pipeline's hand-over); what fails goes to the outbox."""
        if not self.bot.is_ready():  # setup_hook's resume: the outbox posts once connected
            self.outbox.wake()
            return
        attempt = await self.attempt(clip_id)
        if not attempt.posted:
            reason = attempt.reason or "not posted"
            log.warning(
                "clip %s is not posted yet: %s; the outbox retries it in the background",
                clip_id,
                reason,
            )
            row = await app_of(self.bot).clips.get(clip_id)
            self.outbox.failed(clip_id, int(row.guild_id) if row else 0, reason)

    async def attempt(self, clip_id: int) -> Attempt:
        """One try at posting a clip (idempotent, safe to call twice or concurrently)."""
        try:
            async with self._lock:
                attempt, posted = await self._post_locked(clip_id)
        except discord.HTTPException as exc:  # 5xx after discord.py's own retries, 4xx...
            detail = (exc.text or "no detail")[:120]
            return Attempt(False, f"Discord answered {exc.status} ({exc.code}: {detail})")
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            return Attempt(False, f"Discord could not be reached ({type(exc).__name__})")
        if posted is not None and wants_alert(posted[0]):  # DMs must not hold up other posts
            await send_alerts(self.bot, posted[0], posted[1])
        return attempt

    async def _post_locked(self, clip_id: int) -> tuple[Attempt, tuple[Any, str] | None]:
        """Post unless already posted; (attempt, (fresh row, jump url) once it is posted)."""
        app = app_of(self.bot)
        row = await app.clips.get(clip_id)
        if row is None or row.status not in ("ready", "posting"):
            return DONE, None
        settings = await app.settings.get(row.guild_id)
        if settings.review_channel_id is None:
            why = (
                f"guild {row.guild_id} has no review channel: run /setup; "
                "it is posted as soon as one is set"
            )
            return Attempt(False, why), None
        channel = await self._channel(settings.review_channel_id, row)
        if isinstance(channel, str):
            return Attempt(False, channel), None
        if row.status == "posting":
            found = await self._find_posted(channel, row)
            if found is not None:
                log.info("clip %s was already posted (message %s)", clip_id, found.id)
                return DONE, await self._done(row, channel.id, found)
        elif not await app.clips.transition(clip_id, ("ready",), status="posting"):
            return DONE, None  # someone else took it meanwhile
        try:
            message = await self._send(channel, row, settings.upload_limit)
        except discord.Forbidden as exc:
            await app.clips.transition(clip_id, ("posting",), status="ready")
            why = (
                f"no permission to post in #{channel.name} of guild {row.guild_id} "
                f"({exc.code} {exc.text}): give the bot Send Messages, Embed Links, Attach Files "
                "and Read Message History there"
            )
            return Attempt(False, why), None
        return DONE, await self._done(row, channel.id, message)

    async def _done(
        self, row: Any, channel_id: int, message: discord.Message
    ) -> tuple[Any, str] | None:
        app = app_of(self.bot)
        await app.clips.record_post(row.id, row.guild_id, channel_id, message.id)
        fresh = await app.clips.get(row.id)
        return (fresh, message.jump_url) if fresh is not None else None

    async def _channel(
        self, channel_id: int, row: Any
    ) -> discord.TextChannel | discord.Thread | str:
        """The review channel, or why it cannot be used."""
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(channel_id)
            except (discord.NotFound, discord.Forbidden) as exc:
                return (
                    f"the review channel {channel_id} of guild {row.guild_id} is gone or hidden "
                    f"({exc.code}): run /setup with a channel the bot can see"
                )
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            return f"channel {channel_id} is not a text channel: run /setup with a text channel"
        return channel

    async def _find_posted(self, channel: Any, row: Any) -> discord.Message | None:
        """The bot's earlier message of this clip, found by its buttons (Discord does not return
        a message's nonce later), searched forward from the clip's creation: the post cannot be
        older, and however busy the channel is since then, it is not missed."""
        wanted = {custom_id(action, row.id) for action in ACTIONS}
        me = self.bot.user.id if self.bot.user else None
        since = created_at(row)
        after = discord.Object(discord.utils.time_snowflake(since)) if since else None
        seen = 0
        async for message in channel.history(limit=SEARCH_CAP, after=after, oldest_first=True):
            seen += 1
            if message.author.id != me:
                continue
            for comp in message.components:
                for child in getattr(comp, "children", []):
                    if getattr(child, "custom_id", None) in wanted:
                        return message  # type: ignore[no-any-return]
        if seen >= SEARCH_CAP:
            log.warning(
                "clip %s: looked through %d messages since it was made without finding its post; "
                "posting it (its nonce still prevents a duplicate within minutes)",
                row.id,
                seen,
            )
        return None

    async def _send(self, channel: Any, row: Any, limit: int | None) -> discord.Message:
        shown = as_posted(row)
        path, note = attachment_for(row, limit)
        try:
            return await self._send_with(channel, shown, path, note)
        except discord.HTTPException as exc:
            if exc.code != TOO_LARGE or path is None or path == _existing(row.thumbnail_path):
                raise
        # The guild's limit dropped (boost lost) or was unknown: the thumbnail fits anyway.
        log.info(
            "clip %s: preview too large for guild %s, posting the thumbnail", row.id, row.guild_id
        )
        thumb = _existing(row.thumbnail_path)
        note = "the preview is larger than this server's upload limit: thumbnail only"
        if thumb is None:
            note = "the preview is larger than this server's upload limit and there is no thumbnail"
        return await self._send_with(channel, shown, thumb, note)

    async def _send_with(
        self, channel: Any, row: Any, path: Path | None, note: str | None
    ) -> discord.Message:
        if note:
            merged = f"{row.note}; {note}" if row.note and note not in row.note else (note)
            await app_of(self.bot).clips.transition(row.id, None, note=merged)
            row.note = merged
        is_image = path is not None and path.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp")
        image = f"attachment://{path.name}" if path is not None and is_image else None
        embed = embeds.clip_embed(row, image_url=image)
        # The clip's own nonce (enforce_nonce): every attempt, in every process, gets the first
        # message back from Discord instead of making a second one.
        view = build_view(row, link=clip_link(self.bot, row))
        kwargs: dict[str, Any] = {"embed": embed, "view": view, "nonce": clip_nonce(row)}
        if path is not None:
            kwargs["file"] = discord.File(path, filename=path.name)
        try:
            return await channel.send(**kwargs)  # type: ignore[no-any-return]
        finally:
            file = kwargs.get("file")
            if file is not None:
                file.close()

    # -- /review -------------------------------------------------------------------------------

    @app_commands.command(name="pending", description="Clips waiting for review, with links")
    @app_commands.describe(streamer="Only this streamer")
    @app_commands.autocomplete(streamer=streamer_autocomplete)
    @reviewer_only()
    async def pending(self, interaction: discord.Interaction, streamer: str | None = None) -> None:
        gid = guild_id_of(interaction)
        await safe_send.defer(interaction)  # reads can queue behind a write waiting for a lock
        rows, total = await app_of(self.bot).pending(gid, streamer)
        await safe_send.send(interaction, embed=embeds.pending_embed(gid, rows, total))

    @app_commands.command(name="approve_all", description="Approve every clip waiting for review")
    @app_commands.describe(streamer="Only this streamer's clips")
    @app_commands.autocomplete(streamer=streamer_autocomplete)
    @reviewer_only()
    async def approve_all(
        self, interaction: discord.Interaction, streamer: str | None = None
    ) -> None:
        await self._bulk(interaction, "approve", streamer)

    @app_commands.command(name="reject_all", description="Reject every clip waiting for review")
    @app_commands.describe(streamer="Only this streamer's clips")
    @app_commands.autocomplete(streamer=streamer_autocomplete)
    @reviewer_only()
    async def reject_all(
        self, interaction: discord.Interaction, streamer: str | None = None
    ) -> None:
        await self._bulk(interaction, "reject", streamer)

    async def _bulk(
        self, interaction: discord.Interaction, action: str, streamer: str | None
    ) -> None:
        gid = guild_id_of(interaction)
        await safe_send.defer(interaction)
        changed = await app_of(self.bot).bulk_review(gid, action, interaction.user.id, streamer)
        # The database has changed by now: a message that cannot be re-rendered is counted and
        # reported, never an error for an action that worked.
        outcomes = Counter([await refresh_message(self.bot, row) for row in changed])
        verb = "Approved" if action == "approve" else "Rejected"
        text = f"{verb} {len(changed)} clip(s)"
        text += f" of `{streamer.strip().lower()}`." if streamer else "."
        gone, failed = outcomes["gone"], outcomes["failed"]
        if gone:
            text += f" {gone} review message(s) could not be updated (deleted or hidden)."
        if failed:
            text += (
                f" {failed} review message(s) could not be updated because Discord refused the "
                "edit; their new status is saved and shows at the next click."
            )
        await safe_send.send(interaction, text)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Review(bot))
