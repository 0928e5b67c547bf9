"""What /watch refuses, and how it says so: the per-server cap and Kick's refusals.

Split from engine/core/app.py so the App keeps its shape (translate, decide, store) and these
rules, each worded for an operator, are tested on their own.
- The cap (``limits.max_watches_per_guild``, default 25): one reviewer once made 300 feeds, 300
  chat sockets and 1,337 tasks with 300 /watch calls. Refused before Kick is asked.
- Kick's refusals name the real reason and the real wait: a Retry-After (capped by
  ``kick.retry_after_max_s``) gives the seconds until the next lookup, not "a minute"; a hostile
  or broken answer (KickBadAnswer) says that nothing was saved.
"""

from __future__ import annotations

from engine.kick.api import (
    ChannelNotFound,
    InvalidSlug,
    KickBadAnswer,
    KickError,
    KickUnavailable,
    normalize_slug,
)


def cap_refusal(slug: str, watched: list[str], cap: int) -> str | None:
    """The refusal when a new watch would pass the server's cap; None when it may go ahead
    (a streamer already watched never counts twice)."""
    if slug in watched or slug.replace("_", "-") in watched or len(watched) < cap:
        return None
    return (
        f"This server already watches {len(watched)} streamers, the most it may "
        f"(limits.max_watches_per_guild = {cap}). /unwatch one first, or ask the bot's "
        "operator to raise the limit."
    )


def lookup_refusal(slug: str, exc: KickError) -> str:
    """What /watch answers when Kick's channel lookup failed."""
    if isinstance(exc, ChannelNotFound):
        return f"There is no Kick channel called `{slug}`."
    if isinstance(exc, KickBadAnswer):
        return (
            f"Kick's answer for `{slug}` was refused ({exc}). Nothing was saved; if this "
            "keeps happening, something between the bot and Kick is answering in its place."
        )
    wait = exc.retry_in_s if isinstance(exc, KickUnavailable) else None
    if wait is not None and wait > 0:
        return (
            f"Kick is rate limiting the bot (it asked for quiet): the next lookup of `{slug}` "
            f"is possible in {human_wait(wait)}. Watches already running keep going; try "
            "/watch again then."
        )
    return (
        f"Kick did not answer for `{slug}` ({exc}). Try again in a minute; if Kick keeps "
        "blocking lookups, set its chatroom id under kick.chatrooms in config.yaml."
    )


def human_wait(seconds: float) -> str:
    """``45 s``, ``4 min 10 s``: the wait as an operator reads it (rounded up)."""
    s = max(1, int(seconds + 0.999))
    if s < 60:
        return f"{s} s"
    m, rest = divmod(s, 60)
    return f"{m} min {rest} s" if rest else f"{m} min"


def valid_slug(name: str) -> bool:
    """Is a stored streamer name a Kick channel name? Older versions saved what Kick answered
    unchecked (``../../tmp/pwn``); such a row is neither started nor stuck (/unwatch takes it)."""
    try:
        return normalize_slug(name) == name
    except InvalidSlug:
        return False
