"""Shared fixtures. Nothing here reaches the network: every fake binds 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def config() -> Config:
    """The shipped config.yaml, so tests exercise the defaults users get."""
    return load_config(ROOT / "config.yaml")


# The live HLS fake and a once-per-session recording of it (real streamlink + ffmpeg).
from tests.fakes.media_fixtures import fake_hls, fake_media, recorded_stream  # noqa: E402, F401

# The real bot against the fake Discord (the `harness` fixture). Registered here, before any
# test module imports it, so pytest rewrites its asserts.
pytest_plugins = ("tests.bot_harness",)
