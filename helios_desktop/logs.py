"""Structured logs: JSON lines to a file in the per-user state folder (and stderr on request)."""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import time
from pathlib import Path

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"ts": round(record.created, 3),
                "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
                "level": record.levelname.lower(), "logger": record.name,
                "message": record.getMessage()}
        data.update({k: v for k, v in vars(record).items() if k not in _RESERVED})
        if record.exc_info:
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


def setup_logging(log_dir: Path | None, verbose: bool) -> Path | None:
    """INFO and up to ``log_dir/helios.log`` as JSON lines; stderr shows warnings (all with -v)."""
    root = logging.getLogger("helios")
    root.setLevel(logging.INFO)
    root.propagate = False
    for handler in list(root.handlers):
        root.removeHandler(handler)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(logging.INFO if verbose else logging.WARNING)
    stderr.setFormatter(logging.Formatter("helios: %(message)s"))
    # a record logged with extra={"told": True} reaches the user another way (the
    # command's own error line): the log file keeps it, stderr does not repeat it
    stderr.addFilter(lambda record: not getattr(record, "told", False))
    root.addHandler(stderr)
    path = None
    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            path = log_dir / "helios.log"
            handler = logging.handlers.RotatingFileHandler(path, maxBytes=10_000_000, backupCount=3,
                                                           encoding="utf-8")
            handler.setFormatter(JsonFormatter())
            root.addHandler(handler)
        except OSError as exc:
            root.warning("cannot write the log file in %s: %s", log_dir, exc)
            path = None
    return path
