"""excitement: how worked-up chat *sounds*, beyond how fast it is.

Each counted message gets a score in [0, 1], a weighted sum of cheap features:
  0.30 caps ratio (ASCII letters, messages with 4+ letters only)   "NO WAYYY"
  0.15 letter repeats (any letter 3+ times in a row)               "noooo", "LMAOOO"
  0.15 punctuation (! and ?, saturating at 3)                      "WHAT?!?!"
  0.20 laughter / hype tokens (lol, lmao, haha, omg, pog, W, lets go, sheesh)
  0.20 emote density (emotes per word, saturating at 1)
The window score is the mean over the last `window_s` seconds, defined once `min_messages`
messages are in it. It raises any moment's confidence by up to `boost`; alone it fires only
strictly above `solo_threshold` (like chat_velocity's bar: "above a high bar", so a mean exactly
at it does not fire), a deliberately high bar (a whole chat in caps, laughing, with emotes).
Scoring is a few C-level string operations per message (no VADER: at ~50 us a message it would
cap the detector near 20k msg/s, and sentiment is not what makes a clip).

The window mean is a statistic, so a busy chat need not score every line: once the window holds
`_SAMPLE_FREE` scores, only every k-th message is scored, k = 1 + len(window) // _SAMPLE_FREE.
That settles near a few hundred scores per window at any rate, an even sample whose mean is within
a few hundredths of the full one, and keeps the cost per message flat when chat explodes.
"""

from __future__ import annotations

import re
from collections import deque

from engine.config import ExcitementConfig
from engine.detection.emotes import strip_emotes
from engine.triggers.fire import NEVER, Fire

NAME = "excitement"
_SAMPLE_FREE = 100

_UPPER_DELETE = bytes(c for c in range(256) if not 65 <= c <= 90)
_LETTER_DELETE = bytes(c for c in range(256) if not (65 <= c <= 90 or 97 <= c <= 122))
_REPEAT_RE = re.compile(r"([A-Za-z])\1\1")
_HYPE_RE = re.compile(
    r"(?<!\w)(?:l+o+l+|l+m+f*a+o+|(?:ha){2,}h?|(?:he){2,}|(?:xd)+|omg+|pog+(?:gers)?|w+"
    r"|lets+\s*go+|sheesh+|holy)(?!\w)",
    re.IGNORECASE,
)


def message_score(text: str, n_emotes: int) -> float:
    """Excitement of one message, 0..1 (see the module docstring for the weights)."""
    words = strip_emotes(text)
    b = words.encode("utf-8", "ignore")
    letters = len(b.translate(None, _LETTER_DELETE))
    caps = len(b.translate(None, _UPPER_DELETE)) / letters if letters >= 4 else 0.0
    bangs = words.count("!") + words.count("?")
    punct = 1.0 if bangs >= 3 else bangs / 3.0
    repeat = 1.0 if _REPEAT_RE.search(words) else 0.0
    hype = 1.0 if _HYPE_RE.search(words) else 0.0
    n_words = len(text.split()) or 1
    density = 1.0 if n_emotes >= n_words else n_emotes / n_words
    return 0.3 * caps + 0.15 * punct + 0.15 * repeat + 0.2 * hype + 0.2 * density


class Excitement:
    __slots__ = ("_q", "_seen", "_sum", "armed", "cfg", "last_true")

    def __init__(self, cfg: ExcitementConfig) -> None:
        self.cfg = cfg
        self._q: deque[tuple[float, float]] = deque()
        self._sum = 0.0
        self._seen = 0
        self.armed = True
        self.last_true = NEVER

    def configure(self, cfg: ExcitementConfig) -> None:
        self.cfg = cfg

    def reset(self) -> None:
        """Forget the window (the clock went back: engine.detection.detector)."""
        self._q.clear()
        self._sum = 0.0
        self._seen = 0
        self.armed = True
        self.last_true = NEVER

    def _expire(self, now: float) -> None:
        q = self._q
        limit = now - self.cfg.window_s
        while q and q[0][0] <= limit:
            self._sum -= q.popleft()[1]

    def score(self, now: float) -> float | None:
        """The window's mean score, or None with too few messages to judge."""
        self._expire(now)
        n = len(self._q)
        if n < self.cfg.min_messages:
            return None
        return max(self._sum, 0.0) / n

    def on_message(self, t: float, text: str, n_emotes: int) -> Fire | None:
        self._seen += 1
        n = len(self._q)
        if n >= _SAMPLE_FREE and self._seen % (1 + n // _SAMPLE_FREE):
            return None
        s = message_score(text, n_emotes)
        self._q.append((t, s))
        self._sum += s
        mean = self.score(t)
        if mean is None or mean <= self.cfg.solo_threshold:
            self.armed = True
            return None
        self.last_true = t
        if not self.armed:
            return None
        self.armed = False
        return Fire(
            NAME, t, self.cfg.confidence, {"score": round(mean, 3), "messages": len(self._q)}
        )
