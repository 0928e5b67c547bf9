"""Days in the operator's timezone and the daily summary posted at its midnight.

Split from engine.core.maintenance (file housekeeping): these decide *when* a day ends and *what*
the summary says, both pure and DST-safe, and are used by the daily-limit reset and summary job.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from engine.core.maintenance import PENDING, REJECTED, as_utc_aware

DISCORD_MESSAGE_LIMIT = 2000


# -- days -----------------------------------------------------------------------------------


def next_midnight(now: datetime, tz: str) -> datetime:
    """The next local midnight in ``tz`` after ``now``, aware and DST-safe.

    Computed on the local calendar, not by adding 24 h, so days of 23 or 25 hours land on
    00:00. Where midnight itself is skipped by a DST jump, the result is the first real instant
    of that day (e.g. 01:00). A naive ``now`` is taken as UTC. For a delay, subtract
    timestamps: Python subtracts two datetimes of one zone as wall-clock times (always 24 h).
    """
    zone = ZoneInfo(tz)
    local = as_utc_aware(now).astimezone(zone)
    nxt = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
    return nxt.astimezone(UTC).astimezone(zone)  # normalise a skipped local time


def day_of(t: float, tz: str) -> str:
    """The local calendar day (YYYY-MM-DD) in ``tz`` of unix time ``t``."""
    return datetime.fromtimestamp(t, ZoneInfo(tz)).date().isoformat()


def day_range_utc(day: str, tz: str) -> tuple[str, str]:
    """[start, end) of a local day as UTC ISO text in storage's format, for created_at queries."""
    zone = ZoneInfo(tz)
    start = datetime.combine(date.fromisoformat(day), time(0), tzinfo=zone)
    end = next_midnight(start, tz)
    return _iso_utc(start), _iso_utc(end)


def _iso_utc(d: datetime) -> str:
    return d.astimezone(UTC).isoformat(timespec="seconds")


# -- daily summary --------------------------------------------------------------------------


class SummaryRow(Protocol):
    guild_id: int
    streamer: str
    status: str
    trigger: str


@dataclass(slots=True)
class StreamerDay:
    """One streamer's clips for one day in one guild."""

    streamer: str
    made: int = 0
    approved: int = 0
    rejected: int = 0
    pending: int = 0
    failed: int = 0
    triggers: Counter[str] = field(default_factory=Counter)

    @property
    def top_trigger(self) -> tuple[str, int] | None:
        return self.triggers.most_common(1)[0] if self.triggers else None


def tally(rows: Iterable[SummaryRow]) -> dict[int, list[StreamerDay]]:
    """Count a day's clip rows per guild and streamer (streamers sorted by clips made)."""
    days: dict[int, dict[str, StreamerDay]] = defaultdict(dict)
    for row in rows:
        d = days[row.guild_id].setdefault(row.streamer, StreamerDay(row.streamer))
        if row.status == "failed":
            d.failed += 1
            continue
        d.made += 1
        d.triggers[row.trigger] += 1
        if row.status == "approved":
            d.approved += 1
        elif row.status in REJECTED:
            d.rejected += 1
        elif row.status in PENDING:
            d.pending += 1
    return {g: sorted(by.values(), key=lambda d: (-d.made, d.streamer)) for g, by in days.items()}


def daily_summary(
    day: str, streamers: Iterable[StreamerDay], tz: str = "UTC", limit: int = DISCORD_MESSAGE_LIMIT
) -> str:
    """A short Discord message for one guild's day; cut to ``limit`` characters with a count."""
    items = list(streamers)
    head = f"**Daily clip summary for {day}** ({tz})"
    if not any(d.made or d.failed for d in items):
        return f"{head}\nNo clips today."
    lines = []
    for d in items:
        line = (
            f"• **{d.streamer}**: {d.made} clip{'s' * (d.made != 1)}: {d.approved} approved, "
            f"{d.rejected} rejected, {d.pending} pending"
        )
        if d.failed:
            line += f", {d.failed} failed"
        top = d.top_trigger
        if top:
            line += f"; top trigger {top[0]} ({top[1]})"
        lines.append(line)
    total = sum(d.made for d in items)
    approved = sum(d.approved for d in items)
    foot = f"Total: {total} clips, {approved} approved."
    text = head
    for i, line in enumerate(lines):
        more = f"\n… and {len(lines) - i} more streamers"
        if len(text) + len(line) + len(foot) + len(more) + 2 > limit:
            text += more
            break
        text += "\n" + line
    return f"{text}\n{foot}"
