"""keyword: many different chatters asking for a clip, or reacting in words, at once.

Fires when at least `min_count` messages from distinct users within `window_s` contain a
configured phrase, matched case-insensitively as whole words ("clip it" matches "CLIP IT!!",
"clip  it", not "eclipse it"), in the words only: Kick emote tokens are removed first, so
`[emote:4242:INSANE]` is an emote (emote_flood's business), not someone saying INSANE.
Generic OMG/WTF are deliberately absent: they are chat's punctuation, not a request. Each user
counts once per window; a long copypasta that contains a phrase counts at most `copypasta_cap`
times, keyed like chat_velocity's (velocity.copypasta_key), so " {i}" tails do not dodge it.
Confidence moves from `confidence_medium` to `confidence_high` with the share of high-priority
phrases (CLIP IT...) among the matches.
"""

from __future__ import annotations

import re
from collections import Counter, deque

from engine.config import KeywordConfig
from engine.detection.emotes import strip_emotes
from engine.triggers.fire import NEVER, Fire
from engine.triggers.velocity import copypasta_key
from engine.triggers.windows import CappedWindow

NAME = "keyword"


def phrase_regex(phrases: list[str]) -> re.Pattern[str] | None:
    """One alternation of whole-word phrases, longest first so "CLIP THAT" beats a prefix."""
    parts = [
        r"\s+".join(re.escape(w) for w in p.split())
        for p in sorted(phrases, key=len, reverse=True)
        if p.strip()
    ]
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


class KeywordTrigger:
    """Distinct users per phrase in a sliding window."""

    __slots__ = (
        "_high",
        "_pasta",
        "_pasta_min",
        "_phrases",
        "_q",
        "_re",
        "_users",
        "armed",
        "cfg",
        "last_true",
    )

    def __init__(self, cfg: KeywordConfig, copypasta_min_len: int, copypasta_cap: int) -> None:
        self._q: deque[tuple[float, str, str]] = deque()
        self._users: dict[str, int] = {}
        self._phrases: Counter[str] = Counter()
        self._pasta = CappedWindow(cfg.window_s, copypasta_cap)
        self._pasta_min = copypasta_min_len
        self.armed = True
        self.last_true = NEVER
        self.configure(cfg)

    def configure(self, cfg: KeywordConfig) -> None:
        self.cfg = cfg
        self._re = phrase_regex([*cfg.high, *cfg.medium])
        self._high = frozenset(" ".join(p.upper().split()) for p in cfg.high)
        self._pasta.window_s = cfg.window_s

    def reset(self) -> None:
        """Forget the window (the clock went back: engine.detection.detector)."""
        self._q.clear()
        self._users.clear()
        self._phrases.clear()
        self._pasta.clear()
        self.armed = True
        self.last_true = NEVER

    def _expire(self, now: float) -> None:
        q = self._q
        limit = now - self.cfg.window_s
        while q and q[0][0] <= limit:
            _, user, phrase = q.popleft()
            del self._users[user]
            self._phrases[phrase] -= 1
            if not self._phrases[phrase]:
                del self._phrases[phrase]

    def count(self, now: float) -> int:
        self._expire(now)
        return len(self._q)

    def on_message(self, t: float, user: str, text: str) -> Fire | None:
        if self._re is None:
            return None
        m = self._re.search(text)
        if m is None:
            return None
        # Only a line that matched pays for stripping emote tokens: most chat stops above.
        if "[emote:" in text:
            m = self._re.search(strip_emotes(text))
            if m is None:
                return None
        self._expire(t)
        if user in self._users:
            return None
        pasta = copypasta_key(text, self._pasta_min)
        if pasta is not None and not self._pasta.add(t, pasta):
            return None
        phrase = " ".join(m.group(0).upper().split())
        self._users[user] = 1
        self._phrases[phrase] += 1
        self._q.append((t, user, phrase))
        n = len(self._q)
        if n < self.cfg.min_count:
            self.armed = True
            return None
        self.last_true = t
        if not self.armed:
            return None
        self.armed = False
        cfg = self.cfg
        n_high = sum(c for p, c in self._phrases.items() if p in self._high)
        confidence = cfg.confidence_medium + (cfg.confidence_high - cfg.confidence_medium) * (
            n_high / n
        )
        return Fire(
            NAME,
            t,
            round(confidence, 3),
            {
                "count": n,
                "phrases": dict(self._phrases.most_common(5)),
                "priority": "high" if n_high * 2 >= n else "medium",
            },
        )
