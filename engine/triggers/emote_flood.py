"""emote_flood: chat drowning in one emote (KEKW walls, PogChamp spam).

Fires when one emote is used by at least `min_count` distinct users within `window_s`.
Repeats count once: "KEKW KEKW KEKW" in one message is one use, and a user counts once per
emote per window, so one chatter pasting an emote wall is one vote, and a message with several
different emotes votes once for each of them. Kick's inline `[emote:ID:NAME]` tokens and the
configured plain-word (7TV) emotes count alike, by name.
"""

from __future__ import annotations

from engine.config import AdaptiveConfig, EmoteFloodConfig
from engine.triggers.burst import Burst, adapted
from engine.triggers.fire import NEVER, Fire
from engine.triggers.windows import CappedWindow

NAME = "emote_flood"
_SWEEP_EVERY_S = 10.0


class EmoteFlood:
    """One distinct-user window per emote, swept so idle emotes do not accumulate."""

    __slots__ = (
        "_cold",
        "_disarmed",
        "_next_sweep",
        "_sec",
        "_windows",
        "burst",
        "cfg",
        "last_true",
        "pending",
    )

    def __init__(self, cfg: EmoteFloodConfig) -> None:
        self.cfg = cfg
        self._windows: dict[str, CappedWindow] = {}
        self._disarmed: set[str] = set()
        self._next_sweep = NEVER
        self.last_true = NEVER
        self.burst: Burst | None = None
        self._cold = True  # the adaptive normal is not known yet (refreshed once a second)
        self._sec: int | None = None
        self.pending: Fire | None = None

    def adapt(self, adaptive: AdaptiveConfig, target: float) -> None:
        """Adaptive: the measure is the top emote's distinct chatters in the window, sampled
        once a second and judged against this channel's own floods (engine.triggers.burst);
        `min_count` stays as a ceiling (that many chatters on one emote always count)."""
        self.burst = adapted(self.burst, adaptive, target)

    def roll(self, t: float) -> Fire | None:
        """Adaptive, called by the Detector when a new second starts at `t`: judge the closed
        one (the top emote's distinct chatters) against the channel's floods."""
        sec = int(t)
        if sec == self._sec:
            return None
        self._roll(sec)
        fire, self.pending = self.pending, None
        return fire

    def _roll(self, sec: int) -> None:
        burst = self.burst
        assert burst is not None
        self._cold = not burst.ready
        prev = self._sec
        self._sec = sec
        if prev is None:
            return
        end = prev + 1.0
        name, n = self.top(end)
        fired = burst.try_fire(n, ceiling=self.cfg.min_count)
        burst.update(n)
        burst.fill(lambda t: self.top(t)[1], prev + 1, sec - prev - 1, self.cfg.window_s)
        if n and burst.bar_value() < n:
            self.last_true = end
        if fired is not None and name is not None:
            self.pending = self._adaptive_fire(end, name, n, fired)

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
        self._sec = None
        self.pending = None
        if self.burst is not None:
            self.burst.reset()

    def top(self, now: float) -> tuple[str | None, int]:
        """The most used emote in the window now, for /stats."""
        best, n = None, 0
        for name, w in self._windows.items():
            w.expire(now)
            if len(w) > n:
                best, n = name, len(w)
        return best, n

    def reacting(self, now: float, span: float) -> int:
        """Distinct chatters who used any emote or reaction in the last `span` s (review card)."""
        users: set[object] = set()
        for w in self._windows.values():
            users |= w.members(now - span)
        return len(users)

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

    def _count_adaptive(self, t: float, user: str, emotes: tuple[str, ...]) -> Fire | None:
        """Count the emotes (adaptive). While a never-seen channel warms up, an emote at the
        ceiling (`min_count`) fires at once; after that, floods are judged once a second, on
        the same sampling the channel's normal was learnt on."""
        cold = self._cold
        for name in set(emotes) if len(emotes) > 1 else emotes:
            w = self._windows.get(name)
            if w is None:
                w = self._windows[name] = CappedWindow(self.cfg.window_s, 1)
            n = w.add(t, user)
            if cold and n >= self.cfg.min_count:
                burst = self.burst
                assert burst is not None
                self.last_true = t
                fired = burst.try_fire(n, ceiling=self.cfg.min_count)
                if fired is not None:
                    return self._adaptive_fire(t, name, n, fired)
        return None

    def _adaptive_fire(self, t: float, name: str, n: int, strength: float) -> Fire:
        assert self.burst is not None
        details = {"emote": name, "count": n, "strength": round(strength, 2)}
        rarity = self.burst.rarity(strength)
        return Fire(NAME, t, self.cfg.confidence, details, strength=strength, per_hour=rarity)

    def on_message(self, t: float, user: str, emotes: tuple[str, ...]) -> Fire | None:
        if not emotes:
            if t >= self._next_sweep:
                self.sweep(t)
            return None
        if t >= self._next_sweep:
            self.sweep(t)
        if self.burst is not None:  # adaptive: counted here, judged once a second (roll)
            return self._count_adaptive(t, user, emotes)
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
