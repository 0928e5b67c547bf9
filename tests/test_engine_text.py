"""Chat text handling: Kick emote tokens parse in linear time and never read as keywords."""

from __future__ import annotations

from chatscript import T0, Script, with_config

from engine.config import Config
from engine.detection.detector import Detector
from engine.detection.emotes import EmoteParser, readable, strip_emotes


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


def test_keywords_inside_emote_tokens_do_not_count(config: Config) -> None:
    cfg = with_config(config, triggers={"emote_flood.enabled": False})
    s = Script(Detector("s", cfg))
    assert s.burst(T0, 8, "[emote:4242:INSANE]") == []
    assert s.burst(T0 + 1, 8, "[emote:4242:CLIP] [emote:4243:IT]", prefix="c") == []


def test_keywords_beside_emote_tokens_still_count(config: Config) -> None:
    cfg = with_config(config, triggers={"emote_flood.enabled": False})
    s = Script(Detector("s", cfg))
    out = s.burst(T0, 8, "INSANE [emote:4242:INSANE]")
    assert [m.trigger for m in out] == ["keyword"]
    assert out[0].details["by_trigger"]["keyword"]["phrases"] == {"INSANE": 8}
