"""What a review card shows about publishing: one line per target and the Publish / Retry /
link button, rendered from the publish jobs (pure; the clicks live in cogs/publish.py).

Only approved clips get a Publish button. While a job runs the button is a disabled
"Publishing…"; a failed job shows its reason and a Retry button; a published one links to
the video.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

TEMPLATE = r"publish:(?P<action>go|retry):(?P<id>[0-9]{1,20})"
TARGET_NAMES = {"youtube": "YouTube"}


def custom_id(action: str, clip_id: int) -> str:
    return f"publish:{action}:{clip_id}"


def card_line(job: Any) -> str:
    """One line per job, with a Discord timestamp where a wait has an end."""
    if job.state == "queued" and job.not_before:
        at = int(job.not_before)
        return f"⏳ {job.error or 'waiting'} (<t:{at}:t>, <t:{at}:R>)"
    if job.state == "queued":
        return "⏳ queued"
    if job.state == "rendering":
        if job.variant != "vertical":
            return "🎬 preparing"
        done = f" {job.progress:.0f}%" if job.progress else ""
        return f"🎬 rendering the 9:16 version{done}"
    if job.state == "uploading":
        return f"⬆️ uploading {job.progress:.0f}%"
    if job.state == "published":
        return f"✅ published: {job.url}"
    return f"⚠️ failed: {(job.error or 'unknown error')[:900]}"


def decorate(embed: discord.Embed, jobs: Sequence[Any]) -> discord.Embed:
    for job in jobs:
        embed.add_field(name=TARGET_NAMES.get(job.target, job.target), value=card_line(job),
                        inline=False)  # fmt: skip
    return embed


def items(row: Any, jobs: Sequence[Any]) -> list[discord.ui.Item[Any]]:
    """The publish button of an approved clip (none for other states)."""
    if row.status != "approved":
        return []
    job = next((j for j in jobs if j.target == "youtube"), None)
    blurple = discord.ButtonStyle.primary
    if job is None:
        return [
            discord.ui.Button(label="Publish", style=blurple, custom_id=custom_id("go", row.id))
        ]
    if job.state == "failed":
        return [discord.ui.Button(label="Retry publish", style=blurple,
                                  custom_id=custom_id("retry", row.id))]  # fmt: skip
    if job.state == "published" and job.url:
        return [discord.ui.Button(label="Open on YouTube", url=job.url)]
    return [discord.ui.Button(label="Publishing…", style=discord.ButtonStyle.secondary,
                              custom_id=custom_id("go", row.id), disabled=True)]  # fmt: skip


async def jobs_of(client: discord.Client, clip_id: int) -> list[Any]:
    """The clip's publish jobs, or none when this bot runs without publishing."""
    publisher = getattr(getattr(client, "services", None), "publisher", None)
    if publisher is None:
        return []
    return list(await publisher.service.jobs(clip_id))
