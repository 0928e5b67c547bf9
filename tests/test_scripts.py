"""The newcomer path: `scripts/run --check` and `scripts/test`, run as the README gives them.

Both scripts share `.venv`; this runs them in this checkout against the `.venv` that is already
installed (never a new one: that would cost minutes and the network). When the install marker for
this pyproject.toml is missing the scripts would install, so the test is skipped: run
`scripts/test` once first.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from tests.bot_process import bot_env

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "fake-token-123456"  # a stand-in: --check never contacts Discord, and never prints it
INSTALLING = "installing the project into .venv"


def markers() -> list[Path]:
    return sorted((ROOT / ".venv").glob(".installed-*"))


@pytest.fixture
def installed() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    if not any(p.name.startswith(f".installed-{digest}") for p in markers()):
        pytest.skip(".venv is not installed for this pyproject.toml: run scripts/test once")
    return digest


def run(args: list[str], tmp_path: Path, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    env = bot_env(
        DISCORD_TOKEN=token,
        CLIPBOT_CHECK_OFFLINE="1",  # Kick is never reachable here
        CLIPBOT__DISCORD__API_BASE="http://127.0.0.1:9/api/v10",  # nor is Discord
        CLIPBOT__STORAGE__DATA_DIR=str(tmp_path / "data"),
        PIP_NO_INDEX="1",  # an install attempt fails at once instead of reaching for the net
    )
    return subprocess.run(
        args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_run_check_then_test_share_one_venv_without_reinstalling(
    installed: str, tmp_path: Path
) -> None:
    before = markers()
    checked = run([str(ROOT / "scripts" / "run"), "--check"], tmp_path)
    assert "Traceback" not in checked.stderr, checked.stderr
    assert INSTALLING not in checked.stderr, checked.stderr
    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = checked.stdout.splitlines()
    assert lines[-1] == "all checks OK", lines
    assert any(x.startswith("OK    discord token:") for x in lines), lines
    assert TOKEN not in checked.stdout + checked.stderr
    assert (tmp_path / "data" / "clips").is_dir()  # --check reached bot.py, not pip
    unset = run([str(ROOT / "scripts" / "run"), "--check"], tmp_path, token="")
    assert unset.returncode == 1, unset.stdout + unset.stderr
    assert "FAIL  discord token: not set" in unset.stdout, unset.stdout
    tested = run(
        [str(ROOT / "scripts" / "test"), "--co", "-q", str(ROOT / "tests" / "test_project.py")],
        tmp_path,
    )
    assert INSTALLING not in tested.stderr, tested.stderr
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "tests collected" in tested.stdout, tested.stdout
    after = markers()
    assert set(before) <= set(after), "one script deleted the other's install marker"
    assert all(p.name.startswith(f".installed-{installed}") for p in after), after
