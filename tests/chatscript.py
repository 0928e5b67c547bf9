"""Scripted chat for Detector tests: warm-ups, bursts and viewer series with exact timing."""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.config import Config
from engine.detection.detector import Detector
from engine.events import Moment, ViewerSample

T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC


def with_config(config: Config, **sections: dict[str, Any]) -> Config:
    """config with fields replaced, e.g. with_config(c, limits={"daily_max_clips": 2}).

    Nested sections use dotted keys: triggers={"keyword.min_count": 3}.
    """
    for section, changes in sections.items():
        obj = getattr(config, section)
        for dotted, value in changes.items():
            obj = _replace(obj, dotted.split("."), value)
        config = dataclasses.replace(config, **{section: obj})
    return config


def _replace(obj: Any, path: list[str], value: Any) -> Any:
    if len(path) == 1:
        return dataclasses.replace(obj, **{path[0]: value})
    child = getattr(obj, path[0])
    return dataclasses.replace(obj, **{path[0]: _replace(child, path[1:], value)})


class Script:
    """Feeds a Detector and collects what it decides."""

    def __init__(self, detector: Detector) -> None:
        self.d = detector
        self.moments: list[Moment] = []

    def say(self, t: float, user: str, text: str) -> list[Moment]:
        out = self.d.feed(self.d.message(t, user, text))
        self.moments.extend(out)
        return out

    def warm(self, start: float, seconds: float, rate: float = 2.0, text: str = "hi chat") -> float:
        """Steady chat from distinct rotating users; returns the time after the last message."""
        n = int(seconds * rate)
        for i in range(n):
            self.say(start + i / rate, f"warm{i % 500}", text)
        return start + seconds

    def burst(
        self,
        start: float,
        n: int,
        text: str = "hello",
        span: float = 0.9,
        prefix: str = "b",
    ) -> list[Moment]:
        """n messages from n distinct users, evenly inside [start, start + span)."""
        out: list[Moment] = []
        for i in range(n):
            out += self.say(start + span * i / max(n, 1), f"{prefix}{i}", text)
        return out

    def viewers(self, t: float, n: int) -> list[Moment]:
        out = self.d.feed(ViewerSample(t, n))
        self.moments.extend(out)
        return out
