"""keyword: many different chatters asking for a clip, or reacting in words, at once.

Fires when at least `min_count` messages from distinct users within `window_s` contain a
configured phrase, matched case-insensitively as whole words ("clip it" matches "CLIP IT!!",
"clip  it", not "eclipse it"; phrases in scripts without spaces match inside words), in the
words only: Kick emote tokens are removed first, so
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

from engine.config import AdaptiveConfig, KeywordConfig
from engine.detection.emotes import strip_emotes
from engine.triggers.burst import Burst, adapted
from engine.triggers.fire import NEVER, Fire
from engine.triggers.velocity import copypasta_key
from engine.triggers.windows import CappedWindow

NAME = "keyword"


def phrase_regex(phrases: list[str]) -> re.Pattern[str] | None:
    """One alternation of whole-word phrases, longest first so "CLIP THAT" beats a prefix.

    Phrases in Latin letters match as whole words; phrases in scripts written without spaces
    (클립, 切片) match inside a run of text, so they get the other regex (`spaceless_regex`).
    One shared pair of word edges keeps the common (ASCII) search fast: edges on every
    alternative cost ten times more a message."""
    latin = [p for p in phrases if p.strip() and _latin(p)]
    if not latin:
        return None
    return re.compile(r"(?<!\w)" + _trie(latin) + r"(?!\w)", re.IGNORECASE)


def _trie(phrases: list[str]) -> str:
    """The phrases as one regex trie ("clip(?:\\s+(?:it|that)|ped)|no\\s+way"): shared prefixes
    are tried once, which the chat-line search pays for on every message."""
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    for phrase in phrases:
        node = root
        for ch in " ".join(phrase.lower().split()):
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:  # type: ignore[type-arg]
        alts = [
            (r"\s+" if ch == " " else re.escape(ch)) + emit(child)
            for ch, child in sorted(node.items())
            if ch
        ]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" in node:  # a phrase ends here and a longer one goes on
            return "(?:" + body + ")?"
        return body

    return "(?:" + emit(root) + ")"


def spaceless_regex(phrases: list[str]) -> re.Pattern[str] | None:
    parts = [_body(p) for p in _by_length(phrases) if not _latin(p)]
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def _by_length(phrases: list[str]) -> list[str]:
    return sorted((p for p in phrases if p.strip()), key=len, reverse=True)


def _body(phrase: str) -> str:
    return r"\s+".join(re.escape(w) for w in phrase.split())


def _latin(phrase: str) -> bool:
    return phrase.isascii()


class KeywordTrigger:
    """Distinct users per phrase in a sliding window."""

    __slots__ = (
        "_high",
        "_pasta",
        "_pasta_min",
        "_phrases",
        "_q",
        "_re",
        "_re_spaceless",
        "_sec",
        "_users",
        "armed",
        "burst",
        "cfg",
        "last_true",
        "pending",
    )

    def __init__(self, cfg: KeywordConfig, copypasta_min_len: int, copypasta_cap: int) -> None:
        self._q: deque[tuple[float, str, str]] = deque()
        self._users: dict[str, int] = {}
        self._phrases: Counter[str] = Counter()
        self._pasta = CappedWindow(cfg.window_s, copypasta_cap)
        self._pasta_min = copypasta_min_len
        self.armed = True
        self.last_true = NEVER
        self.burst: Burst | None = None
        self._sec: int | None = None
        self.pending: Fire | None = None
        self.configure(cfg)

    def adapt(self, adaptive: AdaptiveConfig, target: float) -> None:
        """Adaptive: distinct chatters asking for a clip in the window, sampled once a second
        and judged against this channel's own history of requests (engine.triggers.burst);
        `min_count` stays as a ceiling (that many chatters always count)."""
        self.burst = adapted(self.burst, adaptive, target)

    def roll(self, t: float) -> Fire | None:
        """Adaptive, called for every message: on a new second, judge the closed one."""
        sec = int(t)
        if sec == self._sec:
            return None
        prev, self._sec = self._sec, sec
        burst = self.burst
        if prev is None or burst is None:
            return None
        end = prev + 1.0
        n = self.count(end)
        fired = burst.try_fire(n, ceiling=self.cfg.min_count)
        burst.update(n)
        burst.fill(self.count, prev + 1, sec - prev - 1, self.cfg.window_s)
        if n and n > burst.bar_value():
            self.last_true = end
        if fired is None:
            return None
        return self._fire(end, n, fired, burst.rarity(fired))

    def configure(self, cfg: KeywordConfig) -> None:
        self.cfg = cfg
        self._re = phrase_regex([*cfg.high, *cfg.medium])
        self._re_spaceless = spaceless_regex([*cfg.high, *cfg.medium])
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
        self._sec = None
        if self.burst is not None:
            self.burst.reset()

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

    def _match(self, text: str) -> re.Match[str] | None:
        m = self._re.search(text) if self._re is not None else None
        if m is None and self._re_spaceless is not None and not text.isascii():
            m = self._re_spaceless.search(text)
        return m

    def on_message(self, t: float, user: str, text: str) -> Fire | None:
        # The Latin search inline: this runs for every chat line.
        m = self._re.search(text) if self._re is not None else None
        if m is None:
            if self._re_spaceless is None or text.isascii():
                return None
            m = self._re_spaceless.search(text)
            if m is None:
                return None
        # Only a line that matched pays for stripping emote tokens: most chat stops above.
        if "[emote:" in text:
            m = self._match(strip_emotes(text))
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
        burst = self.burst
        if burst is not None:  # adaptive: judged once a second (roll); cold, the ceiling at once
            if n >= self.cfg.min_count and not burst.ready:
                self.last_true = t
                fired = burst.try_fire(n, ceiling=self.cfg.min_count)
                if fired is not None:
                    return self._fire(t, n, fired, burst.rarity(fired))
            return None
        if n < self.cfg.min_count:
            self.armed = True
            return None
        self.last_true = t
        if not self.armed:
            return None
        self.armed = False
        return self._fire(t, n, None, None)

    def _fire(self, t: float, n: int, strength: float | None, per_hour: float | None) -> Fire:
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
            strength=strength,
            per_hour=per_hour,
        )
