"""Typed configuration loaded from config.yaml.

Every default lives in config.yaml; these dataclasses mirror it so a typo in a key is a clear
error at start-up instead of a silently ignored setting. Secrets are never read from here: they
come from the environment (see bot.py).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the key."""


@dataclass(frozen=True)
class DiscordConfig:
    api_base: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg/"
    sync_guilds: tuple[int, ...] = ()
    default_upload_limit: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class KickConfig:
    api_base: str = "https://kick.com"
    official_api_base: str = "https://api.kick.com/public/v1"
    oauth_url: str = "https://id.kick.com/oauth/token"
    pusher_url: str = (
        "wss://ws-{cluster}.pusher.com/app/{key}?protocol=7&client=js&version=8.4.0&flash=false"
    )
    pusher_key: str = "32cbd69e4b950bf97679"
    pusher_cluster: str = "us2"
    stream_url: str = "https://kick.com/{slug}"
    poll_interval_s: float = 10.0
    request_timeout_s: float = 10.0
    backoff_initial_s: float = 2.0
    backoff_max_s: float = 300.0
    chat_activity_timeout_s: float = 120.0
    chat_pong_timeout_s: float = 30.0
    chat_pause_s: float = 5.0
    chat_refused_retry_s: float | None = 600.0
    http_max_attempts: int = 4
    http_max_retry_s: float = 60.0
    viewer_full_check_every: int = 6
    chatrooms: dict[str, int] = field(default_factory=dict)
    user_agent: str = "Mozilla/5.0"


@dataclass(frozen=True)
class RecordingConfig:
    segment_s: float = 10.0
    renditions: tuple[str, ...] = ("best", "480p")
    restart_backoff_initial_s: float = 2.0
    restart_backoff_max_s: float = 60.0
    stop_timeout_s: float = 5.0
    stream_timeout_s: float = 20.0
    live_edge: int = 3
    stall_timeout_s: float | None = None


@dataclass(frozen=True)
class ClipsConfig:
    before_s: float = 20.0
    after_s: float = 25.0
    max_length_s: float = 90.0
    thumbnail: bool = True
    preview_codec_fallback: str = "libx264"
    preview_preset: str = "veryfast"
    preview_max_height: int = 720
    preview_wait_s: float = 15.0
    wait_timeout_s: float = 120.0
    ffmpeg_timeout_s: float = 300.0


@dataclass(frozen=True)
class ChatVelocityConfig:
    enabled: bool = True
    window_s: float = 5.0
    threshold: float = 15.0
    baseline_multiplier: float = 1.5
    buffer: float = 2.0
    baseline_half_life_s: float = 300.0
    warmup_s: float = 30.0
    per_user_cap: int = 3
    copypasta_min_len: int = 40
    copypasta_cap: int = 3
    confidence: float = 0.5


@dataclass(frozen=True)
class KeywordConfig:
    enabled: bool = True
    window_s: float = 10.0
    min_count: int = 8
    high: tuple[str, ...] = ("CLIP IT", "CLIP THAT", "SOMEONE CLIP", "GET THAT CLIP")
    medium: tuple[str, ...] = ("NO SHOT", "INSANE", "HOLY SHIT", "WHAT THE FUCK")
    confidence_high: float = 0.65
    confidence_medium: float = 0.5


@dataclass(frozen=True)
class EmoteFloodConfig:
    enabled: bool = True
    window_s: float = 10.0
    min_count: int = 15
    plain_emotes: tuple[str, ...] = ("KEKW", "LUL", "LULW", "OMEGALUL", "PogChamp", "EZ")
    confidence: float = 0.55


@dataclass(frozen=True)
class ViewerSpikeConfig:
    enabled: bool = True
    window_s: float = 60.0
    multiplier: float = 3.0
    min_samples: int = 3
    min_baseline: int = 10
    confidence: float = 0.6


@dataclass(frozen=True)
class ExcitementConfig:
    enabled: bool = True
    window_s: float = 10.0
    min_messages: int = 20
    solo_threshold: float = 0.8
    boost: float = 0.1
    confidence: float = 0.45


@dataclass(frozen=True)
class CombosConfig:
    chat_combo: float = 0.7
    hype_moment: float = 0.8
    clip_worthy: float = 0.85
    super_combo: float = 0.95


@dataclass(frozen=True)
class TriggersConfig:
    combo_window_s: float = 10.0
    ignore_users: tuple[str, ...] = ("botrix", "kickbot")
    ignore_commands: bool = True
    chat_velocity: ChatVelocityConfig = field(default_factory=ChatVelocityConfig)
    keyword: KeywordConfig = field(default_factory=KeywordConfig)
    emote_flood: EmoteFloodConfig = field(default_factory=EmoteFloodConfig)
    viewer_spike: ViewerSpikeConfig = field(default_factory=ViewerSpikeConfig)
    excitement: ExcitementConfig = field(default_factory=ExcitementConfig)
    combos: CombosConfig = field(default_factory=CombosConfig)


@dataclass(frozen=True)
class CooldownsConfig:
    chat_velocity: float = 120.0
    keyword: float = 90.0
    emote_flood: float = 90.0
    viewer_spike: float = 60.0
    combo: float = 30.0


@dataclass(frozen=True)
class LimitsConfig:
    cooldowns_s: CooldownsConfig = field(default_factory=CooldownsConfig)
    default_cooldown_s: float = 60.0
    clip_cooldown_s: float = 60.0
    daily_max_clips: int = 50
    timezone: str = "UTC"


@dataclass(frozen=True)
class StorageConfig:
    data_dir: str = "data"
    database: str = "clipbot.sqlite3"
    segments_dir: str = "segments"
    clips_dir: str = "clips"


@dataclass(frozen=True)
class SchedulerConfig:
    segment_retention_margin_s: float = 120.0
    rejected_grace_h: float = 24.0
    disk_min_free_mb: float = 2048.0


@dataclass(frozen=True)
class LoggingConfig:
    level: str = "INFO"
    file: str = "logs/clipbot.log"
    max_bytes: int = 5 * 1024 * 1024
    backups: int = 5


@dataclass(frozen=True)
class HealthConfig:
    file: str = "health.json"
    interval_s: float = 15.0
    max_age_s: float = 60.0


@dataclass(frozen=True)
class Config:
    discord: DiscordConfig = field(default_factory=DiscordConfig)
    kick: KickConfig = field(default_factory=KickConfig)
    recording: RecordingConfig = field(default_factory=RecordingConfig)
    clips: ClipsConfig = field(default_factory=ClipsConfig)
    triggers: TriggersConfig = field(default_factory=TriggersConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    health: HealthConfig = field(default_factory=HealthConfig)


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
SHIPPED_CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"


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
    return resolve_paths(config)


def _check_timezone(zone: str, where: str) -> None:
    """The daily limit's day and the midnight summary need a real IANA zone: refuse a typo here,
    naming the key, instead of a ZoneInfoNotFoundError traceback from the limiter at start."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ConfigError(
            f"{where}: unknown time zone {zone!r} (an IANA name such as UTC or Europe/Berlin)"
        ) from exc
