"""Typed configuration: the dataclasses (``schema``) and loading config.yaml into them (``loader``).

A foundation every engine package may import. Re-exported here so callers say
``from engine.config import Config, load_config`` whatever module a name lives in.
"""

from engine.config.loader import (
    SHIPPED_CONFIG,
    build,
    default_config_path,
    env_overrides,
    load_config,
    resolve_paths,
)
from engine.config.schema import (
    AdaptiveConfig,
    ChatVelocityConfig,
    ClipsConfig,
    CombosConfig,
    Config,
    ConfigError,
    CooldownsConfig,
    DiscordConfig,
    EmoteFloodConfig,
    ExcitementConfig,
    HealthConfig,
    KeywordConfig,
    KickConfig,
    LimitsConfig,
    LoggingConfig,
    RecordingConfig,
    SchedulerConfig,
    StorageConfig,
    TriggersConfig,
    ViewerSpikeConfig,
    WebConfig,
)

__all__ = [
    "SHIPPED_CONFIG",
    "AdaptiveConfig",
    "ChatVelocityConfig",
    "ClipsConfig",
    "CombosConfig",
    "Config",
    "ConfigError",
    "CooldownsConfig",
    "DiscordConfig",
    "EmoteFloodConfig",
    "ExcitementConfig",
    "HealthConfig",
    "KeywordConfig",
    "KickConfig",
    "LimitsConfig",
    "LoggingConfig",
    "RecordingConfig",
    "SchedulerConfig",
    "StorageConfig",
    "TriggersConfig",
    "ViewerSpikeConfig",
    "WebConfig",
    "build",
    "default_config_path",
    "env_overrides",
    "load_config",
    "resolve_paths",
]
