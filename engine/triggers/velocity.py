"""chat_velocity: chat suddenly much faster than this channel's normal.

velocity  = counted messages in the last `window_s` seconds / window_s
threshold = max(threshold, baseline * baseline_multiplier) + buffer
fires when velocity > threshold (strictly), once the baseline is warm (`warmup_s` seconds seen).

`threshold` is the static floor a quiet channel needs to beat (15 msg/s by default); busy channels
are judged against their own normal: at 200 msg/s normal the bar is 302 msg/s, so 220 is noise.

Abuse resistance, so no single source makes a moment:
- one user counts at most `per_user_cap` messages per window (a spammer adds at most
  per_user_cap / window_s msg/s, 0.6 by default);
- a long text (>= `copypasta_min_len` chars, emote tokens aside) counts at most
  `copypasta_cap` times per window, however many accounts paste it, so copypasta and bot
  swarms stay near the baseline. Texts are capped under a normalised key (`copypasta_key`:
  case folded; digits, punctuation, whitespace and invisible characters removed; the first
  PASTA_KEY_LEN characters left), so a swarm that appends " 17" or "!!", changes case or
  spacing, or edits the tail still shares one cap.
Only counted messages feed the baseline too, so spam cannot inflate it either. The Detector runs
this gate on every line even with chat_velocity disabled, because excitement and the reviewer's
sample lines read only counted lines.

Seconds without chat count as zeros in the baseline, up to `MAX_IDLE_S` in a row; a longer gap
is a discontinuity (see MAX_IDLE_S) and leaves the baseline as it was.
"""

from __future__ import annotations

import itertools
import string
from collections import deque

from engine.config import AdaptiveConfig, ChatVelocityConfig
from engine.detection.emotes import strip_emotes
from engine.triggers.baseline import RateBaseline
from engine.triggers.burst import Burst, adapted
from engine.triggers.fire import NEVER, Fire
from engine.triggers.windows import CappedWindow

NAME = "chat_velocity"
MAX_IDLE_S = 300
"""A longer gap without chat is a discontinuity (offline, a clock step, a bogus time), not
silence: it is not folded into the baseline, so a busy channel back after a night offline is
judged against its normal, not against zero (and one bad timestamp cannot erase the normal)."""


SUSTAIN_WINDOWS = 3
"""Adaptive bars: a burst must also stand out over this many windows (sustain_z)."""

PASTA_KEY_LEN = 40
_RAW_PREFIX = 4 * PASTA_KEY_LEN  # bounds the work on a huge line; the key needs far less
# Deleted from a copypasta key: what bots vary to dodge an exact-text cap.
_VARIED = string.digits + string.punctuation + string.whitespace
_ASCII_DELETE = _VARIED.encode("ascii")
_UNICODE_DELETE = str.maketrans(
    "",
    "",
    _VARIED
    + "\u00a0\u00ad\u1680\u180e"
    + "".join(map(chr, range(0x2000, 0x2010)))
    + "\u2028\u2029\u202f\u205f\u2060\u3000\ufeff",
)


def copypasta_key(text: str, min_len: int) -> bytes | None:
    """The key a pasted text is capped under, or None for a line too short to be one.

    Long enough means `min_len` characters, emote tokens aside: "CLIP IT [emote:37226:KEKW]"
    from fifty people is hype, not copypasta, so the inline token's length must not count. The
    key is the text folded to what a reader sees as "the same paste" (module docstring); a
    prefix, because bots vary the end of a paste more than its start.

    Hot path: about a quarter of busy chat is this long. ASCII lines (nearly all) take
    bytes.translate, a 256-entry table in C (~0.5 us a line; str.translate with a mapping costs
    three times that); other lines the str table, which also drops invisible and wide spaces.
    Both give the same bytes for the same visible text, so a zero-width space changes nothing.
    """
    if len(text) < min_len:
        return None
    words = strip_emotes(text)
    if len(words) < min_len or len(words.strip()) < min_len:
        return None
    head = words[:_RAW_PREFIX]
    if head.isascii():
        return head.encode("ascii").translate(None, _ASCII_DELETE)[:PASTA_KEY_LEN].lower()
    folded = head.translate(_UNICODE_DELETE).casefold()
    return folded.encode("utf-8", "surrogatepass")[:PASTA_KEY_LEN]


class ChatVelocity:
    """Tracks counted messages per window and the channel baseline; reports rising edges."""

    __slots__ = (
        "_pasta",
        "_ring",
        "_sec",
        "_sec_count",
        "_seed",
        "_sustain_z",
        "_threshold",
        "_users",
        "armed",
        "baseline",
        "burst",
        "cfg",
        "hot",
        "last_true",
        "pending",
    )

    def __init__(self, cfg: ChatVelocityConfig) -> None:
        self._users = CappedWindow(cfg.window_s, cfg.per_user_cap)
        self._pasta = CappedWindow(cfg.window_s, cfg.copypasta_cap)
        self.baseline = RateBaseline(cfg.baseline_half_life_s, cfg.warmup_s)
        self._sec: int | None = None
        self._sec_count = 0
        self.armed = True
        self.hot = False
        self.last_true = NEVER
        self.burst: Burst | None = None
        self._ring: deque[int] = deque(maxlen=SUSTAIN_WINDOWS * max(1, round(cfg.window_s)))
        self._sustain_z = 0.0
        self.pending: Fire | None = None
        self.configure(cfg)

    def adapt(self, adaptive: AdaptiveConfig, target: float) -> None:
        """Judge bursts against this channel's own history (engine.triggers.burst), or, with
        adaptive off, against the fixed bar (threshold, baseline x multiplier, + buffer)."""
        self.burst = adapted(self.burst, adaptive, target)
        self._sustain_z = adaptive.sustain_z
        self._threshold = self.threshold()

    def configure(self, cfg: ChatVelocityConfig) -> None:
        """Apply new thresholds at run time; windows and baseline keep their state."""
        self.cfg = cfg
        self._users.window_s = self._pasta.window_s = cfg.window_s
        self._users.cap = cfg.per_user_cap
        self._pasta.cap = cfg.copypasta_cap
        self.baseline.set_params(cfg.baseline_half_life_s, cfg.warmup_s)
        self._threshold = self.threshold()

    def reset(self) -> None:
        """Forget the windows (the clock went back: engine.detection.detector); the baseline stays,
        it is
        the channel's normal, not a window."""
        self._users.clear()
        self._pasta.clear()
        self._sec = None
        self._sec_count = 0
        self._ring.clear()
        self.pending = None
        self.armed = True
        self.hot = False
        self.last_true = NEVER
        if self.burst is not None:
            self.burst.reset()

    def seed_threshold(self) -> float:
        """The seed's fixed bar, msg/s. With adaptive bars it is a ceiling: chat this fast always
        counts as a burst, whatever the channel's history says."""
        cfg = self.cfg
        return max(cfg.threshold, self.baseline.mean * cfg.baseline_multiplier) + cfg.buffer

    def threshold(self) -> float:
        """The bar, msg/s, that chat must beat now."""
        self._seed = seed = self.seed_threshold()
        if self.burst is None:
            return seed
        return min(self.burst.bar_value() / self.cfg.window_s, seed)

    def chatters(self, now: float) -> int:
        """Distinct chatters counted in the window now (for the review card)."""
        self._users.expire(now)
        return self._users.keys()

    def velocity(self, now: float) -> float:
        self._users.expire(now)
        return len(self._users) / self.cfg.window_s

    def _roll(self, sec: int) -> None:
        """Close the seconds between the last message and this one into the baseline."""
        if self._sec is not None:
            self.baseline.update(self._sec_count, hot=self.hot)
            gap = sec - self._sec - 1
            if gap <= MAX_IDLE_S:
                self.baseline.update_idle(gap)
            if self.burst is not None:
                self._roll_burst(self.burst, gap)
            self._threshold = self.threshold()
        self._sec = sec
        self._sec_count = 0

    def _roll_burst(self, burst: Burst, gap: int) -> None:
        """Close the second into the burst tracker: the window's count, once a second."""
        ring = self._ring
        ring.append(self._sec_count)
        assert self._sec is not None
        w = max(1, round(self.cfg.window_s))
        x = sum(itertools.islice(ring, max(0, len(ring) - w), None))
        v = x / self.cfg.window_s
        # Judged once a second on the window ending there, not at every message: a sliding
        # count looked at on every arrival peaks higher by chance (more looks, same chat).
        # The seed's bar counts only once its own normal is known (its warmup_s): against an
        # empty normal it is the bare 17 msg/s floor, which a busy channel beats all the time.
        ceiling = self._seed * self.cfg.window_s if self.baseline.ready else None
        # A reaction lasts: the three windows ending now must stand out too (sustain_z), which
        # a chance cluster of messages in one window does not.
        held = burst.strength_over(sum(ring), len(ring) / w) >= self._sustain_z
        fired = burst.try_fire(x, ceiling=ceiling) if held else None
        peak = burst.update(x)
        if fired is not None:
            self.pending = self._fire(self._sec + 1.0, v, fired)
        elif peak is not None:
            self.pending = self._fire(self._sec + 1.0, v, peak, peak=True)
        if gap > MAX_IDLE_S:  # a discontinuity, not silence (MAX_IDLE_S)
            ring.clear()
            burst.reset()
            return
        for k in range(min(gap, ring.maxlen or 1)):
            ring.append(0)
            if k < w:  # the window still holds the last messages for w seconds
                burst.update(sum(itertools.islice(ring, max(0, len(ring) - w), None)))
        burst.idle(gap - min(gap, w))

    def _fire(self, t: float, v: float, z: float | None, peak: bool = False) -> Fire:
        base = self.baseline.mean
        details: dict[str, object] = {
            "velocity": round(v, 2),
            "baseline": round(base, 2),
            "threshold": round(self._threshold, 2),
            "ratio": round(v / base, 2) if base > 0 else None,
        }
        per_hour = None
        if z is not None and self.burst is not None:
            per_hour = self.burst.rarity(z)
            details["strength"] = round(z, 2)
            details["per_hour"] = round(per_hour, 3)
        return Fire(NAME, t, self.cfg.confidence, details, peak, z, per_hour)

    def on_message(self, t: float, user: str, text: str) -> tuple[bool, Fire | None]:
        """Count one message; returns (counted, fire). `counted` is False for capped spam."""
        sec = int(t)
        if sec != self._sec:
            self._roll(sec)
        cfg = self.cfg
        min_len = cfg.copypasta_min_len
        # The length test inline: most lines are short and skip the call entirely.
        pasta = copypasta_key(text, min_len) if len(text) >= min_len else None
        if pasta is not None:
            self._pasta.expire(t)
            if self._pasta.full(pasta):
                return False, None
        n = self._users.add(t, user)
        if not n:
            return False, None
        if pasta is not None:
            self._pasta.add(t, pasta)
        self._sec_count += 1
        v = n / cfg.window_s
        if self.burst is not None:  # adaptive: bursts are judged when the second closes
            if v > self._threshold and self.burst.ready:
                self.last_true = t
                self.hot = True
            else:
                self.hot = False
            return True, None
        if v > self._threshold and self.baseline.ready:
            self.last_true = t
            self.hot = True
            if self.armed:
                self.armed = False
                return True, self._fire(t, v, None)
        elif v <= self._threshold:
            self.armed = True
            self.hot = False
        return True, None
