"""Reading Kick's answers at the boundary: every field checked before anything trusts it.

Kick's site endpoints are unofficial and sit behind a CDN; a broken deploy, a captive portal or a
hostile proxy can answer anything. What comes out of here is what the rest of the engine (and the
database, file paths, the chat socket) may rely on:
- ids (channel, user, chatroom, livestream) are integers 1..2^53-1: JSON-safe, what Kick's API
  returns, and within SQLite's int64. A bool, a float, 10^30 or -5 is refused, not converted.
- a slug matches Kick's alphabet (``SLUG_RE``) and is the channel we asked for (``_``/``-``
  aside): ``"../../tmp/pwn"`` never becomes a watch, a directory or a URL.
- live flags are booleans, viewer counts 0..10^8 integers; titles are text (cut to 300
  characters), times readable or None.
An identity field (id, slug) or a live state that fails is a KickBadAnswer for the whole answer
(a KickUnavailable, so every caller already retries or reports it); one bad entry of a batch (the
official API's list, /current-viewers) is skipped with a warning, so it cannot hide the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from engine.kick.models import (
    SLUG_RE,
    ChannelInfo,
    KickBadAnswer,
    LiveStatus,
    parse_kick_time,
)

log = logging.getLogger("engine.kick.api")

MAX_KICK_ID = 2**53 - 1
MAX_VIEWERS = 100_000_000
MAX_TITLE = 300


def kick_id(value: Any, what: str, slug: str) -> int:
    """An id Kick sent: an int (or a string of digits) in 1..2^53-1, else KickBadAnswer."""
    n: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 16:
        n = int(value)
    if n is None or not 1 <= n <= MAX_KICK_ID:
        raise KickBadAnswer(
            f"Kick's answer for {slug} has {what} {_show(value)}: not an id (1 to 2^53-1)", slug
        )
    return n


def optional_id(value: Any, what: str, slug: str) -> int | None:
    return None if value is None else kick_id(value, what, slug)


def answer_slug(value: Any, asked: str) -> str:
    """The channel's slug as Kick spells it: a channel name, and the one we asked for."""
    if value is None or value == "":
        return asked
    if not isinstance(value, str) or not SLUG_RE.fullmatch(value.lower()):
        raise KickBadAnswer(
            f"Kick's answer for {asked} names the channel {_show(value)}, which is not a Kick "
            "channel name (1-25 letters, digits, '_' or '-')",
            asked,
        )
    slug = value.lower()
    if slug.replace("_", "-") != asked.replace("_", "-"):
        raise KickBadAnswer(f"Kick answered for {asked} with another channel ({slug})", asked)
    return slug


def viewer_count(value: Any, slug: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_VIEWERS:
        raise KickBadAnswer(
            f"Kick's answer for {slug} has the viewer count {_show(value)} (0 to 10^8)", slug
        )
    return value


def live_flag(value: Any, slug: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise KickBadAnswer(f"Kick's answer for {slug} has is_live {_show(value)}", slug)
    return value


def title_text(value: Any) -> str | None:
    return value[:MAX_TITLE] if isinstance(value, str) else None


def info_from_site(slug: str, payload: Any) -> ChannelInfo:
    """ChannelInfo from the site payload; a missing piece is KickUnavailable (via
    KickBadAnswer), a hostile one KickBadAnswer, never a crash or a trusted value."""
    if not isinstance(payload, dict):
        raise KickBadAnswer(f"Kick channel lookup for {slug} did not answer an object", slug)
    chatroom = payload.get("chatroom")
    if not isinstance(chatroom, dict) or "id" not in payload or "id" not in chatroom:
        raise KickBadAnswer(
            f"Kick channel lookup for {slug} returned an unexpected shape (missing "
            f"{'chatroom' if not isinstance(chatroom, dict) else 'id'})",
            slug,
        )
    chatroom_id = kick_id(chatroom["id"], "the chatroom id", slug)
    channel_id = kick_id(payload["id"], "the channel id", slug)
    user_id = optional_id(payload.get("user_id"), "the user id", slug)
    real_slug = answer_slug(payload.get("slug"), slug)
    ls = payload.get("livestream")
    if ls is not None and not isinstance(ls, dict):
        raise KickBadAnswer(f"Kick's answer for {slug} has a livestream that is no object", slug)
    if ls is None or not live_flag(ls.get("is_live"), slug, True):
        return ChannelInfo(real_slug, channel_id, user_id, chatroom_id, False, None, 0, None, None)
    return ChannelInfo(
        slug=real_slug,
        channel_id=channel_id,
        user_id=user_id,
        chatroom_id=chatroom_id,
        live=True,
        livestream_id=optional_id(ls.get("id"), "the livestream id", slug),
        viewers=viewer_count(ls.get("viewer_count"), slug),
        title=title_text(ls.get("session_title")),
        started_at=parse_kick_time(ls.get("start_time") or ls.get("created_at")),
    )


@dataclass(slots=True, frozen=True)
class OfficialChannel:
    """One channel as the official API reports it (status plus the broadcaster's user id)."""

    status: LiveStatus
    user_id: int | None


def parse_official(body: dict[str, Any]) -> dict[str, OfficialChannel]:
    """The official /channels list; an entry that fails a check is left out with a warning."""
    out: dict[str, OfficialChannel] = {}
    items = body.get("data")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("slug"), str):
            continue
        slug = item["slug"].lower()
        try:
            if not SLUG_RE.fullmatch(slug):
                raise KickBadAnswer(f"Kick's status names the channel {_show(item['slug'])}")
            out[slug] = _official_entry(slug, item)
        except KickBadAnswer as exc:
            log.warning("Kick status: skipping an entry: %s", exc)
    return out


def _official_entry(slug: str, item: dict[str, Any]) -> OfficialChannel:
    raw_stream = item.get("stream")
    if raw_stream is not None and not isinstance(raw_stream, dict):
        raise KickBadAnswer(f"Kick's status for {slug} has a stream that is no object", slug)
    stream: dict[str, Any] = raw_stream or {}
    live = live_flag(stream.get("is_live"), slug, False)
    status = LiveStatus(
        live=live,
        viewers=viewer_count(stream.get("viewer_count"), slug) if live else 0,
        started_at=parse_kick_time(stream.get("start_time")) if live else None,
        livestream_id=None,
        title=title_text(item.get("stream_title")),
    )
    return OfficialChannel(status, optional_id(item.get("broadcaster_user_id"), "user id", slug))


def parse_viewers(body: Any) -> dict[int, int]:
    """/current-viewers: livestream id -> viewers; entries that fail a check are skipped."""
    out: dict[int, int] = {}
    for item in body if isinstance(body, list) else []:
        if not isinstance(item, dict):
            continue
        try:
            lid = kick_id(item.get("livestream_id"), "livestream id", "viewer refresh")
            out[lid] = viewer_count(item.get("viewers"), "viewer refresh")
        except KickBadAnswer as exc:
            log.debug("Kick viewer refresh: skipping an entry: %s", exc)
    return out


def _show(value: Any) -> str:
    """A value for an error message: short, one line, type visible."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
