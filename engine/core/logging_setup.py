"""Logging: readable lines to stderr and a rotating file, with secrets scrubbed everywhere.

The scrubbing is a filter on every handler, not a convention at call sites: a token that ends up
in an exception message from a library (a URL, a header dump) is still replaced by "[redacted]".
"""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Iterable
from pathlib import Path

from engine.config import LoggingConfig
from engine.core.private import DIR_MODE, private_file

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    """Replaces each secret in the fully formatted message, arguments and traceback included."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        text = record.exc_text or ""
        for secret in self.secrets:
            message = message.replace(secret, "[redacted]")
            text = text.replace(secret, "[redacted]")
        record.msg, record.args = message, None
        if record.exc_text:
            record.exc_text = text
        return True


class OwnerOnlyRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Each log file (the first and every one a rotation starts) is 0600 whatever the umask:
    logs carry user names, chat lines and guild ids."""

    def _open(self):  # type: ignore[no-untyped-def]
        private_file(self.baseFilename)
        return super()._open()


def configure_logging(cfg: LoggingConfig, secrets: Iterable[str] = ()) -> None:
    """Root logging for the bot process; safe to call twice (handlers are replaced)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    redact = RedactSecrets(secrets)
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if cfg.file:
        path = Path(cfg.file)
        try:
            path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            handlers.append(
                OwnerOnlyRotatingFileHandler(
                    path, maxBytes=cfg.max_bytes, backupCount=cfg.backups, encoding="utf-8"
                )
            )
        except OSError as exc:
            logging.getLogger("bot").warning("cannot write the log file %s: %s", path, exc)
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(redact)
        root.addHandler(handler)
    root.setLevel(cfg.level.upper())
    # discord.py's gateway chatter at INFO is noise for operators.
    logging.getLogger("discord").setLevel(max(root.level, logging.WARNING))
