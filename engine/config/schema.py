"""Typed configuration loaded from config.yaml.

Every default lives in config.yaml; these dataclasses mirror it so a typo in a key is a clear
error at start-up instead of a silently ignored setting. Secrets are never read from here: they
come from the environment (see bot.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
    retry_after_max_s: float = 300.0
    chat_rooms_per_socket: int = 100


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
    queue_deadline: float = 10.0


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
    high: tuple[str, ...] = (
        "CLIP IT", "CLIP THAT", "SOMEONE CLIP", "GET THAT CLIP", "CLIPPED", "CLIPEALO",
        "CLIPA ISSO", "클립", "切片", "剪辑", "切り抜き",
    )  # fmt: skip
    medium: tuple[str, ...] = (
        "NO SHOT", "INSANE", "HOLY SHIT", "WHAT THE FUCK", "NO WAY", "NO MAMES", "QUE LOCURA",
        "미쳤다", "대박", "卧槽", "牛逼", "やばい",
    )  # fmt: skip
    confidence_high: float = 0.65
    confidence_medium: float = 0.5


@dataclass(frozen=True)
class EmoteFloodConfig:
    enabled: bool = True
    window_s: float = 10.0
    min_count: int = 15
    plain_emotes: tuple[str, ...] = ("KEKW", "LUL", "LULW", "OMEGALUL", "PogChamp", "EZ")
    reactions: bool = True
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
class AdaptiveConfig:
    """Channel-relative bars (engine.triggers.burst): the default; off = the seed's fixed bars."""

    enabled: bool = True
    memory_h: float = 3.0
    baseline_half_life_s: float = 1200.0
    warmup_s: float = 120.0
    prior_h: float = 0.33
    prior_z: float = 3.25
    min_z: float = 3.25
    min_ratio: float = 1.5
    sustain_z: float = 1.75
    rearm_s: float = 10.0


@dataclass(frozen=True)
class TriggersConfig:
    target_clips_per_hour: float = 4.0
    adaptive: AdaptiveConfig = field(default_factory=AdaptiveConfig)
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
    chat_velocity: float = 30.0
    keyword: float = 90.0
    emote_flood: float = 90.0
    viewer_spike: float = 60.0
    combo: float = 30.0


@dataclass(frozen=True)
class LimitsConfig:
    cooldowns_s: CooldownsConfig = field(default_factory=CooldownsConfig)
    default_cooldown_s: float = 60.0
    clip_cooldown_s: float = 30.0
    daily_max_clips: int = 50
    timezone: str = "UTC"
    max_watches_per_guild: int = 25


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
class YouTubeConfig:
    api_base: str = "https://www.googleapis.com/youtube/v3"
    upload_base: str = "https://www.googleapis.com/upload/youtube/v3"
    token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
    device_code_url: str = "https://oauth2.googleapis.com/device/code"
    privacy: str = "private"
    category_id: str = "20"
    title_template: str = "{title}"
    description_template: str = (
        "{title}\n\nClipped live from {streamer} on Kick: {channel_url}\nMoment: {trigger}"
    )
    tags: tuple[str, ...] = ("kick", "clips", "{streamer}")
    variant: str = "vertical"
    chunk_mb: float = 8.0
    request_timeout_s: float = 60.0
    max_attempts: int = 5


@dataclass(frozen=True)
class PublishConfig:
    workers: int = 1
    render_nice: int = 10
    render_on_approval: bool = False
    auto_publish_min_score: float | None = None
    layout: str = "center"
    preset: str = "veryfast"
    crf: int = 21
    ffmpeg_timeout_s: float = 900.0
    burn_title: bool = False
    title_font: str = ""
    title_font_size: int = 64
    title_position: str = "top"
    progress_every_pct: float = 10.0
    progress_every_s: float = 5.0
    youtube: YouTubeConfig = field(default_factory=YouTubeConfig)


@dataclass(frozen=True)
class WebConfig:
    enabled: bool = True
    bind: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""


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
    publish: PublishConfig = field(default_factory=PublishConfig)
    web: WebConfig = field(default_factory=WebConfig)
