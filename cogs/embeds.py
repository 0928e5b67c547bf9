"""Embeds built from plain data (clip rows, App results); no Discord calls, no storage.

Kept apart from the cogs so one function renders a clip both when it is posted and every time a
button edits it: the message always shows the row as it is now (status, reviewer, title).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import discord

from engine.detection.emotes import readable

STATUS_COLOURS = {
    "posted": discord.Colour.blurple(),
    "approved": discord.Colour.green(),
    "rejected": discord.Colour.red(),
    "deleted": discord.Colour.dark_grey(),
}
STATUS_TEXT = {
    "ready": "waiting to be posted",
    "posting": "being posted",
    "posted": "waiting for review",
    "approved": "✅ approved",
    "rejected": "❌ rejected",
    "deleted": "🗑️ deleted (files removed)",
}
MAX_SAMPLES = 5
#: Characters of /review pending lines; the description holds 4096, the rest is the count.
PENDING_BUDGET = 3900
#: Discord's limits on one message: 10 embeds, 6000 characters summed over all of them.
MAX_EMBEDS = 10
EMBED_TOTAL = 6000


def ts(t: float | None, style: str = "f") -> str:
    """A Discord timestamp: every reader sees it in their own timezone."""
    return f"<t:{int(t)}:{style}>" if t else "?"


def iso_ts(stamp: str | None, style: str = "R") -> str:
    if not stamp:
        return "?"
    return ts(datetime.fromisoformat(stamp).timestamp(), style)


def jump_url(guild_id: int, channel_id: int | None, message_id: int | None) -> str | None:
    if not channel_id or not message_id:
        return None
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def _clean(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    text = discord.utils.escape_mentions(discord.utils.escape_markdown(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: Any, fmt: str = "{:,}") -> str:
    if value is None:
        return "?"
    return fmt.format(value)


def status_line(row: Any) -> str:
    text = STATUS_TEXT.get(row.status, row.status)
    if row.status in ("approved", "rejected", "deleted") and row.reviewed_by:
        text += f" by <@{row.reviewed_by}> {iso_ts(row.reviewed_at)}"
    return text


def clip_embed(row: Any, *, image_url: str | None = None) -> discord.Embed:
    """The review message of one clip: why it fired, against what normal, and what chat said."""
    details: Mapping[str, Any] = row.details or {}
    star = "★ " if row.favorite else ""
    headline = row.title or f"{row.streamer}: {row.trigger.replace('_', ' ')}"
    embed = discord.Embed(
        title=_clean(star + headline, 256),
        url=f"https://kick.com/{row.streamer}",
        colour=STATUS_COLOURS.get(row.status, discord.Colour.blurple()),
    )
    samples = list(details.get("samples") or [])[-MAX_SAMPLES:]
    if samples:
        lines = [
            f"**{_clean(s.get('user', '?'), 32)}**: {_clean(readable(s.get('text', '')), 120)}"
            for s in samples
        ]
        embed.description = "\n".join(lines)
    embed.add_field(name="Streamer", value=f"[{row.streamer}](https://kick.com/{row.streamer})")
    triggers = ", ".join(t.replace("_", " ") for t in row.triggers) or row.trigger
    embed.add_field(name="Trigger", value=f"**{row.trigger.replace('_', ' ')}** ({triggers})")
    embed.add_field(name="Confidence", value=f"{row.confidence:.0%}")
    embed.add_field(name="Viewers", value=_number(details.get("viewers")))
    velocity, baseline = details.get("velocity"), details.get("baseline")
    embed.add_field(
        name="Chat",
        value=f"{_number(velocity, '{:g}')} msg/s (normal {_number(baseline, '{:g}')} msg/s)",
    )
    why = breakdown(details)
    if why:
        embed.add_field(name="Why", value=why, inline=False)
    embed.add_field(name="When", value=f"{ts(row.t)} ({ts(row.t, 'R')})")
    embed.add_field(name="Status", value=status_line(row), inline=False)
    if row.note:
        embed.add_field(name="Note", value=_clean(row.note, 1000), inline=False)
    if image_url:
        embed.set_image(url=image_url)
    embed.set_footer(text=f"clip #{row.id} · {row.clip_end - row.clip_start:.0f} s")
    return embed


def breakdown(details: Mapping[str, Any]) -> str:
    """Why the moment stood out, for this channel: '3.8x this channel's normal, 62 chatters,
    41% reacting, about 1 in 3 live hours this strong'."""
    parts = []
    chat = (details.get("by_trigger") or {}).get("chat_velocity") or {}
    ratio = chat.get("ratio")
    if isinstance(ratio, int | float):
        parts.append(f"{ratio:.1f}x this channel's normal")
    chatters, reacting = details.get("chatters"), details.get("reacting")
    if isinstance(chatters, int) and chatters:
        parts.append(f"{chatters} chatters")
        if isinstance(reacting, int):
            parts.append(f"{min(100, round(100 * reacting / chatters))}% reacting")
    rates: list[float] = [
        float(v["per_hour"])
        for v in (details.get("by_trigger") or {}).values()
        if isinstance(v, Mapping) and isinstance(v.get("per_hour"), int | float)
    ]
    rarest = min(rates, default=0.0)
    if rarest > 0:
        parts.append(
            f"about 1 in {1 / rarest:.1f} live hours this strong"
            if rarest <= 1
            else f"{rarest:.1f} per live hour this strong"
        )
    return ", ".join(parts)


def thresholds_embed(streamer: str, views: Iterable[Any], learnt: Any = None) -> discord.Embed:
    embed = discord.Embed(title=f"Thresholds for {streamer}", colour=discord.Colour.blurple())
    if learnt is not None and learnt.bars:
        embed.description = learnt_text(learnt)[:4000]
    for v in views:
        mark = " (changed)" if v.overridden else ""
        embed.add_field(
            name=f"{v.name}{mark}",
            value=f"**{v.value:g}** (default {v.default:g}, {v.lo:g}-{v.hi:g})\n{v.help}",
        )
    embed.set_footer(
        text="/thresholds set to change one, /thresholds reset to undo (all: "
        "also forgets what reviews taught)"
    )
    return embed


def learnt_text(snap: Any) -> str:
    """The adaptive bars as people read them: what is normal, what fires, the aim, the rate."""
    lines = []
    for name, bar in snap.bars.items():
        state = "" if bar.get("ready") else " (learning this channel)"
        lines.append(
            f"**{name.replace('_', ' ')}**: normal {bar['normal']:g}, fires above "
            f"{bar['bar']:g} {bar['unit']}{state}"
        )
    hours = max((b.get("live_h", 0.0) for b in snap.bars.values()), default=0.0)
    achieved = snap.clips_per_live_hour
    rate = f"{achieved:g}" if achieved is not None else "-"
    lines.append(
        f"Aim {snap.target_per_hour:g} clips per live hour; achieved {rate} "
        f"(learnt from {hours:g} live hours)"
    )
    lines.append(f"Reviews: {snap.learning}")
    return "\n".join(lines)


def _counts(counter: Mapping[str, int]) -> str:
    items = [f"{k.replace('_', ' ')} {n}" for k, n in sorted(counter.items()) if n]
    return ", ".join(items) or "none"


def daily_limit_text(clips_today: int, daily_max: int, timezone: str) -> str | None:
    if clips_today < daily_max:
        return None
    return (
        f"**daily limit reached: {clips_today}/{daily_max}, no more clips until midnight "
        f"{timezone}**"
    )


def stats_embed(stats: Any, timezone: str, chart_name: str | None) -> discord.Embed:
    """One streamer's /stats: live state, chat against its normal, today's clips and limits."""
    snap = stats.snapshot
    live = "🔴 live" if stats.live else "offline"
    embed = discord.Embed(
        title=f"{stats.streamer}: {live}",
        url=f"https://kick.com/{stats.streamer}",
        colour=discord.Colour.red() if stats.live else discord.Colour.dark_grey(),
    )
    limit = daily_limit_text(snap.clips_today, snap.daily_max, timezone)
    if limit:
        embed.description = limit
    viewers = stats.viewers if stats.viewers is not None else snap.viewers
    embed.add_field(name="Viewers", value=_number(viewers))
    embed.add_field(
        name="Chat velocity",
        value=f"{snap.velocity:g} msg/s now · normal {snap.baseline:g} · fires at "
        f"{snap.threshold:g}",
    )
    embed.add_field(
        name="Baseline",
        value="ready" if snap.warm else "warming up (learning the channel's normal chat rate)",
    )
    embed.add_field(name="Clips today", value=f"{snap.clips_today}/{snap.daily_max}")
    embed.add_field(name="Triggers fired today", value=_counts(snap.fired_today))
    embed.add_field(name="Suppressed today", value=_counts(snap.suppressed_today))
    c = stats.clip_counts
    cutting = sum(c.get(s, 0) for s in ("detected", "cutting"))
    waiting = sum(c.get(s, 0) for s in ("ready", "posting"))
    embed.add_field(
        name="Review",
        value=f"pending {c.get('posted', 0)} · approved {c.get('approved', 0)} · "
        f"rejected {c.get('rejected', 0)}"
        + (f" · being cut {cutting}" if cutting else "")
        + (f" · waiting to post {waiting}" if waiting else ""),
        inline=False,
    )
    if snap.bars:
        embed.add_field(name="Learnt bars", value=learnt_text(snap)[:1024], inline=False)
    if snap.open_clip:
        embed.add_field(name="Open clip", value=snap.open_clip, inline=False)
    if chart_name:
        embed.set_image(url=f"attachment://{chart_name}")
    return embed


def pending_embed(guild_id: int, rows: Sequence[Any], total: int) -> discord.Embed:
    """The oldest clips waiting for review, as many as fit, then how many more there are.

    A line with its jump link is ~150-220 characters, so 25 of them can pass the 4096 a
    description may hold (Discord refuses the whole answer with 50035): lines are added while
    they fit a budget that leaves room for the closing count.
    """
    embed = discord.Embed(title="Clips waiting for review", colour=discord.Colour.blurple())
    lines: list[str] = []
    used = 0
    for row in rows:
        link = jump_url(guild_id, row.channel_id, row.message_id)
        name = _clean(row.title or row.trigger.replace("_", " "), 60)
        where = f"[jump]({link})" if link else "not posted"
        line = (
            f"#{row.id} **{row.streamer}** {name} · {row.confidence:.0%} · {ts(row.t, 'R')} · "
            f"{where}"
        )
        if used + len(line) + 1 > PENDING_BUDGET:
            break
        lines.append(line)
        used += len(line) + 1
    hidden = max(total, len(rows)) - len(lines)
    if hidden:
        lines.append(f"… and {hidden} more waiting (oldest first); review these to see them.")
    embed.description = "\n".join(lines) if lines else "Nothing is waiting for review."
    if lines:
        embed.set_footer(text=f"{max(total, len(rows))} clip(s) waiting in all")
    return embed


def pack(sizes: Sequence[int], *, total: int = EMBED_TOTAL, count: int = MAX_EMBEDS) -> list[int]:
    """How many of the next embeds each message takes: at most `count` and `total` characters.

    `sizes` are len(embed) (discord.py counts exactly what Discord counts). An embed too big
    on its own still gets a message of its own, where Discord's answer will say why.
    """
    pages: list[int] = []
    n = used = 0
    for size in sizes:
        if n and (n == count or used + size > total):
            pages.append(n)
            n = used = 0
        n += 1
        used += size
    if n:
        pages.append(n)
    return pages
