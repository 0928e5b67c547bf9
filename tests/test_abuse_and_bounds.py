"""One chatter, copypasta or bots cannot make a moment; state stays bounded; junk is safe."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from chatscript import T0, Script, with_config

from engine.config import Config
from engine.detection.detector import Detector
from engine.events import ChatMessage, LiveChange, ViewerSample


def test_a_single_spammer_makes_no_moment(config: Config) -> None:
    s = Script(Detector("s", config))
    s.warm(T0 - 60, 60)
    for i in range(2000):  # 400 msg/s for 5 s, every trigger's favourite words
        s.say(T0 + i / 400, "spammer", "CLIP IT KEKW [emote:37226:KEKW] LMAOOO!!!")
    assert s.moments == []
    assert s.d.velocity.velocity(T0 + 5) <= config.triggers.chat_velocity.per_user_cap / 5 + 2


def test_spammer_cannot_inflate_the_baseline(config: Config) -> None:
    s = Script(Detector("s", config))
    for i in range(300 * 50):  # five minutes of one user at 50 msg/s beside quiet chat
        s.say(T0 + i / 50, "spammer", "aaaa")
    assert s.d.velocity.baseline.mean < 1.0


def test_copypasta_swarm_makes_no_moment(config: Config) -> None:
    pasta = "this streamer is the best streamer on kick and nobody can tell me otherwise"
    s = Script(Detector("s", config))
    s.warm(T0 - 60, 60)
    assert s.burst(T0 + 6, 300, pasta, span=4) == []


def test_copypasta_with_a_keyword_is_not_a_keyword_moment(config: Config) -> None:
    pasta = "INSANE play by the GOAT of kick, someone frame this and send it to the devs"
    s = Script(Detector("s", config))
    assert s.burst(T0, 50, pasta, span=5) == []


def test_distinct_short_hype_is_not_copypasta(config: Config) -> None:
    s = Script(Detector("s", config))
    s.warm(T0 - 60, 60)
    out = s.burst(T0 + 6, 120, "CLIP IT [emote:37226:KEKW]", span=4)
    assert out, "fifty people typing the same short reaction is a moment"


def test_bots_and_commands_are_ignored(config: Config) -> None:
    s = Script(Detector("s", config))
    for i in range(200):
        s.say(T0 + i / 100, "BotRix", f"CLIP IT user{i} [emote:37226:KEKW]")
    s.burst(T0, 50, "!clip")
    assert s.moments == []


def test_state_is_bounded_after_an_hour(config: Config) -> None:
    """An hour at 100 msg/s from 50k chatters with thousands of emote names: windows hold
    only what is inside them."""
    rng = random.Random(1)
    d = Detector("s", config)
    t = T0
    for i in range(360_000):
        t += 0.01
        text = f"[emote:{rng.randrange(5000)}:E{rng.randrange(5000)}] hi" if i % 3 else "hey"
        d.feed(d.message(t, f"u{rng.randrange(50_000)}", text))
        if i % 1000 == 0:
            d.feed(ViewerSample(t, 1000 + rng.randrange(50)))
    assert len(d.velocity._users) <= 5 * 100 + 1
    assert len(d.excitement._q) <= 10 * 100 + 1
    assert len(d.emote_flood._windows) <= 10 * 100
    assert len(d.keyword._q) <= 10 * 100
    assert len(d.viewer_spike._q) <= 7
    assert len(d.limiter.last) < 20


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "x" * 100_000,
        "[emote:",
        "[emote:1:]",
        "[emote:abc:KEKW]",
        "🔥🔥🔥 ПОГ 😂",
        "\x00\n\t",
        "\ud800 lone surrogate in a line long enough to be copypasta " * 2,
        "\u200b" * 100,
    ],
)
def test_odd_text_is_harmless(config: Config, text: str) -> None:
    d = Detector("s", config)
    for i in range(20):
        assert isinstance(d.feed(d.message(T0 + i, f"u{i}", text)), list)


def test_time_going_backwards_is_clamped(config: Config) -> None:
    """Chat and viewer polls come from different sockets; a late event must not rewind."""
    s = Script(Detector("s", config))
    s.burst(T0, 7, "CLIP IT", prefix="a")
    # Up to REWIND_S (5 min) behind is skew; further back is a clock reset (test_engine_time).
    s.say(T0 - 250, "late", "CLIP IT")  # counted at the latest time seen
    assert [m.trigger for m in s.moments] == ["keyword"]
    assert s.moments[0].t == pytest.approx(s.d._last_t)
    s.d.feed(ViewerSample(T0 - 280, 5))
    s.d.feed(LiveChange(T0 - 290, False))
    assert s.d._last_t == s.moments[0].t and s.d.clock_resets == 0


def test_feed_refuses_what_is_not_an_event(config: Config) -> None:
    d = Detector("s", config)
    with pytest.raises(TypeError, match="not an engine event"):
        d.feed({"t": 1, "user": "x", "text": "y"})  # type: ignore[arg-type]


def test_emote_parsing(config: Config) -> None:
    d = Detector("s", config)
    msg = d.message(T0, "u", "no way [emote:37226:KEKW] KEKW kekw LUL [emote:37221:EZ]")
    assert isinstance(msg, ChatMessage)
    assert msg.emotes == ("KEKW", "KEKW", "LUL", "EZ")


def _without_velocity(config: Config) -> Config:
    return with_config(config, triggers={"chat_velocity.enabled": False})


def test_a_single_spammer_makes_no_moment_without_velocity(config: Config) -> None:
    """The per-user cap is abuse resistance for every trigger, not part of chat_velocity."""
    s = Script(Detector("s", _without_velocity(config)))
    for i in range(40):
        s.say(T0 + i * 0.2, "spammer", "LMAOOOO KEKW!!!")
    assert s.moments == []


def test_an_excited_copypasta_swarm_makes_no_moment_without_velocity(config: Config) -> None:
    pasta = "LMAOOOO KEKW!!! THIS IS THE BEST STREAM ON KICK NOBODY CAN TELL ME OTHERWISE!!!"
    s = Script(Detector("s", _without_velocity(config)))
    assert s.burst(T0, 60, pasta, span=5) == []


PASTA = "this streamer is the best streamer on kick and nobody can tell me otherwise"
KEYWORD_PASTA = "INSANE play by the GOAT of kick, someone frame this and send it to the devs"


@pytest.mark.parametrize(
    "vary",
    [
        lambda p, i: f"{p} {i}",
        lambda p, i: f"{i} {p}",
        lambda p, i: f"{p}{'!' * (i % 7)}",
        lambda p, i: (p.upper() if i % 2 else p) + "  .",
        lambda p, i: p.replace(" ", "  " if i % 2 else " \u200b") + f" #{i}",
    ],
    ids=["suffix", "prefix", "punctuation", "case", "spacing"],
)
def test_a_copypasta_swarm_varying_a_character_makes_no_moment(
    config: Config, vary: Callable[[str, int], str]
) -> None:
    s = Script(Detector("s", config))
    s.warm(T0 - 60, 60)
    for i in range(300):
        s.say(T0 + 6 + 4 * i / 300, f"bot{i}", vary(PASTA, i))
    assert s.moments == []
    s2 = Script(Detector("s", config))
    for i in range(50):
        s2.say(T0 + 5 * i / 50, f"bot{i}", vary(KEYWORD_PASTA, i))
    assert s2.moments == []


def test_different_long_messages_still_count(config: Config) -> None:
    """Normalising copypasta must not lump genuine long messages together."""
    s = Script(Detector("s", config))
    lines = [
        f"user {i} says: {word} that was the cleanest play i have seen in years"
        for i, word in enumerate(["wow", "omg", "bro", "yo", "man", "dude", "ok", "nah"])
    ]
    out = []
    for i, text in enumerate(lines):
        out += s.say(T0 + i * 0.5, f"u{i}", text + " CLIP IT")
    assert [m.trigger for m in out] == ["keyword"]
