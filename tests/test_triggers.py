"""Each trigger just below, at and just above its threshold, plus cold start and baselines."""

from __future__ import annotations

import math

import pytest
from chatscript import T0, Script, with_config

from engine.config import Config
from engine.detection.detector import Detector
from engine.events import LiveChange, ViewerSample
from engine.triggers.excitement import message_score


def only(config: Config, *triggers: str) -> Config:
    """Config with every other trigger disabled, to test one in isolation."""
    names = ("chat_velocity", "keyword", "emote_flood", "viewer_spike", "excitement")
    return with_config(config, triggers={f"{n}.enabled": n in triggers for n in names})


# -- chat_velocity ------------------------------------------------------------------------------


def warmed(config: Config, rate: float = 2.0, seconds: float = 60) -> tuple[Script, float]:
    s = Script(Detector("s", only(config, "chat_velocity")))
    end = s.warm(T0, seconds, rate)
    # Leave the 5 s velocity window empty of warm-up chat so a burst is measured alone.
    return s, end + 6


@pytest.mark.parametrize(("n", "fires"), [(84, False), (85, False), (86, True)])
def test_velocity_quiet_channel_floor(config: Config, n: int, fires: bool) -> None:
    """Quiet channel: the bar is the static floor 15 + buffer 2 = 17 msg/s over 5 s = 85 msgs;
    velocity must *exceed* it, so exactly 85 does not fire."""
    s, t = warmed(config)
    assert s.d.velocity.threshold() == pytest.approx(17.0)
    out = s.burst(t, n, span=0.9)
    assert [m.trigger for m in out] == (["chat_velocity"] if fires else [])
    if fires:
        details = out[0].details["by_trigger"]["chat_velocity"]
        assert details["velocity"] == pytest.approx(86 / 5)
        assert details["threshold"] == pytest.approx(17.0)
        assert out[0].clip_start == pytest.approx(out[0].t - 20)
        assert out[0].clip_end == pytest.approx(out[0].t + 25)


def test_velocity_floor_is_configurable(config: Config) -> None:
    cfg = with_config(config, triggers={"chat_velocity.threshold": 5.0})
    s, t = warmed(cfg, rate=0.5)
    assert s.d.velocity.threshold() == pytest.approx(7.0)
    assert s.burst(t, 35) == []  # 7.0 msg/s: at the bar
    assert [m.trigger for m in s.burst(t + 0.95, 1, prefix="x")] == ["chat_velocity"]


def busy_channel(config: Config, rate: int = 200, seconds: int = 600) -> tuple[Script, float]:
    """A big channel: `rate` msg/s from 3,000 rotating chatters for ten minutes."""
    s = Script(Detector("big", only(config, "chat_velocity")))
    step = 1.0 / rate
    users = [f"u{i}" for i in range(3000)]
    for i in range(rate * seconds):
        s.say(T0 + i * step, users[i % 3000], "chatting away")
    return s, T0 + seconds


def steady(s: Script, start: float, rate: int, seconds: int, prefix: str) -> list:
    out = []
    for i in range(rate * seconds):
        out += s.say(start + i / rate, f"{prefix}{i % 4000}", "more chat")
    return out


def test_busy_channel_is_judged_against_its_own_normal(config: Config) -> None:
    s, t = busy_channel(config)
    assert s.d.velocity.baseline.mean == pytest.approx(200, rel=0.02)
    assert s.d.velocity.threshold() == pytest.approx(302, rel=0.02)
    assert steady(s, t, 220, 30, "p") == [], "10% above normal is noise on a busy channel"
    out = steady(s, t + 30, 400, 10, "q")
    assert [m.trigger for m in out] == ["chat_velocity"]
    assert out[0].details["by_trigger"]["chat_velocity"]["baseline"] == pytest.approx(200, rel=0.05)


@pytest.mark.parametrize(("below", "fires"), [(1, False), (0, False), (-1, True)])
def test_busy_channel_bar_just_below_at_and_above(config: Config, below: int, fires: bool) -> None:
    """The busy channel's bar is its own normal x 1.5 + 2 (~302 msg/s, not the static 17). The
    burst lands inside one second, so the bar set by its first message holds throughout: `at`
    is the most messages whose velocity does not exceed the bar, below is one fewer, above one
    more."""
    s, t = busy_channel(config)
    start = t + 6  # the 5 s window is empty of the steady chat
    s.say(start, "first", "more chat")  # rolls the seconds since into the baseline
    bar = s.d.velocity.threshold()
    assert bar == pytest.approx(302, rel=0.03)
    at = math.floor(bar * 5)
    while at / 5 > bar:
        at -= 1
    assert (at + 1) / 5 > bar
    out = s.burst(start + 0.01, at - 1 - below, "more chat", span=0.9, prefix="z")
    assert [m.trigger for m in out] == (["chat_velocity"] if fires else [])


def test_velocity_cold_start_does_not_fire(config: Config) -> None:
    """The bot joining a channel mid-hype must not clip its first seconds of chat."""
    s = Script(Detector("s", only(config, "chat_velocity")))
    assert s.burst(T0, 300, span=5) == []
    assert not s.d.velocity.baseline.ready


def test_baseline_learns_slowly_while_hot(config: Config) -> None:
    s, t = warmed(config)
    before = s.d.velocity.baseline.mean
    for sec in range(30):  # half a minute far above the bar
        s.burst(t + sec, 100, span=0.99, prefix=f"h{sec}-")
    assert s.d.velocity.baseline.mean < before + 100 * 0.1 * 30 / 300 * 4
    assert len(s.moments) == 1, "sustained hype is one rising edge, not one per message"


# -- keyword ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "fires"), [(7, False), (8, True), (9, True)])
def test_keyword_threshold(config: Config, n: int, fires: bool) -> None:
    s = Script(Detector("s", only(config, "keyword")))
    out = s.burst(T0, n, "CLIP IT", span=9.5)
    assert [m.trigger for m in out] == (["keyword"] if fires else [])


def test_keyword_window_is_ten_seconds(config: Config) -> None:
    s = Script(Detector("s", only(config, "keyword")))
    # 8 messages, the last 10.15 s after the first: never 8 inside one 10 s window.
    assert s.burst(T0, 8, "clip it", span=11.6) == []


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("CLIP IT", True),
        ("clip it!!!", True),
        ("someone   CLIP this.. SOMEONE CLIP", True),
        ("Clip That KEKW", True),
        ("no shot bro", True),
        ("eclipse it", False),
        ("CLIPIT", False),
        ("clipitty", False),
        ("OMG", False),
        ("WTF", False),
        ("insanely good", False),
    ],
)
def test_keyword_whole_phrase_case_insensitive(config: Config, text: str, counts: bool) -> None:
    s = Script(Detector("s", only(config, "keyword")))
    out = s.burst(T0, 8, text)
    assert bool(out) == counts


def test_keyword_priority_feeds_confidence(config: Config) -> None:
    high = Script(Detector("s", only(config, "keyword"))).burst(T0, 8, "CLIP IT")
    medium = Script(Detector("s", only(config, "keyword"))).burst(T0, 8, "INSANE")
    assert high[0].confidence > medium[0].confidence
    assert high[0].details["by_trigger"]["keyword"]["priority"] == "high"
    assert high[0].details["by_trigger"]["keyword"]["phrases"] == {"CLIP IT": 8}


# -- emote_flood --------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "fires"), [(14, False), (15, True), (16, True)])
def test_emote_flood_threshold(config: Config, n: int, fires: bool) -> None:
    s = Script(Detector("s", only(config, "emote_flood")))
    out = s.burst(T0, n, "[emote:37226:KEKW]", span=9.5)
    assert [m.trigger for m in out] == (["emote_flood"] if fires else [])
    if fires:
        assert out[0].details["by_trigger"]["emote_flood"] == {"emote": "KEKW", "count": 15}


def test_emote_repeats_in_one_message_count_once(config: Config) -> None:
    s = Script(Detector("s", only(config, "emote_flood")))
    assert s.burst(T0, 14, "KEKW KEKW KEKW [emote:37226:KEKW] [emote:37226:KEKW]") == []


def test_plain_and_inline_emotes_count_alike(config: Config) -> None:
    s = Script(Detector("s", only(config, "emote_flood")))
    s.burst(T0, 7, "OMEGALUL", prefix="a")
    out = s.burst(T0 + 1, 8, "lmao [emote:1:OMEGALUL]", prefix="b")
    assert out and out[0].details["by_trigger"]["emote_flood"]["emote"] == "OMEGALUL"


def test_two_emotes_do_not_add_up(config: Config) -> None:
    s = Script(Detector("s", only(config, "emote_flood")))
    s.burst(T0, 10, "KEKW", prefix="a")
    assert s.burst(T0 + 1, 10, "LUL", prefix="b") == []


# -- viewer_spike -------------------------------------------------------------------------------


def polls(s: Script, values: list[int], start: float = T0) -> list:
    out = []
    for i, v in enumerate(values):
        out += s.viewers(start + 10 * i, v)
    return out


@pytest.mark.parametrize(("last", "fires"), [(2999, False), (3000, True), (3001, True)])
def test_viewer_spike_threshold(config: Config, last: int, fires: bool) -> None:
    s = Script(Detector("s", only(config, "viewer_spike")))
    out = polls(s, [1000] * 6 + [last])
    assert [m.trigger for m in out] == (["viewer_spike"] if fires else [])
    if fires:
        d = out[0].details["by_trigger"]["viewer_spike"]
        assert d["baseline"] == pytest.approx(1000)
        assert d["viewers"] == last


def test_viewer_spike_cold_start(config: Config) -> None:
    s = Script(Detector("s", only(config, "viewer_spike")))
    s.d.feed(LiveChange(T0, True))
    assert polls(s, [100, 5000]) == [], "first samples after going live have no baseline"
    assert polls(s, [100, 100, 5000], start=T0 + 1000) == [], "a gap empties the baseline"
    assert [m.trigger for m in polls(s, [100, 100, 100, 5000], start=T0 + 2000)] == ["viewer_spike"]


def test_viewer_spike_new_session_resets(config: Config) -> None:
    s = Script(Detector("s", only(config, "viewer_spike")))
    polls(s, [100] * 5)
    s.d.feed(LiveChange(T0 + 50, False))
    s.d.feed(LiveChange(T0 + 55, True))
    assert s.viewers(T0 + 60, 900) == []


def test_tiny_channel_never_spikes(config: Config) -> None:
    s = Script(Detector("s", only(config, "viewer_spike")))
    assert polls(s, [3, 3, 3, 3, 40]) == []


# -- excitement ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "emotes", "lo", "hi"),
    [
        ("hello there", 0, 0.0, 0.05),
        ("LMAOOOO KEKW!!!", 1, 0.85, 1.0),
        ("NO WAY", 0, 0.25, 0.35),
        ("what?!?!", 0, 0.1, 0.2),
        ("[emote:37226:KEKW] [emote:37226:KEKW]", 2, 0.2, 0.2),
        ("", 0, 0.0, 0.0),
    ],
)
def test_message_score(text: str, emotes: int, lo: float, hi: float) -> None:
    assert lo <= message_score(text, emotes) <= hi


@pytest.mark.parametrize(("text", "fires"), [("LMAOOOO KEKW!!!", True), ("lol nice", False)])
def test_excitement_alone_needs_a_high_bar(config: Config, text: str, fires: bool) -> None:
    s = Script(Detector("s", only(config, "excitement")))
    out = s.burst(T0, 25, text, span=9)
    assert [m.trigger for m in out] == (["excitement"] if fires else [])


@pytest.mark.parametrize(("bar", "fires"), [(0.49, True), (0.5, False), (0.51, False)])
def test_excitement_solo_bar_is_strictly_above(config: Config, bar: float, fires: bool) -> None:
    """The line "LOL NICE" scores exactly 0.5 (caps 0.3 + hype 0.2, exact in binary), so the mean
    of a window of them is exactly 0.5: a bar just below fires, one at or just above does not."""
    assert message_score("LOL NICE", 0) == 0.5
    cfg = with_config(only(config, "excitement"), triggers={"excitement.solo_threshold": bar})
    s = Script(Detector("s", cfg))
    out = s.burst(T0, 25, "LOL NICE", span=9)
    assert [m.trigger for m in out] == (["excitement"] if fires else [])
    if fires:
        assert out[0].details["by_trigger"]["excitement"]["score"] == 0.5


def test_excitement_needs_enough_messages(config: Config) -> None:
    s = Script(Detector("s", only(config, "excitement")))
    assert s.burst(T0, 19, "LMAOOOO KEKW!!!", span=9) == []


def test_excitement_raises_confidence(config: Config) -> None:
    calm = Script(Detector("s", only(config, "keyword", "excitement")))
    calm.burst(T0, 20, "nice one", prefix="c")
    hyped = Script(Detector("s", only(config, "keyword", "excitement")))
    hyped.burst(T0, 20, "NOOOO WAY!!! KEKW", prefix="c")
    a = calm.burst(T0 + 1, 8, "clip it")[0]
    b = hyped.burst(T0 + 1, 8, "clip it")[0]
    assert b.confidence > a.confidence
    assert b.confidence - a.confidence <= config.triggers.excitement.boost + 1e-9


def test_viewer_samples_are_ignored_when_disabled(config: Config) -> None:
    d = Detector("s", only(config, "keyword"))
    for i in range(10):
        assert d.feed(ViewerSample(T0 + 10 * i, 10 if i < 9 else 10_000)) == []
