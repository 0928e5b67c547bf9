"""Emote extraction from Kick chat text.

Kick's own emotes arrive inline as `[emote:ID:NAME]`; we trust NAME. 7TV-style emotes are plain
words (KEKW, OMEGALUL), matched as whole whitespace-separated tokens against a configured list,
case-sensitively, because emote names are (`LUL` is an emote, `lul` is a word).

The token pattern is bounded on purpose: an ID of at most 20 digits and a NAME of at most 100
characters that contains no bracket. With a name running to the next `]`, a line holding
thousands of unclosed `[emote:` openers made the regex rescan to the end of the line from every
opener (quadratic: 40k characters took seconds of the detector's single core). Now each scan
stops at the next `[` or after 100 characters, so parsing is linear, and a name never swallows
the next token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from engine.config import EmoteFloodConfig
from engine.detection.reactions import GLOBAL_EMOTES, reaction_tokens

KICK_EMOTE_RE = re.compile(r"\[emote:(\d{1,20}):([^\]\[]{0,100})\]")


class EmoteParser:
    """Turns chat text into the tuple of emote names it contains (repeats kept, in order).

    With `reactions`, the shipped global emote names count as plain emotes too, and folded
    reactions in any language (engine.detection.reactions: `ㅋㅋ`, `lol`, `哈哈`, emoji) follow
    the emotes, so a flood of one reaction counts like a flood of one emote.
    """

    __slots__ = ("_plain", "_reactions")

    def __init__(self, plain_emotes: Iterable[str] = (), reactions: bool = False) -> None:
        self._plain = frozenset(plain_emotes) | (GLOBAL_EMOTES if reactions else frozenset())
        self._reactions = reactions

    @classmethod
    def from_config(cls, cfg: EmoteFloodConfig) -> EmoteParser:
        return cls(cfg.plain_emotes, reactions=cfg.reactions)

    def parse(self, text: str) -> tuple[str, ...]:
        emotes = self._emotes(text)
        if self._reactions:
            folded = reaction_tokens(text)
            if folded:
                return (*emotes, *folded)
        return emotes

    def _emotes(self, text: str) -> tuple[str, ...]:
        # Fast path: most chat lines have no inline emote, and the bracket test is far cheaper
        # than running the regex on every message.
        if "[emote:" in text:
            inline = [m[1] for m in KICK_EMOTE_RE.findall(text)]
            rest = KICK_EMOTE_RE.sub(" ", text)
        else:
            inline = []
            rest = text
        plain = self._plain
        if plain:
            tokens = rest.split()
            # isdisjoint runs in C; most lines have no plain emote and stop here.
            words = [] if plain.isdisjoint(tokens) else [w for w in tokens if w in plain]
            if words:
                if not inline:
                    return tuple(words)
                # Keep text order: re-scan tokens so inline and plain emotes interleave correctly.
                return tuple(_ordered(text, plain))
        return tuple(inline)


def _ordered(text: str, plain: frozenset[str]) -> list[str]:
    out: list[str] = []
    pos = 0
    for m in KICK_EMOTE_RE.finditer(text):
        out.extend(w for w in text[pos : m.start()].split() if w in plain)
        out.append(m[2])
        pos = m.end()
    out.extend(w for w in text[pos:].split() if w in plain)
    return out


def strip_emotes(text: str) -> str:
    """Text without inline emote tokens, for features that should read only the words."""
    return KICK_EMOTE_RE.sub(" ", text) if "[emote:" in text else text


def readable(text: str) -> str:
    """Chat as a person reads it: `[emote:37226:KEKW]` becomes `KEKW` (review embeds)."""
    return KICK_EMOTE_RE.sub(lambda m: m[2] or "emote", text) if "[emote:" in text else text
