"""Who may review a server's clips: the one rule both fronts (Discord cogs, web dashboard) use.

A member may act when they have Manage Server or the server's reviewer role (set with /setup).
The fronts only gather the facts (the interaction's permissions, or the member fetched from
Discord for a web request) and ask here, so the rule cannot drift between two copies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

NOT_REVIEWER = "Only reviewers can do that: you need Manage Server or this server's reviewer role."


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What Discord says about a member right now (None from a lookup: not in the server)."""

    guild_id: int
    user_id: int
    manage_guild: bool
    role_ids: frozenset[int]
    name: str = ""


def may_review(manage_guild: bool, role_ids: Iterable[int], reviewer_role_id: int | None) -> bool:
    """Manage Server, or the configured reviewer role."""
    if manage_guild:
        return True
    return reviewer_role_id is not None and reviewer_role_id in set(role_ids)
