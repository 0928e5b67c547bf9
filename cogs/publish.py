"""Publishing from Discord: the Publish / Retry buttons on approved clips' review cards, the
live state on those cards, and `/publish layout` (reviewers only).

Thin: every decision is in publishing.PublishService (the same calls the web dashboard makes);
this translates clicks to those calls and keeps the cards showing each job's state. Card edits
are coalesced per clip: while one edit is in flight, later changes only mark the clip dirty and
the next edit reads the freshest row, so a fast upload costs a few edits, never a backlog.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs import errors, safe_send
from cogs.checks import NOT_REVIEWER, app_of, guild_id_of, may_review, reviewer_only, services_of
from cogs.publish_card import TEMPLATE
from cogs.review_view import refresh_message, update_message
from cogs.watch import streamer_autocomplete

log = logging.getLogger("cogs.publish")
NOT_SET_UP = "Publishing is not available on this bot."
LAYOUT_CHOICES = [
    app_commands.Choice(name="center: the middle of the frame (or your crop)", value="center"),
    app_commands.Choice(name="split: facecam on top, gameplay below", value="split"),
    app_commands.Choice(name="fit: the whole frame over a blurred copy", value="fit"),
]


def service_of(client: discord.Client) -> Any:
    publisher = getattr(services_of(client), "publisher", None)
    return publisher.service if publisher is not None else None


class PublishButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    """Publish / Retry on a review card; the clip id is in the custom_id, the rest in storage."""

    def __init__(self, action: str, clip_id: int) -> None:
        super().__init__(
            discord.ui.Button(label="Publish", custom_id=f"publish:{action}:{clip_id}")
        )
        self.action, self.clip_id = action, clip_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any
    ) -> PublishButton:
        return cls(match["action"], int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        try:
            await click(interaction, self.action, self.clip_id)
        except Exception as exc:  # UserError -> its text; anything else -> a logged reference
            await errors.report(interaction, exc)


async def click(interaction: discord.Interaction, action: str, clip_id: int) -> None:
    if not await may_review(interaction):
        await safe_send.send(interaction, NOT_REVIEWER)
        return
    service = service_of(interaction.client)
    if service is None:
        await safe_send.send(interaction, NOT_SET_UP)
        return
    gid, uid = interaction.guild_id or 0, interaction.user.id
    call = service.enqueue if action == "go" else service.retry
    result = await call(gid, clip_id, "youtube", uid)
    if not result.created:
        await safe_send.send(interaction, result.message)
        return
    row = await app_of(interaction.client).clips.get(clip_id)
    await update_message(interaction, row)


@app_commands.guild_only()
class Publish(commands.GroupCog, group_name="publish"):
    """Vertical layouts per streamer; the Publish button lives on the review cards."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self._editing: dict[int, asyncio.Task[None]] = {}
        self._dirty: set[int] = set()
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(PublishButton)
        service = service_of(self.bot)
        if service is not None:
            service.listeners.append(self.on_job)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(PublishButton)
        service = service_of(self.bot)
        if service is not None and self.on_job in service.listeners:
            service.listeners.remove(self.on_job)
        for task in list(self._editing.values()):
            task.cancel()
        await asyncio.gather(*self._editing.values(), return_exceptions=True)

    # -- the cards ---------------------------------------------------------------------------

    async def on_job(self, job: Any) -> None:
        """A job changed: bring its clip's card up to date (coalesced, in the background)."""
        clip_id = job.clip_id
        if clip_id in self._editing:
            self._dirty.add(clip_id)
            return
        task = asyncio.get_running_loop().create_task(self._edit(clip_id))
        self._editing[clip_id] = task

    async def _edit(self, clip_id: int) -> None:
        try:
            await self.bot.wait_until_ready()
            while True:
                self._dirty.discard(clip_id)
                row = await app_of(self.bot).clips.get(clip_id)
                if row is not None:
                    await refresh_message(self.bot, row)
                if clip_id not in self._dirty:
                    return
        except Exception:  # a card that cannot be edited is logged; the job goes on
            log.exception("clip %s: could not update its card", clip_id)
        finally:
            self._editing.pop(clip_id, None)

    # -- /publish layout ---------------------------------------------------------------------

    @app_commands.command(
        name="layout", description="How a streamer's clips become 9:16, with a preview frame"
    )
    @app_commands.describe(
        streamer="The streamer",
        layout="Leave empty to see the current layout",
        crop="center: the part to keep, x,y,width,height in % of the frame (default: the middle)",
        facecam="split: the facecam rectangle, x,y,width,height in %",
        gameplay="split: the gameplay rectangle, x,y,width,height in %",
    )
    @app_commands.choices(layout=LAYOUT_CHOICES)
    @app_commands.autocomplete(streamer=streamer_autocomplete)
    @reviewer_only()
    async def layout(
        self,
        interaction: discord.Interaction,
        streamer: str,
        layout: str | None = None,
        crop: str | None = None,
        facecam: str | None = None,
        gameplay: str | None = None,
    ) -> None:
        gid = guild_id_of(interaction)
        service = service_of(self.bot)
        if service is None:
            await safe_send.send(interaction, NOT_SET_UP)
            return
        await safe_send.defer(interaction)  # the preview runs ffmpeg
        layouts = service.layouts
        if layout is None:
            current = await layouts.get(gid, streamer)
            verb = "is"
        else:
            current = await layouts.set(
                gid, streamer, layout, crop, facecam, gameplay, interaction.user.id
            )
            verb = "is now"
        slug = streamer.strip().lower()
        embed = discord.Embed(
            title=f"9:16 layout of {slug}",
            description=f"The layout {verb} **{current.describe()}**.",
            colour=discord.Colour.blurple(),
        )
        preview = await layouts.preview(gid, slug)
        if preview is None:
            embed.set_footer(text=f"No clip of {slug} on disk yet: the preview shows once one is.")
            await safe_send.send(interaction, embed=embed)
            return
        embed.set_image(url="attachment://layout-preview.png")
        embed.set_footer(text=f"Preview: a frame of clip #{preview.clip_id}, at half size")
        file = discord.File(io.BytesIO(preview.png), filename="layout-preview.png")
        await safe_send.send(interaction, embed=embed, file=file)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Publish(bot))
