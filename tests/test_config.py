"""Config: CLIPBOT__* environment overrides and paths under storage.data_dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.yaml"


def test_relative_paths_live_under_data_dir() -> None:
    cfg = load_config(CONFIG)
    assert cfg.storage.data_dir == "data"
    assert Path(cfg.storage.database) == Path("data/clipbot.sqlite3")
    assert Path(cfg.storage.segments_dir) == Path("data/segments")
    assert Path(cfg.storage.clips_dir) == Path("data/clips")
    assert Path(cfg.logging.file) == Path("data/logs/clipbot.log")
    assert Path(cfg.health.file) == Path("data/health.json")
    defaults = load_config(None)  # the dataclass defaults agree with config.yaml here
    assert (defaults.storage, defaults.logging, defaults.health) == (
        cfg.storage,
        cfg.logging,
        cfg.health,
    )


def test_one_variable_moves_everything_the_bot_writes() -> None:
    cfg = load_config(CONFIG, {"CLIPBOT__STORAGE__DATA_DIR": "/data"})
    assert cfg.storage.database == "/data/clipbot.sqlite3"
    assert cfg.storage.segments_dir == "/data/segments"
    assert cfg.logging.file == "/data/logs/clipbot.log"
    assert cfg.health.file == "/data/health.json"


def test_absolute_and_empty_paths_are_kept() -> None:
    env = {"CLIPBOT__STORAGE__CLIPS_DIR": "/mnt/clips", "CLIPBOT__LOGGING__FILE": "''"}
    cfg = load_config(CONFIG, env)
    assert cfg.storage.clips_dir == "/mnt/clips"
    assert cfg.logging.file == ""  # stderr only


def test_overrides_are_typed_like_the_file() -> None:
    env = {
        "CLIPBOT__LIMITS__DAILY_MAX_CLIPS": "20",
        "CLIPBOT__DISCORD__SYNC_GUILDS": "[123, 456]",
        "CLIPBOT__TRIGGERS__KEYWORD__MIN_COUNT": "6",
        "CLIPBOT__TRIGGERS__KEYWORD__ENABLED": "false",
        "CLIPBOT__KICK__CHATROOMS__XQC": "668",
        "CLIPBOT__LIMITS__TIMEZONE": "Europe/Berlin",
        "UNRELATED": "x",
        "CLIPBOT_CHECK_OFFLINE": "1",  # one underscore: not an override
    }
    cfg = load_config(CONFIG, env)
    assert cfg.limits.daily_max_clips == 20
    assert cfg.discord.sync_guilds == (123, 456)
    assert cfg.triggers.keyword.min_count == 6 and not cfg.triggers.keyword.enabled
    assert cfg.kick.chatrooms == {"xqc": 668}
    assert cfg.limits.timezone == "Europe/Berlin"
    assert cfg.triggers.keyword.high == load_config(CONFIG).triggers.keyword.high  # untouched


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CLIPBOT__STORAGE__DATADIR": "/x"}, "STORAGE__DATADIR: unknown key storage.datadir"),
        ({"CLIPBOT__NOPE": "1"}, "CLIPBOT__NOPE: unknown key nope"),
        ({"CLIPBOT__LIMITS__DAILY_MAX_CLIPS__X": "1"}, "limits.daily_max_clips has no sub-keys"),
        ({"CLIPBOT__LIMITS": "1"}, "limits: expected a mapping"),
        ({"CLIPBOT__LIMITS__DAILY_MAX_CLIPS": "lots"}, "limits.daily_max_clips: expected a whole"),
        ({"CLIPBOT____X": "1"}, "expected CLIPBOT__SECTION__KEY"),
        ({"CLIPBOT__LIMITS__TIMEZONE": "[unclosed"}, "not a valid value"),
    ],
)
def test_bad_overrides_name_the_variable_or_key(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_config(CONFIG, env)


@pytest.mark.parametrize(
    "zone", ["Nope/Zone", "utc", "", "../etc", "/etc/passwd", "Europe", "x" * 300]
)
def test_a_bad_timezone_is_a_config_error_naming_the_key(tmp_path: Path, zone: str) -> None:
    """Not a ZoneInfoNotFoundError traceback from the limiter at bot start or in a replay."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"limits:\n  timezone: '{zone}'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"limits\.timezone: .*time zone"):
        load_config(cfg)
    with pytest.raises(ConfigError, match=r"limits\.timezone"):
        load_config(CONFIG, {"CLIPBOT__LIMITS__TIMEZONE": zone or "''"})


def test_a_real_timezone_loads() -> None:
    assert load_config(CONFIG, {"CLIPBOT__LIMITS__TIMEZONE": "America/New_York"}).limits.timezone
