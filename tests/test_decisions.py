"""Combos, cooldowns and their bypass, the daily limit, merging into open clips, persistence."""

from __future__ import annotations

import itertools
import random
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from chatscript import T0, Script, with_config

from engine.config import Config
from engine.detection.detector import Detector
from engine.detection.thresholds import ThresholdError
from engine.triggers.combos import classify

KEYWORD_BURST = "CLIP IT"
EMOTE_BURST = "[emote:37226:KEKW]"


@pytest.mark.parametrize(
    ("active", "expected"),
    [
        ({"keyword"}, None),
        ({"chat_velocity", "keyword"}, ("chat_combo", 0.7)),
        ({"keyword", "excitement"}, ("chat_combo", 0.7)),
        ({"chat_velocity", "emote_flood"}, ("hype_moment", 0.8)),
        ({"keyword", "emote_flood"}, ("hype_moment", 0.8)),
        ({"chat_velocity", "viewer_spike"}, ("clip_worthy", 0.85)),
        ({"emote_flood", "viewer_spike"}, ("clip_worthy", 0.85)),
        ({"chat_velocity", "keyword", "emote_flood"}, ("super_combo", 0.95)),
        ({"keyword", "emote_flood", "viewer_spike", "excitement"}, ("super_combo", 0.95)),
    ],
)
def test_combo_classification(config: Config, active: set[str], expected: object) -> None:
    assert classify(active, config.triggers.combos) == expected


def test_combo_forms_by_upgrading_the_open_clip(config: Config) -> None:
    s = Script(Detector("s", config))
    first = s.burst(T0, 8, KEYWORD_BURST, prefix="k")
    assert [m.trigger for m in first] == ["keyword"]
    up = s.burst(T0 + 3, 15, EMOTE_BURST, prefix="e")
    assert [(m.trigger, m.revision, m.key) for m in up] == [("hype_moment", 1, first[0].key)]
    assert up[0].triggers == ("emote_flood", "keyword")
    assert up[0].confidence >= 0.8
    assert up[0].clip_start == first[0].clip_start
    assert up[0].clip_end == pytest.approx(up[0].details["updated_at"] + 25)
    assert first[0].details["top_emote"] == {"emote": None, "count": 0}
    assert up[0].details["top_emote"] == {"emote": "KEKW", "count": 15}


def test_super_combo_with_viewers(config: Config) -> None:
    s = Script(Detector("s", config))
    for i in range(6):
        s.viewers(T0 - 60 + 10 * i, 1000)
    s.burst(T0, 8, KEYWORD_BURST, prefix="k")
    s.burst(T0 + 2, 15, EMOTE_BURST, prefix="e")
    out = s.viewers(T0 + 4, 4000)
    assert out[-1].trigger == "super_combo"
    assert out[-1].confidence >= 0.95
    assert set(out[-1].triggers) == {"keyword", "emote_flood", "viewer_spike"}
    assert len({m.key for m in s.moments}) == 1, "one clip, upgraded twice"


def fast_limits(config: Config, **limits: object) -> Config:
    return with_config(config, limits=limits)


def test_single_trigger_cooldown(config: Config) -> None:
    s = Script(Detector("s", fast_limits(config, clip_cooldown_s=0.0)))
    assert len(s.burst(T0, 8, KEYWORD_BURST, prefix="a")) == 1
    # The clip closes at T0+25; keyword's 90 s cooldown still runs at T0+60.
    assert s.burst(T0 + 60, 8, KEYWORD_BURST, prefix="b") == []
    assert s.d.limiter.suppressed["cooldown"] == 1
    assert len(s.burst(T0 + 91, 8, KEYWORD_BURST, prefix="c")) == 1


def alone(config: Config, trigger: str) -> Config:
    """Only `trigger` on and no clip cooldown, so its own cooldown is what is tested."""
    names = ("chat_velocity", "keyword", "emote_flood", "viewer_spike", "excitement")
    cfg = with_config(config, triggers={f"{n}.enabled": n == trigger for n in names})
    return fast_limits(cfg, clip_cooldown_s=0.0)


def test_chat_velocity_cooldown_is_120_s(config: Config) -> None:
    assert config.limits.cooldowns_s.chat_velocity == 120
    s = Script(Detector("s", alone(config, "chat_velocity")))
    s.warm(T0 - 60, 60)
    assert [m.trigger for m in s.burst(T0 + 6, 86, prefix="a")] == ["chat_velocity"]
    # The clip closed at T0+31; 60 s later chat_velocity is still in its cooldown ...
    assert s.burst(T0 + 66, 86, prefix="b") == []
    assert s.d.limiter.suppressed["cooldown"] == 1
    assert s.burst(T0 + 120, 86, prefix="c") == []  # 114 s after the first
    assert s.d.limiter.suppressed["cooldown"] == 2
    # ... and 121 s after it, it fires again.
    assert [m.trigger for m in s.burst(T0 + 127, 86, prefix="d")] == ["chat_velocity"]


def test_emote_flood_cooldown_is_90_s(config: Config) -> None:
    assert config.limits.cooldowns_s.emote_flood == 90
    s = Script(Detector("s", alone(config, "emote_flood")))
    assert len(s.burst(T0, 15, EMOTE_BURST, prefix="a")) == 1
    assert s.burst(T0 + 60, 15, EMOTE_BURST, prefix="b") == []
    assert s.burst(T0 + 80, 15, EMOTE_BURST, prefix="c") == []  # its window is gone by T0+91
    assert s.d.limiter.suppressed["cooldown"] == 2
    assert len(s.burst(T0 + 91, 15, EMOTE_BURST, prefix="d")) == 1


def test_viewer_spike_cooldown_is_60_s(config: Config) -> None:
    assert config.limits.cooldowns_s.viewer_spike == 60
    s = Script(Detector("s", alone(config, "viewer_spike")))
    for i in range(6):
        s.viewers(T0 + 10 * i, 1000)
    assert [m.trigger for m in s.viewers(T0 + 60, 4000)] == ["viewer_spike"]
    for i in range(7, 11):
        assert s.viewers(T0 + 10 * i, 1000) == []  # back to normal: re-armed
    # T0+110: a spike (10,000 vs a 1,600 mean) 50 s after the first: in its cooldown.
    assert s.viewers(T0 + 110, 10_000) == []
    assert s.d.limiter.suppressed["cooldown"] == 1
    assert s.viewers(T0 + 120, 1000) == []
    # T0+130: 70 s after the first, another spike clips.
    assert [m.trigger for m in s.viewers(T0 + 130, 10_000)] == ["viewer_spike"]


def test_clip_cooldown_between_different_single_triggers(config: Config) -> None:
    s = Script(Detector("s", config))
    assert len(s.burst(T0, 8, KEYWORD_BURST, prefix="a")) == 1
    assert s.burst(T0 + 40, 15, EMOTE_BURST, prefix="e") == []
    assert s.d.limiter.suppressed["clip_cooldown"] == 1
    assert len(s.burst(T0 + 61, 15, EMOTE_BURST, prefix="f")) == 1


def test_combo_bypasses_cooldowns(config: Config) -> None:
    s = Script(Detector("s", config))
    assert len(s.burst(T0, 8, KEYWORD_BURST, prefix="a")) == 1
    # T0+40: the clip is closed; keyword is in cooldown (suppressed, but still active) ...
    assert s.burst(T0 + 40, 8, KEYWORD_BURST, prefix="b") == []
    # ... and an emote flood 3 s later makes a combo, which bypasses both cooldowns.
    out = s.burst(T0 + 43, 15, EMOTE_BURST, prefix="e")
    assert [(m.trigger, m.revision) for m in out] == [("hype_moment", 0)]


def test_combo_has_its_own_cooldown(config: Config) -> None:
    s = Script(Detector("s", config))
    s.burst(T0, 8, KEYWORD_BURST, prefix="a")
    s.burst(T0 + 1, 15, EMOTE_BURST, prefix="b")  # hype_moment, clip open until T0+26
    assert s.moments[-1].trigger == "hype_moment"
    s.burst(T0 + 27, 8, KEYWORD_BURST, prefix="c")
    assert s.burst(T0 + 28, 15, EMOTE_BURST, prefix="d") == []  # 27 s after: within 30 s
    s.burst(T0 + 40, 8, KEYWORD_BURST, prefix="e")
    out = s.burst(T0 + 41, 15, EMOTE_BURST, prefix="f")
    assert [(m.trigger, m.revision) for m in out] == [("hype_moment", 0)]


def test_merge_extends_up_to_max_length(config: Config) -> None:
    s = Script(Detector("s", config))
    for k in range(6):  # a keyword burst every 15 s, each a new rising edge
        s.burst(T0 + 15 * k, 8, KEYWORD_BURST, prefix=f"w{k}-")
    keys = {m.key for m in s.moments}
    assert len(keys) == 1
    ends = [m.clip_end for m in s.moments]
    assert ends == sorted(ends)
    first = s.moments[0]
    assert max(ends) == pytest.approx(first.clip_start + 90)
    assert all(m.clip_end - m.clip_start <= 90 for m in s.moments)
    assert [m.revision for m in s.moments] == list(range(len(s.moments)))


def test_daily_limit_across_midnight_in_a_timezone(config: Config) -> None:
    tz = ZoneInfo("America/New_York")
    cfg = fast_limits(
        config, daily_max_clips=2, clip_cooldown_s=0.0, default_cooldown_s=0.0, timezone=tz.key
    )
    cfg = with_config(cfg, limits={"cooldowns_s.keyword": 0.0})

    def at(h: int, m: int, day: int = 10) -> float:
        return datetime(2026, 3, day, h, m, tzinfo=tz).timestamp()

    s = Script(Detector("s", cfg))
    assert len(s.burst(at(23, 0), 8, KEYWORD_BURST, prefix="a")) == 1
    assert len(s.burst(at(23, 10), 8, KEYWORD_BURST, prefix="b")) == 1
    # 04:30 UTC is already the 11th in UTC, still the 10th in New York: limit holds.
    assert s.burst(at(23, 30), 8, KEYWORD_BURST, prefix="c") == []
    assert s.d.limiter.suppressed["daily_limit"] == 1

    state = s.d.to_state()  # the bot restarts at 23:40
    s2 = Script(Detector("s", cfg, state=state))
    assert s2.d.snapshot(at(23, 40)).clips_today == 2
    assert s2.burst(at(23, 45), 8, KEYWORD_BURST, prefix="d") == []
    assert len(s2.burst(at(0, 5, day=11), 8, KEYWORD_BURST, prefix="e")) == 1
    assert s2.d.snapshot(at(0, 6, day=11)).clips_today == 1


def test_daily_limit_binds_combos(config: Config) -> None:
    cfg = fast_limits(config, daily_max_clips=1)
    s = Script(Detector("s", cfg))
    s.burst(T0, 8, KEYWORD_BURST, prefix="a")
    s.burst(T0 + 100, 8, KEYWORD_BURST, prefix="b")
    assert s.burst(T0 + 101, 15, EMOTE_BURST, prefix="c") == []
    assert s.d.limiter.suppressed["daily_limit"] >= 1


def test_state_survives_a_json_round_trip(config: Config) -> None:
    import json

    s = Script(Detector("s", config))
    s.warm(T0 - 100, 90)
    s.burst(T0, 8, KEYWORD_BURST)
    state = json.loads(json.dumps(s.d.to_state()))
    d2 = Detector("s", config, state=state)
    assert d2.to_state() == s.d.to_state()
    assert d2.velocity.baseline.ready


def test_overrides_apply_at_run_time(config: Config) -> None:
    s = Script(Detector("s", config))
    s.burst(T0, 4, KEYWORD_BURST, prefix="a")
    s.d.set_overrides({"keyword": 5})
    out = s.burst(T0 + 1, 1, KEYWORD_BURST, prefix="b")
    assert [m.trigger for m in out] == ["keyword"], "window kept, new bar applies at once"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("keyword", 1, "between 2 and 500"),
        ("keyword", 7.5, "whole number"),
        ("viewer_spike", 0.5, "between 1.1 and 50"),
        ("nonsense", 3, "unknown threshold"),
    ],
)
def test_bad_overrides_are_refused_and_change_nothing(
    config: Config, name: str, value: float, message: str
) -> None:
    d = Detector("s", config, overrides={"keyword": 5})
    with pytest.raises(ThresholdError, match=message):
        d.set_overrides({"keyword": 6, name: value})
    assert d.overrides == {"keyword": 5}
    assert d.config.triggers.keyword.min_count == 5


def test_disabled_trigger_never_fires(config: Config) -> None:
    cfg = with_config(config, triggers={"keyword.enabled": False})
    s = Script(Detector("s", cfg))
    assert s.burst(T0, 30, KEYWORD_BURST) == []


def test_a_combo_after_the_clip_closed_starts_where_it_ended(config: Config) -> None:
    """Keyword at T0, keyword again at T0+26 (cooldown) and an emote flood at T0+27: the combo
    is a new clip (the first may already be cut), but it starts at the first clip's end instead
    of 20 s before the moment, 18 s inside the first clip."""
    s = Script(Detector("s", config))
    first = s.burst(T0, 8, KEYWORD_BURST, prefix="a")[0]
    assert s.burst(T0 + 26, 8, KEYWORD_BURST, prefix="b") == []
    out = s.burst(T0 + 27, 15, EMOTE_BURST, prefix="e")
    assert [(m.trigger, m.revision) for m in out] == [("hype_moment", 0)]
    assert out[0].key != first.key
    assert out[0].clip_start == first.clip_end
    assert out[0].clip_end == pytest.approx(out[0].t + 25)


@pytest.mark.parametrize("seed", range(8))
def test_clips_never_overlap(config: Config, seed: int) -> None:
    """Random bursts of every trigger for half an hour, with short cooldowns so clips crowd."""
    rng = random.Random(seed)
    cfg = fast_limits(config, clip_cooldown_s=5.0, default_cooldown_s=5.0)
    cfg = with_config(
        cfg,
        limits={
            f"cooldowns_s.{n}": 5.0 for n in ("keyword", "emote_flood", "viewer_spike", "combo")
        },
    )
    s = Script(Detector("s", cfg))
    for i in range(6):
        s.viewers(T0 - 60 + 10 * i, 1000)
    t = T0
    while t < T0 + 1800:
        kind = rng.choice(("keyword", "emote", "viewers", "quiet"))
        if kind == "keyword":
            s.burst(t, 8, KEYWORD_BURST, prefix=f"k{t}-")
        elif kind == "emote":
            s.burst(t, 15, EMOTE_BURST, prefix=f"e{t}-")
        elif kind == "viewers":
            s.viewers(t, rng.choice((1000, 4000)))
        t += rng.uniform(1, 30)
    last = {m.key: m for m in s.moments}  # each clip's final revision
    clips = sorted(last.values(), key=lambda m: m.clip_start)
    assert len(clips) >= 5
    for a, b in itertools.pairwise(clips):
        assert b.clip_start >= a.clip_end, (a, b)
