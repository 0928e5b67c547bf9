"""Combos: distinct triggers firing within `combo_window_s` of each other mean a real moment.

  super_combo  3+ distinct triggers                       0.95
  clip_worthy  chat activity + viewer_spike               0.85
  hype_moment  a chat trigger + emote_flood               0.80
  chat_combo   two chat triggers (velocity/keyword/excitement)  0.70
A trigger counts as active from the time its condition was last seen true, not only at its
rising edge: velocity that has been high for a minute is still part of a combo when keywords
join it.
"""

from __future__ import annotations

from collections.abc import Collection

from engine.config import CombosConfig

COMBOS = ("super_combo", "clip_worthy", "hype_moment", "chat_combo")
VIEWER = "viewer_spike"
EMOTE = "emote_flood"


def classify(active: Collection[str], cfg: CombosConfig) -> tuple[str, float] | None:
    """The combo that a set of distinct active triggers makes, or None for a single trigger."""
    n = len(active)
    if n >= 3:
        return "super_combo", cfg.super_combo
    if n < 2:
        return None
    if VIEWER in active:
        return "clip_worthy", cfg.clip_worthy
    if EMOTE in active:
        return "hype_moment", cfg.hype_moment
    return "chat_combo", cfg.chat_combo


def is_combo(name: str) -> bool:
    return name in COMBOS
