"""The review buttons under each clip: Approve / Reject / Favorite / Rename / Delete.

Each button is a `discord.ui.DynamicItem` whose custom_id carries the action and the clip id
(`clip:approve:42`). discord.py matches clicks against the template, so the buttons keep working
after a restart with no stored view list: every click reloads the clip from the database, the
App applies the action with a compare-and-set, and the message is re-rendered from the row.
The loser of a race (double click, two reviewers) changes nothing and is told who was first.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import weakref
from typing import Any
from urllib.parse import urlsplit

import discord

from cogs import checks, embeds, errors, publish_card, safe_send
from cogs.checks import NOT_REVIEWER, app_of, may_review
from engine.core.stores import StoreBusy

log = logging.getLogger("cogs.review_view")

ACTIONS = ("approve", "reject", "favorite", "rename", "delete")
RENAME_INPUT = "clip:rename-modal:title"
MODAL_TIMEOUT_S = 15 * 60  # an interaction token's life
#: Every `clip:<action>:<id>` custom id, valid or not: a modified client can send any, and one
#: that matched no template would be dropped silently ("This interaction failed"). Invalid ones
#: are answered in the callback instead (see `parse_clip_id`).
TEMPLATE = r"clip:(?P<action>[^:]{1,40}):(?P<id>[^:]{0,90})"
MAX_CLIP_ID = 2**63 - 1  # SQLite's INTEGER PRIMARY KEY range
INVALID = "This button is not valid (it names no clip this bot could have posted)."


def custom_id(action: str, clip_id: int) -> str:
    return f"clip:{action}:{clip_id}"


def parse_clip_id(text: str) -> int | None:
    """The clip id of a custom id, or None unless it is a plain decimal in SQLite's range."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_CLIP_ID else None


def button_specs(row: Any) -> list[tuple[str, str, discord.ButtonStyle, bool]]:
    """(action, label, style, disabled) for the clip's current state."""
    status = row.status
    gone = status == "deleted"
    grey = discord.ButtonStyle.secondary
    approved, rejected = status == "approved", status == "rejected"
    return [
        (
            "approve",
            "Approved" if approved else "Approve",
            discord.ButtonStyle.success,
            gone or approved,
        ),
        (
            "reject",
            "Rejected" if rejected else "Reject",
            discord.ButtonStyle.danger,
            gone or rejected,
        ),
        ("favorite", "★ Favorited" if row.favorite else "☆ Favorite", grey, gone),
        ("rename", "Rename", grey, gone),
        ("delete", "Deleted" if gone else "Delete", grey, gone),
    ]


class ClipButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    """One review button; its state is the custom_id, everything else comes from storage."""

    def __init__(
        self,
        action: str,
        clip_id: int | None,
        *,
        label: str | None = None,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        disabled: bool = False,
        raw_id: str | None = None,
    ) -> None:
        """``clip_id`` None (with the ``raw_id`` clicked): a custom id that names no clip."""
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label or action.title(),
            style=style,
            custom_id=raw_id or custom_id(action, clip_id or 0),
            disabled=disabled,
        )
        super().__init__(button)
        self.action = action
        self.clip_id = clip_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any
    ) -> ClipButton:
        """Never raises: discord.py would log it and leave the click unanswered."""
        button: Any = item
        return cls(
            str(match["action"]),
            parse_clip_id(str(match["id"])),
            label=button.label,
            style=button.style,
            raw_id=str(match.group(0)),
        )

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        if self.clip_id is None or self.action not in ACTIONS:
            log.info("ignored a click on invalid custom id %r", interaction.data)
            await safe_send.send(interaction, INVALID)
            return
        try:
            await click(interaction, self.action, self.clip_id)
        except Exception as exc:  # the one error path: ephemeral text or a logged reference
            await errors.report(interaction, exc)


def build_view(row: Any, jobs: Any = (), link: str | None = None) -> discord.ui.View:
    """The review buttons, the publish state's button (Publish / Retry / the video's link) and,
    with `link` (the dashboard's clip page), an "Open / original" button."""
    view = discord.ui.View(timeout=None)
    for action, label, style, disabled in button_specs(row):
        view.add_item(ClipButton(action, row.id, label=label, style=style, disabled=disabled))
    for item in publish_card.items(row, jobs):
        view.add_item(item)
    if link is not None:
        view.add_item(discord.ui.Button(label="Open / original", url=link))
    return view


def clip_link(client: discord.Client, row: Any) -> str | None:
    """The clip's dashboard page when web.public_url is set (and the dashboard is on)."""
    web = app_of(client).config.web
    if not web.enabled or not web.public_url:
        return None
    return f"{web.public_url.rstrip('/')}/clips/{row.id}"


async def render(client: discord.Client, row: Any, image_url: str | None) -> tuple[Any, Any]:
    """The card's embed and buttons from the row and its publish jobs."""
    jobs = await publish_card.jobs_of(client, row.id)
    embed = publish_card.decorate(embeds.clip_embed(row, image_url=image_url), jobs)
    return embed, build_view(row, jobs, clip_link(client, row))


def image_of(message: discord.Message | None) -> str | None:
    """Keep the picture an embed already shows (the thumbnail fallback) across re-renders.

    Discord answers an ``attachment://x.jpg`` image with the attachment's signed CDN URL, which
    expires after about a day (discord.py passes it through as is). Sent back in an edit, that
    URL is stored as an external image: the thumbnail breaks a day later and the attachment
    shows a second time. So an image that is one of the message's attachments is referred to
    as ``attachment://<filename>`` again; edits keep the attachments, so the reference holds.
    """
    if message is None or not message.embeds:
        return None
    url = message.embeds[0].image.url
    if not url:
        return None
    path = urlsplit(url).path
    for att in message.attachments:
        if path.endswith(f"/{att.id}/{att.filename}") or path == urlsplit(att.url).path:
            return f"attachment://{att.filename}"
    return url


async def refresh_message(client: discord.Client, row: Any) -> str:
    """Re-render a clip's review message from its row, best effort.

    Returns "updated"; "gone" when the message cannot be reached (never posted, deleted,
    channel hidden: 404/403); "failed" for any other refusal (logged), e.g. Discord's 30046
    on edits of old messages. Never raises for Discord's answers: callers have already
    changed the database and must not report that as a failure.
    """
    if not row.channel_id or not row.message_id:
        return "gone"
    channel = client.get_channel(row.channel_id)
    if not isinstance(channel, discord.TextChannel | discord.Thread):
        return "gone"
    try:
        message = await channel.fetch_message(row.message_id)
        embed, view = await render(client, row, image_of(message))
        await message.edit(embed=embed, view=view)
    except (discord.NotFound, discord.Forbidden):
        return "gone"
    except discord.HTTPException as exc:
        log.warning("clip %s: could not update its review message: %s", row.id, exc)
        return "failed"
    return "updated"


def loser_text(clip: Any) -> str:
    return f"Nothing changed: this clip is already {embeds.status_line(clip)}."


async def click(interaction: discord.Interaction, action: str, clip_id: int) -> None:
    """One button press: acknowledge, check, act through the App, re-render the message.

    The acknowledgement comes before any database access: a database another program keeps
    locked makes a write wait out the busy timeout (5 s), longer than Discord's 3 s, and the
    bot's one connection runs statements in turn, so even a read can queue behind such a write.
    The member would see "This interaction failed" instead of our "busy, try again". Rename
    opens a modal, which must be the first answer: its reads get checks.PRE_ACK_BUDGET_S.
    """
    if action == "rename":
        await open_rename(interaction, clip_id)
        return
    await safe_send.defer_update(interaction)
    if not await may_review(interaction):
        await safe_send.send(interaction, NOT_REVIEWER)
        return
    app = app_of(interaction.client)
    gid = interaction.guild_id or 0
    outcome = await app.review(gid, clip_id, action, interaction.user.id)
    if not outcome.changed:
        await safe_send.send(interaction, loser_text(outcome.clip))
        return
    await update_message(interaction, outcome.clip)


async def open_rename(interaction: discord.Interaction, clip_id: int) -> None:
    """The rename modal, prefilled with the current title (reads bounded, see click)."""
    try:
        async with asyncio.timeout(checks.PRE_ACK_BUDGET_S):
            allowed = await may_review(interaction)
            row = await app_of(interaction.client).clips.get(clip_id) if allowed else None
    except TimeoutError as exc:
        raise StoreBusy("the database did not answer before Discord's deadline") from exc
    if not allowed:
        await safe_send.send(interaction, NOT_REVIEWER)
        return
    if row is None or row.guild_id != (interaction.guild_id or 0):
        await safe_send.send(interaction, "That clip no longer exists.")
        return
    await interaction.response.send_modal(RenameModal(clip_id, interaction.user.id, row.title))


async def update_message(interaction: discord.Interaction, row: Any) -> None:
    """Re-render the clicked message: in the response, or by editing it after a defer."""
    embed, view = await render(interaction.client, row, image_of(interaction.message))
    if interaction.response.is_done():
        await interaction.edit_original_response(embed=embed, view=view)
    else:
        await interaction.response.edit_message(embed=embed, view=view)


def as_posted(row: Any) -> Any:
    """The row as the review message shows it right after posting (before the DB says so)."""
    return dataclasses.replace(row, status="posted")


class RenameModal(discord.ui.Modal, title="Rename clip"):
    """A title for the clip (shown in the review message and used for exports)."""

    new_title: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Title",
        custom_id=RENAME_INPUT,
        min_length=1,
        max_length=100,
        placeholder="What happens in this clip?",
    )

    def __init__(self, clip_id: int, user_id: int, current: str | None) -> None:
        # discord.py keeps every open modal in its store, keyed by custom_id, until it is
        # submitted or times out; a dismissed one is never submitted. So it times out with the
        # interaction token (15 min: a later submit could not be answered anyway). The id is
        # unique per opening: an earlier, abandoned modal of the same member timing out must
        # not take the newer one out of the store with it (the store removes by custom_id).
        super().__init__(
            timeout=MODAL_TIMEOUT_S,
            custom_id=f"clip:rename-modal:{clip_id}:{user_id}:{secrets.token_hex(4)}",
        )
        self.clip_id = clip_id
        if current:
            self.new_title.default = current
        OPEN_MODALS.add(self)

    async def on_submit(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        if interaction.message is not None:  # acknowledged first (see click)
            await safe_send.defer_update(interaction)
        if not await may_review(interaction):
            await safe_send.send(interaction, NOT_REVIEWER)
            return
        app = app_of(interaction.client)
        outcome = await app.review(
            interaction.guild_id or 0,
            self.clip_id,
            "rename",
            interaction.user.id,
            self.new_title.value,
        )
        if interaction.message is None:  # opened from somewhere without the clip's message
            await safe_send.send(interaction, f"Renamed to “{outcome.clip.title}”.")
            return
        await update_message(interaction, outcome.clip)

    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction, error: Exception
    ) -> None:
        await errors.report(interaction, error)


#: Rename modals not submitted yet: their 15-minute timers must not outlive the bot.
OPEN_MODALS: weakref.WeakSet[RenameModal] = weakref.WeakSet()


def stop_open_modals() -> None:
    """Stop every open rename modal (cog unload / shutdown): cancels their timeout tasks."""
    for modal in list(OPEN_MODALS):
        modal.stop()
    OPEN_MODALS.clear()
