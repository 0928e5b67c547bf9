"""`bot.py --youtube-auth` (Google's device flow against FakeYouTube), the refresh token kept
owner-only in the database, and the publishing lines of `--check` and the config check."""

from __future__ import annotations

import asyncio
import dataclasses
import stat
from pathlib import Path

import pytest
import yaml

import bot
from engine.config import Config, ConfigError
from publishing.wiring import check_config, font_check, youtube_auth
from storage.db import Database
from storage.publish import PublishRepo
from tests.fakes.youtube_api import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, FakeYouTube

ENV = {"YOUTUBE_CLIENT_ID": CLIENT_ID, "YOUTUBE_CLIENT_SECRET": CLIENT_SECRET}


async def test_device_flow_stores_the_refresh_token_owner_only(
    tmp_path: Path, config: Config
) -> None:
    said: list[str] = []
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)
        await asyncio.sleep(0)

    async with FakeYouTube() as fake:
        fake.scripts.pending_polls = 2
        yt = dataclasses.replace(config.publish.youtube, **fake.config_overrides())
        cfg = dataclasses.replace(config, publish=dataclasses.replace(config.publish, youtube=yt))
        db = await Database.open(tmp_path / "bot.sqlite3")
        try:
            code = await youtube_auth(cfg, PublishRepo(db), ENV, said.append, sleep=sleep)
            assert code == 0
            assert await PublishRepo(db).refresh_token("youtube") == REFRESH_TOKEN
        finally:
            await db.close()
    assert said[0] == (
        "Open https://www.google.com/device and enter the code ABCD-EFGH (signed in as the "
        "channel owner)."
    )
    assert "'Fake Clips Channel'" in said[-1]
    assert waits == [5.0, 5.0, 5.0]  # Google's interval, two pending polls, then the grant
    assert stat.S_IMODE((tmp_path / "bot.sqlite3").stat().st_mode) == 0o600
    text = "\n".join(said)
    assert CLIENT_SECRET not in text and REFRESH_TOKEN not in text


def test_youtube_auth_needs_the_client_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("YOUTUBE_CLIENT_ID", raising=False)
    monkeypatch.delenv("YOUTUBE_CLIENT_SECRET", raising=False)
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text(yaml.safe_dump({"storage": {"data_dir": str(tmp_path / "data")}}))
    assert bot.main(["--config", str(cfg_file), "--youtube-auth"]) == 2
    assert "YOUTUBE_CLIENT_ID and YOUTUBE_CLIENT_SECRET must be set" in capsys.readouterr().out


def test_check_reports_the_font_and_refuses_bad_publish_values(config: Config) -> None:
    line = font_check(config).line()
    assert line.startswith("OK    title font: ") and line.endswith("DejaVuSans-Bold.ttf")
    missing = dataclasses.replace(
        config, publish=dataclasses.replace(config.publish, title_font="/no/such.ttf")
    )
    assert font_check(missing).line().startswith("WARN  title font: publish.title_font")
    burn = dataclasses.replace(
        missing, publish=dataclasses.replace(missing.publish, burn_title=True)
    )
    assert font_check(burn).line().startswith("FAIL  title font:")
    bad = dataclasses.replace(
        config,
        publish=dataclasses.replace(
            config.publish, youtube=dataclasses.replace(config.publish.youtube, privacy="secret")
        ),
    )
    with pytest.raises(ConfigError, match=r"publish\.youtube\.privacy: 'secret' is not one of"):
        check_config(bad)
    check_config(config)  # the shipped defaults pass
