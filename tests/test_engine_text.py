"""Chat text handling: Kick emote tokens parse in linear time and never read as keywords."""

from __future__ import annotations

from engine.emotes import EmoteParser, readable, strip_emotes


def test_many_unclosed_emote_tokens_parse_in_linear_time() -> None:
    """10,000 unclosed `[emote:` openers: the old pattern rescanned to the end of the line from
    each one (minutes of CPU); the bounded one stops at the next bracket."""
    unclosed = "[emote:1:" * 5_000 + " no closing bracket anywhere"
    assert EmoteParser(["KEKW"]).parse(unclosed) == ()
    assert strip_emotes(unclosed) == unclosed
    text = "[emote:1:" * 5_000 + "[emote:2:KEKW] done"
    assert EmoteParser(["KEKW"]).parse(text) == ("KEKW",), "a name never spans another token"
    assert strip_emotes(text).endswith("  done")
    assert readable(text).endswith("KEKW done")


def test_bounded_emote_pattern_still_reads_real_tokens() -> None:
    p = EmoteParser(["LUL"])
    assert p.parse("a [emote:37226:KEKW][emote:1:EZ] LUL [emote:9:]") == ("KEKW", "EZ", "LUL", "")
    assert p.parse("[emote:1:" + "x" * 500 + "]") == (), "no emote name is 500 characters"
