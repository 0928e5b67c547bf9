"""Posting clips for review, exactly once, and the `/review` commands.

The pipeline calls `services.extra["poster"](clip_id)` when a clip is cut. Posting is an outbox
step: ready -> posting (compare-and-set) -> send -> record the message -> posted. A crash after
the send leaves the row in `posting`; the next attempt first looks for the message in the review
channel (its buttons carry the clip id) and only sends when none is found, so a clip is never
posted twice. Without a review channel, or without permission to post there, the clip stays
`ready` and goes out after /setup (which posts the backlog) or on the next start.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs import embeds, safe_send
from cogs.alerts import send_alerts, wants_alert
from cogs.checks import app_of, guild_id_of, reviewer_only, services_of
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

log = logging.getLogger("cogs.review")

LOOKBACK = 100  # messages searched for a clip whose post outcome a crash hid
TOO_LARGE = 40005


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
        services_of(self.bot).extra["poster"] = self.post_clip
        self.bot.add_dynamic_items(ClipButton)
        app_of(self.bot).review_listeners.append(self.on_review)

    async def cog_unload(self) -> None:
        extra = services_of(self.bot).extra
        if extra.get("poster") == self.post_clip:
            del extra["poster"]
        listeners = app_of(self.bot).review_listeners
        if self.on_review in listeners:
            listeners.remove(self.on_review)
        self.bot.remove_dynamic_items(ClipButton)
        stop_open_modals()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def on_review(self, row: Any, origin: str) -> None:
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
        """Post a ready clip to its guild's review channel (idempotent, safe to call twice)."""
        if self.bot.is_ready():
            await self._post(clip_id)
            return
        # Called from setup_hook (resume after a restart): post once connected, in the background.
        task = asyncio.get_running_loop().create_task(self._post_when_ready(clip_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post_when_ready(self, clip_id: int) -> None:
        await self.bot.wait_until_ready()
        try:
            await self._post(clip_id)
        except Exception:  # stays ready/posting; retried on the next start or /setup
            log.exception("clip %s: posting failed; it will be retried", clip_id)

    async def _post(self, clip_id: int) -> None:
        async with self._lock:
            posted = await self._post_locked(clip_id)
        if posted is not None and wants_alert(posted[0]):  # DMs must not hold up other posts
            await send_alerts(self.bot, posted[0], posted[1])

    async def _post_locked(self, clip_id: int) -> tuple[Any, str] | None:
        """Post unless already posted; returns (fresh row, jump url) once it is posted."""
        app = app_of(self.bot)
        row = await app.clips.get(clip_id)
        if row is None or row.status not in ("ready", "posting"):
            return None
        settings = await app.settings.get(row.guild_id)
        if settings.review_channel_id is None:
            log.warning(
                "clip %s (%s) is ready but guild %s has no review channel: run /setup; "
                "it is posted as soon as one is set",
                clip_id,
                row.streamer,
                row.guild_id,
            )
            return None
        channel = await self._channel(settings.review_channel_id, row)
        if channel is None:
            return None
        if row.status == "posting":
            found = await self._find_posted(channel, clip_id)
            if found is not None:
                log.info("clip %s was already posted (message %s)", clip_id, found.id)
                return await self._done(row, channel.id, found)
        elif not await app.clips.transition(clip_id, ("ready",), status="posting"):
            return None  # someone else took it meanwhile
        try:
            message = await self._send(channel, row, settings.upload_limit)
        except discord.Forbidden as exc:
            await app.clips.transition(clip_id, ("posting",), status="ready")
            log.error(
                "clip %s: no permission to post in #%s of guild %s (%s %s); it stays ready: "
                "give the bot Send Messages, Embed Links, Attach Files and Read Message "
                "History there, then run /setup again",
                clip_id,
                channel.name,
                row.guild_id,
                exc.code,
                exc.text,
            )
            return None
        return await self._done(row, channel.id, message)

    async def _done(
        self, row: Any, channel_id: int, message: discord.Message
    ) -> tuple[Any, str] | None:
        app = app_of(self.bot)
        await app.clips.record_post(row.id, row.guild_id, channel_id, message.id)
        fresh = await app.clips.get(row.id)
        return (fresh, message.jump_url) if fresh is not None else None

    async def _channel(
        self, channel_id: int, row: Any
    ) -> discord.TextChannel | discord.Thread | None:
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(channel_id)
            except (discord.NotFound, discord.Forbidden) as exc:
                log.warning(
                    "clip %s stays ready: review channel %s of guild %s is gone or hidden (%s)",
                    row.id,
                    channel_id,
                    row.guild_id,
                    exc.code,
                )
                return None
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            log.warning("clip %s stays ready: channel %s is not a text channel", row.id, channel_id)
            return None
        return channel

    async def _find_posted(self, channel: Any, clip_id: int) -> discord.Message | None:
        wanted = {custom_id(action, clip_id) for action in ACTIONS}
        me = self.bot.user.id if self.bot.user else None
        async for message in channel.history(limit=LOOKBACK):
            if message.author.id != me:
                continue
            for row in message.components:
                for child in getattr(row, "children", []):
                    if getattr(child, "custom_id", None) in wanted:
                        return message  # type: ignore[no-any-return]
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
        view = build_view(row, clip_link(self.bot, row))
        kwargs: dict[str, Any] = {"embed": embed, "view": view}
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
