"""Channel-relative bars (the default): every channel size gets about the target clip rate, the
clips are its bursts, steady chat gets none, a burst's clip follows its peak, and what was
learnt survives a restart.

Chat is synthetic and seeded: a Poisson chat at the channel's rate, with reaction bursts (chat x4
for 20 s, laughing) at random places at least five minutes apart.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator

import pytest

from engine.config import Config
from engine.detection.detector import Detector
from engine.events import Moment

T0 = 1_767_000_000.0
LAUGHS = ("LOL", "ㅋㅋㅋㅋ", "哈哈哈哈", "KEKW", "jajaja", "😂😂")


def chat(
    rate: float, hours: float, bursts: list[float], seed: int, users: int = 5000
) -> Iterator[tuple[float, str, str]]:
    """(t, user, text): Poisson chat at `rate` msg/s, x4 and laughing for 20 s at each burst."""
    rng = random.Random(seed)
    t = T0
    end = T0 + hours * 3600
    while t < end:
        hot = any(b <= t < b + 20 for b in bursts)
        t += rng.expovariate(rate * (4 if hot else 1))
        text = rng.choice(LAUGHS) if hot and rng.random() < 0.7 else rng.choice(("hi", "gg", "ok"))
        yield t, f"u{rng.randrange(users)}", text


def burst_times(hours: float, n: int, seed: int, warmup_s: float = 300) -> list[float]:
    rng = random.Random(seed)
    times: list[float] = []
    while len(times) < n:
        b = T0 + rng.uniform(warmup_s, hours * 3600 - 60)
        if all(abs(b - x) >= 300 for x in times):
            times.append(b)
    return sorted(times)


def run(detector: Detector, lines: Iterator[tuple[float, str, str]]) -> dict[str, Moment]:
    """The last revision of every clip, by key."""
    clips: dict[str, Moment] = {}
    for t, user, text in lines:
        for m in detector.feed(detector.message(t, user, text)):
            clips[m.key] = m
    return clips


@pytest.mark.parametrize(
    ("rate", "hours", "n_bursts"),
    [(0.5, 3.0, 12), (300.0, 0.5, 2)],
    ids=["quiet 0.5 msg/s", "busy 300 msg/s"],
)
def test_every_channel_size_gets_its_bursts_at_about_the_target_rate(
    shipped: Config, rate: float, hours: float, n_bursts: int
) -> None:
    bursts = burst_times(hours, n_bursts, seed=int(rate * 10))
    clips = run(Detector("s", shipped), chat(rate, hours, bursts, seed=7))
    per_hour = len(clips) / hours
    assert 2 <= per_hour <= 6, f"{len(clips)} clips in {hours} h"
    caught = [
        b for b in bursts if any(c.clip_start <= b + 20 and c.clip_end >= b for c in clips.values())
    ]
    assert len(caught) >= 0.8 * len(bursts), "the clips are the bursts"
    for c in clips.values():
        assert any(c.clip_start <= b + 20 and c.clip_end >= b for b in bursts), "no noise clip"


def test_steady_busy_chat_gets_no_clip_after_warm_up(shipped: Config) -> None:
    warmup = shipped.triggers.adaptive.warmup_s
    clips = run(Detector("s", shipped), chat(300.0, 0.25, [], seed=3))
    assert [c for c in clips.values() if c.t > T0 + warmup] == []


def test_steady_quiet_chat_stays_well_under_the_target(shipped: Config) -> None:
    """Pure noise at 2 msg/s for two hours: only chance excursions past the stand-out floor
    (min_z) clip, well under the target; busy chat's noise never reaches min_ratio (above)."""
    clips = run(Detector("s", shipped), chat(2.0, 2.0, [], seed=5, users=60))
    assert len(clips) / 2.0 <= shipped.triggers.target_clips_per_hour / 2


def test_a_clip_follows_its_burst_to_the_peak(shipped: Config) -> None:
    """Chat builds for a minute; the clip keeps one key, moves to the peak and covers it."""
    d = Detector("s", shipped)
    rng = random.Random(1)
    lines, t = [], T0
    peak_at = T0 + 600 + 50
    while t < T0 + 800:
        ramp = 600 <= t - T0 < 660
        rate = 1 + (12 * (t - T0 - 600) / 60 if ramp else 0)
        t += rng.expovariate(rate)
        lines.append((t, f"u{rng.randrange(3000)}", "LOL" if ramp else "hi"))
    clips = run(d, iter(lines))
    assert len(clips) == 1, "one burst, one clip"
    (clip,) = clips.values()
    assert clip.revision > 0 and clip.details.get("peak_t") is not None
    assert abs(clip.t - peak_at) <= 12, "the moment moved to the peak"
    cfg = shipped.clips
    assert clip.clip_end == min(clip.t + cfg.after_s, clip.clip_start + cfg.max_length_s)
    assert clip.clip_end > clip.t, "the peak is inside the clip"


def test_stronger_bursts_rank_higher(shipped: Config) -> None:
    """Confidence is how rare the burst is for this channel: x8 outranks x3."""
    d = Detector("s", shipped)
    rng = random.Random(2)
    lines, t = [], T0
    while t < T0 + 3600:
        x = 8 if 1800 <= t - T0 < 1815 else 3 if 900 <= t - T0 < 915 else 1
        t += rng.expovariate(2.0 * x)
        lines.append((t, f"u{rng.randrange(3000)}", "hi"))
    clips = sorted(run(d, iter(lines)).values(), key=lambda m: m.t)
    strong = [c for c in clips if T0 + 1800 <= c.t < T0 + 1900]
    weak = [c for c in clips if T0 + 900 <= c.t < T0 + 1000]
    assert strong and weak
    assert strong[0].confidence > weak[0].confidence
    assert 0.5 <= weak[0].confidence < strong[0].confidence <= 0.99


def test_a_never_seen_channel_learns_then_a_saved_profile_starts_warm(shipped: Config) -> None:
    warmup = shipped.triggers.adaptive.warmup_s
    d = Detector("s", shipped)
    lines = list(chat(1.0, 0.5, [T0 + 60, T0 + 900], seed=11))
    clips = run(d, iter(lines))
    assert all(c.t > T0 + warmup for c in clips.values()), "nothing while the normal settles"
    assert any(abs(c.t - (T0 + 910)) < 30 for c in clips.values())
    snap = d.snapshot(lines[-1][0])
    assert snap.bars["chat_velocity"]["ready"] and snap.bars["chat_velocity"]["live_h"] > 0.4

    # A restart (or another guild, or the next stream): the profile comes back, no warm-up.
    later = Detector("s", shipped, state=d.to_state())
    assert later.snapshot(lines[-1][0]).bars == snap.bars
    t1 = lines[-1][0] + 3600
    again = run(later, _shift(t1, 1.0, 30))
    assert any(c.t < t1 + warmup for c in again.values()), "warm at once"


def _shift(start: float, rate: float, burst_after: float) -> Iterator[tuple[float, str, str]]:
    """Two minutes of chat from `start`, with a x4 laughing burst `burst_after` seconds in."""
    for t, user, text in chat(rate, 120 / 3600, [T0 + burst_after], seed=12, users=3000):
        yield t - T0 + start, user, text


def test_reviews_nudge_the_bars_and_reset_forgets(shipped: Config) -> None:
    d = Detector("s", shipped)
    run(d, chat(1.0, 0.3, [], seed=4))
    bar = d.velocity.burst.bar_value() if d.velocity.burst else 0
    for _ in range(20):
        d.learn(True, ["chat_velocity"])
    assert d.learning.target_factor() > 1.3
    looser = d.velocity.burst.bar_value() if d.velocity.burst else 0
    assert looser <= bar
    assert "20 reviews" in d.learning.explain() and "chat_velocity 20/20" in d.learning.explain()
    restored = Detector("s", shipped, state=d.to_state())
    assert restored.learning.approved == 20
    for _ in range(40):
        d.learn(False, ["emote_flood"])
    assert d.learning.target_factor() < 1.0
    assert d.learning.weight(["emote_flood"]) < 0 < d.learning.weight(["chat_velocity"])
    d.reset_learning()
    assert d.learning.reviews == 0 and d.learning.target_factor() == 1.0


def test_fixed_bars_remain_available(shipped: Config) -> None:
    """triggers.adaptive.enabled: false is the seed's detector: no learnt bars at all."""
    seed = dataclasses.replace(
        shipped,
        triggers=dataclasses.replace(
            shipped.triggers,
            adaptive=dataclasses.replace(shipped.triggers.adaptive, enabled=False),
        ),
    )
    d = Detector("s", seed)
    assert d.velocity.burst is None and d.snapshot(T0).bars == {}
    assert d.to_state()["profile"] == {}


def test_the_review_card_says_why_for_this_channel(shipped: Config) -> None:
    """'3.8x this channel's normal, 62 chatters, 41% reacting, about 1 in N live hours'."""
    from cogs.embeds import breakdown

    bursts = [T0 + 1500]
    clips = run(Detector("s", shipped), chat(2.0, 0.5, bursts, seed=9))
    (clip,) = [c for c in clips.values() if c.clip_start <= bursts[0] + 20 <= c.clip_end + 20]
    d = clip.details
    assert d["chatters"] > 10 and 0 < d["reacting"] <= d["chatters"]
    why = breakdown(d)
    assert "x this channel's normal" in why and f"{d['chatters']} chatters" in why
    assert "% reacting" in why and "live hour" in why


def test_time_jumps_cost_a_burst_never_a_crash(shipped: Config) -> None:
    """A plausible but far-off timestamp (decades ahead, then back) or an hour offline: the
    learnt history is kept or decays, nothing overflows, and the detector goes on deciding."""
    d = Detector("s", shipped)
    warm = list(chat(2.0, 0.2, [], seed=13, users=300))
    run(d, iter(warm))
    bars = d.snapshot(warm[-1][0]).bars
    for t in (warm[-1][0] + 3600, 9.9e9, 9.9e9 + 1, T0 + 10**6, T0 + 10**6 + 0.5):
        assert d.feed(d.message(t, "u1", "hi LOL")) == []
    assert d.bad_events == 0 and d.clock_resets == 1
    after = d.snapshot(T0 + 10**6).bars
    assert after.keys() == bars.keys() and all(b["normal"] >= 0 for b in after.values())
    clips = run(d, chat(2.0, 0.3, [T0 + 900], seed=14, users=300))  # clock back at T0 again
    assert isinstance(clips, dict)
