"""The key that signs dashboard sessions: from CLIPBOT_WEB_SECRET, else generated once and kept
in the data folder, readable by the bot's user only (so sessions survive a restart)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

ENV = "CLIPBOT_WEB_SECRET"
FILE_NAME = "web_session.key"


def session_secret(data_dir: str | Path, environ: Mapping[str, str]) -> str:
    from_env = environ.get(ENV, "").strip()
    if from_env:
        if len(from_env) < 32:
            raise ValueError(f"{ENV} must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return from_env
    path = Path(data_dir) / FILE_NAME
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        text = ""
    if len(text) >= 32:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # tighten a copy restored with looser rights
        return text
    path.parent.mkdir(parents=True, exist_ok=True)
    text = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    return text
