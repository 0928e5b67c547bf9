"""Owner-only files: the bot's folders 0700, its files 0600.

The data folder holds the database (with Kick refresh tokens and every chat line of a clip),
logs and clips; another local user must not read them. bot.main() sets umask 077 before it
creates anything, so every file and folder the process (and ffmpeg/streamlink, which inherit
the umask) makes is owner-only; these helpers also tighten what an older version made with
wider modes, and keep the modes when the bot is embedded by a caller with another umask.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger("engine.core.private")

OWNER_ONLY_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def restrict_umask() -> int:
    """Make every file this process creates from now on owner-only; returns the old umask."""
    return os.umask(OWNER_ONLY_UMASK)


def _chmod(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except FileNotFoundError:
        return
    except OSError as exc:  # not ours (a volume owned by another user): say so, carry on
        log.warning("cannot make %s owner-only (%s); other local users may read it", path, exc)


def private_dir(path: str | Path) -> Path:
    """Create `path` (and missing parents) as 0700, or tighten it to 0700."""
    p = Path(path)
    p.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _chmod(p, DIR_MODE)
    return p


def private_file(path: str | Path) -> Path:
    """Create `path` empty as 0600 unless it exists; tighten it to 0600 either way."""
    p = Path(path)
    try:
        os.close(os.open(p, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    except OSError as exc:
        log.warning("cannot create %s owner-only (%s)", p, exc)
    _chmod(p, FILE_MODE)
    return p


def tighten(*paths: str | Path) -> None:
    """Tighten the files among `paths` that exist to 0600 (missing ones are skipped)."""
    for path in paths:
        _chmod(Path(path), FILE_MODE)
