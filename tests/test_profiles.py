"""What a detector learnt, persisted: per streamer on a real SQLite file, shared by every
guild's watch of that streamer, restored into a new Detector warm; and how /thresholds shows it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from cogs.embeds import learnt_text, thresholds_embed
from engine.config import Config
from engine.core.detector_states import DetectorStates
from engine.detection.detector import Detector
from storage.db import Database
from storage.profiles import ProfileRepo
from storage.watches import WatchRepo

T0 = 1_767_000_000.0


def learnt(config: Config, minutes: float = 20) -> Detector:
    d = Detector("alpha", config)
    rng = random.Random(3)
    t = T0
    while t < T0 + minutes * 60:
        t += rng.expovariate(2.0)
        d.feed(d.message(t, f"u{rng.randrange(500)}", "hi chat"))
    return d


@pytest.fixture
async def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = await Database.open(tmp_path / "bot.sqlite3")
    await database.migrate()
    yield database
    await database.close()


async def test_profile_is_shared_per_streamer_and_restored_warm(
    db: Database, shipped: Config
) -> None:
    watches, profiles = WatchRepo(db), ProfileRepo(db)
    states = DetectorStates(watches, profiles)
    await watches.add(1, "alpha", None)
    d = learnt(shipped)
    await states.save(1, "alpha", d)

    stored = await profiles.get("alpha")
    assert stored is not None and set(stored) == {"chat_velocity", "emote_flood", "keyword"}
    assert stored["chat_velocity"]["peaks"]["live_s"] > 1000

    # Another guild starts watching the same streamer: it starts from the shared profile.
    state = await states.with_profile("alpha", {})
    other = Detector("alpha", shipped, state=state)
    snap, now = other.snapshot(T0), d.snapshot(T0)
    assert snap.bars == now.bars and snap.bars["chat_velocity"]["ready"]
    # A watch with its own saved profile keeps it; an unknown streamer starts cold.
    assert await states.with_profile("alpha", {"profile": {"x": 1}}) == {"profile": {"x": 1}}
    assert await states.with_profile("nobody", {}) == {}


async def test_a_damaged_profile_row_costs_a_cold_start(db: Database, shipped: Config) -> None:
    await db.execute(
        "INSERT INTO channel_profiles (streamer, profile, updated_at) VALUES (?, ?, ?)",
        ("alpha", "{not json", "2026-01-01T00:00:00Z"),
    )
    assert await ProfileRepo(db).get("alpha") is None
    for junk in (
        {"baseline": {"mean": "x"}},
        {"baseline": {"mean": float("nan"), "seconds": 10**6}},
        {"baseline": {"mean": 1e400}},
        {"peaks": {"bins": [float("nan")] * 128, "live_s": "soon"}},
        {"peaks": {"bins": [1]}},
        {"peaks": {"bins": [1e308] * 128, "live_s": 1e308}},
        {"peaks": {"bins": [0.0] * 128, "live_s": -5}},
        {"baseline": [], "peaks": None},
    ):
        d = Detector("alpha", shipped, state={"profile": {"chat_velocity": junk}})
        bars = d.snapshot(T0).bars["chat_velocity"]
        assert not bars["ready"] and bars["live_h"] == 0, junk


def test_thresholds_show_the_learnt_bars_aim_and_reviews(shipped: Config) -> None:
    d = learnt(shipped)
    d.learn(True, ["chat_velocity"])
    snap = d.snapshot(T0 + 1200)
    text = learnt_text(snap)
    assert "chat velocity**: normal" in text and "msg/s" in text
    assert "Aim 4.4 clips per live hour" in text and "learnt from 0.3" in text
    assert "1 reviews (1 approved, 0 rejected)" in text
    embed = thresholds_embed("alpha", [], snap)
    assert embed.description and "fires above" in embed.description
