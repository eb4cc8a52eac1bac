"""Structured logs: one JSON object per line on stderr, secrets masked."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable

# LogRecord attributes that are not user-supplied ``extra`` fields.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class Redact(logging.Filter):
    """Replace each secret with *** wherever it appears in a record."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        msg = record.getMessage()
        masked = msg
        for s in self.secrets:
            masked = masked.replace(s, "***")
        if masked != msg:
            record.msg, record.args = masked, None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                for s in self.secrets:
                    value = value.replace(s, "***")
                setattr(record, key, value)
        return True


def setup(level: str = "info", fmt: str = "json", secrets: Iterable[str] = (), stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(Redact(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # pgserver narrates every pg_ctl call at INFO; its warnings still show.
    logging.getLogger("pgserver").setLevel(max(logging.WARNING, root.level))
