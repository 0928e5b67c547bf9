"""Reactions in any language, folded to one token each, so floods count however chat spells them.

Chat laughs and cheers with repeats, not words: `ㅋㅋㅋㅋ`, `ㅎㅎ`, `哈哈哈`, `www`, `jajaja`,
`kkkk`, `LOOOL`, `777`, emoji walls. A flood is many chatters using the *same* reaction, so
spellings must meet: every run is folded to a canonical token (`ㅋㅋㅋㅋㅋ` and `ㅋㅋ` are both
`ㅋㅋ`, `LOOOOL` and `lol` are `lol`, `hahahah` is `haha`, `🤣🤣🤣` is `🤣`). Emote names (Kick's
`[emote:ID:NAME]` and plain words from the shipped list of global Kick/Twitch/BTTV/FFZ/7TV
emotes, `global_emotes.txt`, plus any configured) count as tokens too, case-sensitively.
Nothing here is fitted to one channel's words: the families are the ways chat in English,
Korean, Chinese, Japanese, Spanish, Portuguese and Thai spells laughter, shock and cheers.

Each distinct word is classified once by one regex and memoised (bounded), so a message costs a
split and a dict lookup per word.
"""

from __future__ import annotations

import re
from importlib import resources

LAUGH = "laugh"
_FAMILIES: dict[str, tuple[str, str]] = {
    # group name: (pattern, canonical token)
    "lol": (r"l+o+l+(?:w+)?", "lol"),
    "lmao": (r"l+m+f*a+o+", "lmao"),
    "haha": (r"a?(?:h+a+){2,}h*|a?(?:a+h+){2,}", "haha"),
    "hehe": (r"(?:h+e+){2,}h*", "hehe"),
    "jaja": (r"(?:j+a+){2,}j*|(?:j+e+){2,}", "jaja"),
    "kkk": (r"k{3,}", "kkk"),
    "rsrs": (r"(?:rs){2,}", "rsrs"),
    "xd": (r"x+d+", "xd"),
    "www": (r"w{3,}", "www"),
    "omg": (r"o+m+g+", "omg"),
    "wtf": (r"w+t+f+", "wtf"),
    "pog": (r"p+o+g+(?:gers|u|champ)?", "pog"),
    "letsgo": (r"let'?s+\s*go+", "letsgo"),
    "gg": (r"g{2,}", "gg"),
}
_LATIN = "|".join(f"(?P<{name}>{pat})" for name, (pat, _) in _FAMILIES.items())
_CANON = {name: token for name, (_, token) in _FAMILIES.items()}
_REPEATS = {
    # a character repeated is a reaction: Korean jamo, CJK laughter, cheering digits
    "ko_laugh": ("ㅋ", 2, "ㅋㅋ"),
    "ko_smile": ("ㅎ", 2, "ㅎㅎ"),
    "ko_shock": ("ㄷ", 2, "ㄷㄷ"),
    "ko_cry": ("ㅠㅜ", 2, "ㅠㅠ"),
    "zh_laugh": ("哈", 2, "哈哈"),
    "zh_hehe": ("呵", 2, "呵呵"),
    "ja_grass": ("草", 1, "草"),
    "ja_laugh": ("笑", 1, "笑"),
    "sevens": ("7", 3, "777"),
    "twos": ("2", 3, "222"),
    "sixes": ("6", 3, "666"),
    "eights": ("8", 3, "888"),
    "fives": ("5", 3, "555"),
    "question": ("?？", 3, "???"),
    "bang": ("!！", 3, "!!!"),
}
_REPEAT_RE = "|".join(
    f"(?P<{name}>[{re.escape(chars)}]{{{n},}})" for name, (chars, n, _) in _REPEATS.items()
)
_CANON.update({name: token for name, (_, _, token) in _REPEATS.items()})
_EMOJI = r"(?P<emoji>[\U0001F300-\U0001FAFF\u2600-\u27BF])"
REACTION_RE = re.compile(
    rf"(?<![^\W\d_])(?:{_LATIN})(?![^\W\d_])|(?<!\d)(?:{_REPEAT_RE})(?!\d)|{_EMOJI}",
    re.IGNORECASE,
)
_DIGIT_GROUPS = frozenset(("sevens", "twos", "sixes", "eights", "fives"))


def _word_tokens(word: str) -> tuple[str, ...]:
    out: list[str] = []
    for m in REACTION_RE.finditer(word):
        group = m.lastgroup
        if group == "emoji":
            out.append(m.group())
        elif group is not None:
            out.append(_CANON[group])
    return tuple(out)


_CACHE_MAX = 65_536
_cache: dict[str, tuple[str, ...]] = {}


def reaction_tokens(text: str) -> list[str]:
    """The canonical reaction tokens in `text`, in order (one per run, repeats across runs kept).

    Chat repeats its words endlessly, so each distinct word is classified once (the regex) and
    remembered; a message costs a split and a dict lookup per word. The memo is bounded: when
    full it starts over (a memo, not state: results never depend on it)."""
    out: list[str] = []
    cache = _cache
    for word in text.split():
        toks = cache.get(word)
        if toks is None:
            toks = _word_tokens(word)
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[word] = toks
        if toks:
            out.extend(toks)
    return out


def _load_global_emotes() -> frozenset[str]:
    text = resources.files(__package__).joinpath("global_emotes.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


GLOBAL_EMOTES: frozenset[str] = _load_global_emotes()
"""Global emote names shipped with the bot (global_emotes.txt), read once at import."""
