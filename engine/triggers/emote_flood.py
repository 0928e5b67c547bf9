"""emote_flood: chat drowning in one emote (KEKW walls, PogChamp spam).

Fires when one emote is used by at least `min_count` distinct users within `window_s`.
Repeats count once: "KEKW KEKW KEKW" in one message is one use, and a user counts once per
emote per window, so one chatter pasting an emote wall is one vote, and a message with several
different emotes votes once for each of them. Kick's inline `[emote:ID:NAME]` tokens and the
configured plain-word (7TV) emotes count alike, by name.
"""

from __future__ import annotations

from engine.config import EmoteFloodConfig
from engine.triggers.fire import NEVER, Fire
from engine.triggers.windows import CappedWindow

NAME = "emote_flood"
_SWEEP_EVERY_S = 10.0


class EmoteFlood:
    """One distinct-user window per emote, swept so idle emotes do not accumulate."""

    __slots__ = ("_disarmed", "_next_sweep", "_windows", "cfg", "last_true")

    def __init__(self, cfg: EmoteFloodConfig) -> None:
        self.cfg = cfg
        self._windows: dict[str, CappedWindow] = {}
        self._disarmed: set[str] = set()
        self._next_sweep = NEVER
        self.last_true = NEVER

    def configure(self, cfg: EmoteFloodConfig) -> None:
        self.cfg = cfg
        for w in self._windows.values():
            w.window_s = cfg.window_s

    def reset(self) -> None:
        """Forget every window (the clock went back: engine.detection.detector)."""
        self._windows.clear()
        self._disarmed.clear()
        self._next_sweep = NEVER
        self.last_true = NEVER

    def top(self, now: float) -> tuple[str | None, int]:
        """The most used emote in the window now, for /stats."""
        best, n = None, 0
        for name, w in self._windows.items():
            w.expire(now)
            if len(w) > n:
                best, n = name, len(w)
        return best, n

    def sweep(self, now: float) -> None:
        """Drop empty windows and re-arm emotes that fell below the bar."""
        self._next_sweep = now + _SWEEP_EVERY_S
        for name in list(self._windows):
            w = self._windows[name]
            w.expire(now)
            if len(w) < self.cfg.min_count:
                self._disarmed.discard(name)
            if not len(w):
                del self._windows[name]

    def on_message(self, t: float, user: str, emotes: tuple[str, ...]) -> Fire | None:
        if t >= self._next_sweep:
            self.sweep(t)
        if not emotes:
            return None
        fire_name, fire_n = None, 0
        min_count = self.cfg.min_count
        for name in set(emotes) if len(emotes) > 1 else emotes:
            w = self._windows.get(name)
            if w is None:
                w = self._windows[name] = CappedWindow(self.cfg.window_s, 1)
            n = w.add(t, user)
            if not n:
                continue
            if n < min_count:
                self._disarmed.discard(name)
                continue
            self.last_true = t
            if name not in self._disarmed and n > fire_n:
                fire_name, fire_n = name, n
        if fire_name is None:
            return None
        self._disarmed.add(fire_name)
        return Fire(NAME, t, self.cfg.confidence, {"emote": fire_name, "count": fire_n})
