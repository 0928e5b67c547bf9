"""The thresholds an operator may change per streamer at run time (`/thresholds`).

One table says what each name means, where it lives in the config and its allowed range, so the
slash command, its autocomplete, the validation message and the Detector agree by construction.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.config import Config


class ThresholdError(ValueError):
    """A bad threshold name or value; the message is meant for the operator as is."""


@dataclass(frozen=True)
class Tunable:
    name: str
    path: tuple[str, ...]  # attribute path inside Config
    kind: type
    lo: float
    hi: float
    help: str


TUNABLES: dict[str, Tunable] = {
    t.name: t
    for t in (
        Tunable(
            "chat_velocity",
            ("triggers", "chat_velocity", "threshold"),
            float,
            1,
            2000,
            "static floor, messages/s",
        ),
        Tunable(
            "velocity_multiplier",
            ("triggers", "chat_velocity", "baseline_multiplier"),
            float,
            1.05,
            20,
            "x the channel's normal chat rate",
        ),
        Tunable(
            "keyword",
            ("triggers", "keyword", "min_count"),
            int,
            2,
            500,
            "distinct chatters saying a clip phrase within the window",
        ),
        Tunable(
            "emote_flood",
            ("triggers", "emote_flood", "min_count"),
            int,
            3,
            2000,
            "distinct chatters using one emote within the window",
        ),
        Tunable(
            "viewer_spike",
            ("triggers", "viewer_spike", "multiplier"),
            float,
            1.1,
            50,
            "x the last minute's viewers",
        ),
        Tunable(
            "excitement",
            ("triggers", "excitement", "solo_threshold"),
            float,
            0.1,
            1.0,
            "mean excitement score (0-1) to fire alone",
        ),
        Tunable(
            "target_clips_per_hour",
            ("triggers", "target_clips_per_hour"),
            float,
            0.25,
            60,
            "clips per live hour the adaptive bars aim at",
        ),
        Tunable("daily_max_clips", ("limits", "daily_max_clips"), int, 1, 1000, "clips per day"),
        Tunable(
            "clip_cooldown",
            ("limits", "clip_cooldown_s"),
            float,
            0,
            3600,
            "seconds between new single-trigger clips",
        ),
        Tunable("clip_before", ("clips", "before_s"), float, 0, 120, "seconds before the moment"),
        Tunable("clip_after", ("clips", "after_s"), float, 5, 120, "seconds after the moment"),
    )
}


def validate(name: str, value: float) -> float | int:
    """Check one override; returns the value in its proper type or raises ThresholdError."""
    tunable = TUNABLES.get(name)
    if tunable is None:
        raise ThresholdError(
            f"unknown threshold {name!r}; choose one of: {', '.join(sorted(TUNABLES))}"
        )
    if not isinstance(value, int | float) or not math.isfinite(value):
        # NaN passes every range check (all comparisons are False) and int() of it raises.
        raise ThresholdError(f"{name} must be a finite number, got {value!r}")
    if tunable.kind is int and float(value) != int(value):
        raise ThresholdError(f"{name} must be a whole number, got {value:g}")
    if not tunable.lo <= value <= tunable.hi:
        raise ThresholdError(
            f"{name} must be between {tunable.lo:g} and {tunable.hi:g} ({tunable.help}), "
            f"got {value:g}"
        )
    return int(value) if tunable.kind is int else float(value)


def current(config: Config, name: str) -> Any:
    obj: Any = config
    for attr in TUNABLES[name].path:
        obj = getattr(obj, attr)
    return obj


def _replace_path(obj: Any, path: tuple[str, ...], value: Any) -> Any:
    if len(path) == 1:
        return dataclasses.replace(obj, **{path[0]: value})
    child = getattr(obj, path[0])
    return dataclasses.replace(obj, **{path[0]: _replace_path(child, path[1:], value)})


def apply_overrides(config: Config, overrides: Mapping[str, float]) -> Config:
    """The config with validated overrides applied; the input is left untouched."""
    for name, value in overrides.items():
        config = _replace_path(config, TUNABLES[name].path, validate(name, value))
    return config
