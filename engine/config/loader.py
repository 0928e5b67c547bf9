"""Loading config.yaml (plus environment overrides) into the typed Config of engine.config.schema.

Split from the schema so adding a setting touches only the dataclasses; this module owns the
coercion of YAML values to the declared types, the merge of an operator's file over the shipped
defaults, and the errors that name the bad key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from engine.config.schema import Config, ConfigError

T = TypeVar("T")


def _convert(value: Any, hint: Any, where: str) -> Any:
    """Coerce one YAML value to its declared type, or say exactly which key is wrong."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
        return build(typing.cast(type, hint), value, where)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {type(value).__name__}")
        (item_hint, _ellipsis) = typing.get_args(hint)
        return tuple(_convert(v, item_hint, f"{where}[{i}]") for i, v in enumerate(value))
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            if len(args) == len(typing.get_args(hint)):
                raise ConfigError(f"{where}: a value is required")
            return None
        return _convert(value, args[0], where)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
        key_hint, value_hint = typing.get_args(hint)
        return {
            _convert(k, key_hint, f"{where}"): _convert(v, value_hint, f"{where}.{k}")
            for k, v in value.items()
        }
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        return value
    return value


def build(cls: type[T], data: dict[str, Any], where: str = "") -> T:
    """Build a config dataclass from a mapping; unknown keys are errors, missing ones defaults."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"unknown key {where + '.' if where else ''}{unknown[0]}")
    kwargs = {
        key: _convert(value, hints[key], f"{where + '.' if where else ''}{key}")
        for key, value in data.items()
    }
    return cls(**kwargs)


ENV_PREFIX = "CLIPBOT__"
SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"


def default_config_path(environ: Mapping[str, str]) -> Path:
    """`$CLIPBOT_CONFIG` when set, else the config.yaml shipped beside bot.py."""
    return Path(environ.get("CLIPBOT_CONFIG") or SHIPPED_CONFIG)



def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """`CLIPBOT__SECTION__KEY=value` variables as a nested mapping, values read as YAML.

    Containers configure through the environment; YAML values keep types without a second
    syntax: `CLIPBOT__LIMITS__DAILY_MAX_CLIPS=20`, `CLIPBOT__DISCORD__SYNC_GUILDS=[123]`.
    """
    out: dict[str, Any] = {}
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        if not all(parts):
            raise ConfigError(f"{name}: expected CLIPBOT__SECTION__KEY")
        _check_path(Config, parts, name)
        try:
            value = yaml.safe_load(environ[name])
        except yaml.YAMLError as exc:
            raise ConfigError(f"{name}: not a valid value: {exc}") from exc
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _check_path(cls: Any, parts: list[str], name: str) -> None:
    """An override must name a real key: a typo in a variable is as loud as one in the file."""
    for i, part in enumerate(parts):
        where = ".".join(parts[: i + 1])
        if not dataclasses.is_dataclass(cls):
            if typing.get_origin(cls) is dict:
                return  # a free-form mapping such as kick.chatrooms
            raise ConfigError(f"{name}: {'.'.join(parts[:i])} has no sub-keys")
        if part not in {f.name for f in dataclasses.fields(cls)}:
            raise ConfigError(f"{name}: unknown key {where}")
        cls = typing.get_type_hints(cls)[part]


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def resolve_paths(config: Config) -> Config:
    """Relative storage, log and health paths live under storage.data_dir.

    One key (or one volume) then moves everything the bot writes: the image sets only
    `CLIPBOT__STORAGE__DATA_DIR=/data`.
    """
    root = Path(config.storage.data_dir)

    def under(path: str) -> str:
        return path if not path or Path(path).is_absolute() else str(root / path)

    st = config.storage
    return dataclasses.replace(
        config,
        storage=dataclasses.replace(
            st,
            database=under(st.database),
            segments_dir=under(st.segments_dir),
            clips_dir=under(st.clips_dir),
        ),
        logging=dataclasses.replace(config.logging, file=under(config.logging.file)),
        health=dataclasses.replace(config.health, file=under(config.health.file)),
    )


def load_config(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Load config.yaml (or defaults when path is None), then `CLIPBOT__*` overrides from
    environ (the bot passes os.environ; tests pass nothing), with paths resolved."""
    raw: Any = {}
    if path is not None:
        p = Path(path)
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {p}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {p} is not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"config file {p} must hold a mapping at the top level")
    if environ is not None:
        raw = _merge(raw, env_overrides(environ))
    config = build(Config, raw)
    _check_timezone(config.limits.timezone, "limits.timezone")
    _check_web(config)
    return resolve_paths(config)


def _check_web(config: Config) -> None:
    """The dashboard's port and public URL: a typo is a clear error, not a dead link later."""
    web = config.web
    if not 0 <= web.port <= 65535:
        raise ConfigError(f"web.port: {web.port} is not a port (0-65535; 0 = any free one)")
    url = web.public_url
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ConfigError(
                f"web.public_url: {url!r} must be an http(s) address such as "
                "https://clips.example.org (or empty)"
            )


def _check_timezone(zone: str, where: str) -> None:
    """The daily limit's day and the midnight summary need a real IANA zone: refuse a typo here,
    naming the key, instead of a ZoneInfoNotFoundError traceback from the limiter at start."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ConfigError(
            f"{where}: unknown time zone {zone!r} (an IANA name such as UTC or Europe/Berlin)"
        ) from exc
