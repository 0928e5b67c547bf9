"""Owner-only files (issue 11, item 10): the data folder, the database (with its -wal/-shm),
the logs and the clips hold tokens, chat and video, so no other local user may read them,
whatever umask the operator's shell or service manager starts the bot with.

Checked on real files: a real `bot.py` process under umask 022, and the pieces in-process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from engine.config import LoggingConfig
from engine.core.logging_setup import configure_logging
from storage.db import Database
from tests.bot_process import bot_env, wait_for_log

ROOT = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


async def test_the_bot_process_creates_owner_only_files(tmp_path: Path) -> None:
    """`bot.py` started from a shell with umask 022 (the usual default), Discord unreachable,
    on a data folder an older version made 0755: by the time it says Discord is unreachable,
    the data folder, database, WAL files, log and clip folders are owner-only."""
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)
    env = bot_env(
        DISCORD_TOKEN="x",
        CLIPBOT__STORAGE__DATA_DIR=str(data),
        CLIPBOT__DISCORD__API_BASE="http://127.0.0.1:9/api/v10",
    )
    with umask(0o022):
        proc = subprocess.Popen(  # noqa: ASYNC220 -- a real process, stopped below
            [sys.executable, str(ROOT / "bot.py")],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    try:
        log_file = data / "logs" / "clipbot.log"
        await wait_for_log(log_file, "cannot reach Discord", within_s=30)
        db = data / "clipbot.sqlite3"
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), log_file]
        assert {str(p.relative_to(data)): oct(mode(p)) for p in files} == {
            str(p.relative_to(data)): oct(0o600) for p in files
        }
        for folder in (data, data / "logs", data / "clips", data / "segments"):
            assert oct(mode(folder)) == oct(0o700), folder
    finally:
        proc.send_signal(signal.SIGTERM)
        for _ in range(200):  # bounded: up to 10 s
            if proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
        else:
            proc.kill()
        proc.wait()


async def test_an_existing_install_is_tightened(tmp_path: Path) -> None:
    """A database made by an older version (0644) is made owner-only, with its WAL files, when
    it is opened; a new one (and its new folder) never exists with wider modes."""
    data = tmp_path / "data"
    with umask(0o022):
        data.mkdir(mode=0o755)
        old = await Database.open(data / "bot.sqlite3")
        await old.close()
        os.chmod(data / "bot.sqlite3", 0o644)
        fresh = await Database.open(tmp_path / "new" / "bot.sqlite3")
        await fresh.close()
        db = await Database.open(data / "bot.sqlite3")
        try:
            await db.execute("CREATE TABLE t (x)")
            assert mode(data / "bot.sqlite3") == 0o600
            assert mode(data / "bot.sqlite3-wal") == 0o600
            assert mode(data / "bot.sqlite3-shm") == 0o600
        finally:
            await db.close()
    assert mode(tmp_path / "new") == 0o700 and mode(tmp_path / "new" / "bot.sqlite3") == 0o600


@pytest.mark.usefixtures("restore_logging")
def test_log_files_are_owner_only_also_after_rotation(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "bot.log"
    with umask(0o022):
        configure_logging(LoggingConfig(file=str(path), max_bytes=200, backups=2))
        for i in range(20):  # past max_bytes: rotated at least once
            logging.getLogger("tests.modes").warning("line %d of a chatty log", i)
    rotated = sorted(path.parent.iterdir())
    assert len(rotated) >= 2
    assert {p.name: mode(p) for p in rotated} == {p.name: 0o600 for p in rotated}
    assert mode(path.parent) == 0o700


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
