"""Shared fixtures. Nothing here reaches the network: every fake binds 127.0.0.1."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from engine.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent


def seed_bars(config: Config) -> Config:
    """The seed's fixed bars (triggers.adaptive off, emotes without folded reactions) with the
    seed's cooldowns (velocity 120 s,
    clip 60 s): what the tests of the fixed triggers, limiter and combos pin, and what end to end
    tests use to make a clip from a scripted burst without minutes of warm-up chat."""
    triggers = dataclasses.replace(
        config.triggers,
        adaptive=dataclasses.replace(config.triggers.adaptive, enabled=False),
        emote_flood=dataclasses.replace(config.triggers.emote_flood, reactions=False),
    )
    limits = dataclasses.replace(
        config.limits,
        cooldowns_s=dataclasses.replace(config.limits.cooldowns_s, chat_velocity=120.0),
        clip_cooldown_s=60.0,
    )
    return dataclasses.replace(config, triggers=triggers, limits=limits)


@pytest.fixture(scope="session")
def shipped() -> Config:
    """The shipped config.yaml as users get it: adaptive, channel-relative bars."""
    return load_config(ROOT / "config.yaml")


@pytest.fixture(scope="session")
def config(shipped: Config) -> Config:
    """The shipped config with the seed's fixed bars (seed_bars): most trigger tests script
    exact absolute numbers. Tests of the adaptive defaults take `shipped`."""
    return seed_bars(shipped)


# The live HLS fake and a once-per-session recording of it (real streamlink + ffmpeg).
from tests.fakes.media_fixtures import fake_hls, fake_media, recorded_stream  # noqa: E402, F401

# The real bot against the fake Discord (the `harness` fixture). Registered here, before any
# test module imports it, so pytest rewrites its asserts.
pytest_plugins = ("tests.bot_harness",)
