"""Logging: stderr and a rotating file, secrets scrubbed from both however they arrive."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.config import LoggingConfig
from engine.core.logging_setup import configure_logging

TOKEN = "MTIzNDU2Nzg5.fake.discord-token"
SECRET = "kick-client-secret-abcdef"


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


def test_secrets_never_reach_stderr_or_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_root_logging: None
) -> None:
    log_file = tmp_path / "logs" / "bot.log"
    configure_logging(LoggingConfig(level="DEBUG", file=str(log_file)), [TOKEN, SECRET])
    log = logging.getLogger("tests.logging")
    log.info("plain message %s", "kept")
    log.debug("header Authorization: Bot %s", TOKEN)  # as an argument
    log.warning(f"oauth body client_secret={SECRET}")
    try:
        raise RuntimeError(f"request failed: https://x/?secret={SECRET}&t={TOKEN}")
    except RuntimeError:
        log.exception("while talking to Kick")  # in a traceback
    for handler in logging.getLogger().handlers:
        handler.flush()
    err = capsys.readouterr().err
    text = log_file.read_text(encoding="utf-8")
    for out in (err, text):
        assert "plain message kept" in out
        assert "client_secret=[redacted]" in out and "Bot [redacted]" in out
        assert "RuntimeError: request failed" in out
        assert TOKEN not in out and SECRET not in out


def test_the_file_rotates(tmp_path: Path, restore_root_logging: None) -> None:
    log_file = tmp_path / "bot.log"
    configure_logging(LoggingConfig(level="INFO", file=str(log_file), max_bytes=2000, backups=2))
    for i in range(200):
        logging.getLogger("tests.logging").info("line %03d %s", i, "x" * 40)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["bot.log", "bot.log.1", "bot.log.2"]
    assert all(p.stat().st_size <= 2000 for p in tmp_path.iterdir())


def test_an_unwritable_log_file_falls_back_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_root_logging: None
) -> None:
    (tmp_path / "logs").write_text("a file where the folder should be")
    configure_logging(LoggingConfig(file=str(tmp_path / "logs" / "bot.log")))
    logging.getLogger("tests.logging").warning("still heard")
    err = capsys.readouterr().err
    assert "cannot write the log file" in err and "still heard" in err
