"""Job and entry ids on every log line a task writes, as plain text or one JSON object a line.

A task binds its ids once (`bind(job_id=...)`); a filter on the handlers copies them onto each
record, so lines from any module, Celery's own included, say which job they belong to.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

CONTEXT_KEYS = ("task_id", "job_id", "entry_id")
_ids: ContextVar[dict[str, object] | None] = ContextVar("footprints_log_ids", default=None)


def bind(**ids: object) -> None:
    """Add ids to every following log line of this task (or request)."""
    _ids.set({**(_ids.get() or {}), **ids})


def clear() -> None:
    """Forget the ids (the task ended)."""
    _ids.set(None)


def current() -> dict[str, object]:
    """The ids bound now."""
    return dict(_ids.get() or {})


class ContextFilter(logging.Filter):
    """Copy the bound ids onto each record (as attributes, and as `context` text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = _ids.get() or {}
        for key, value in ids.items():
            setattr(record, key, value)
        record.context = " ".join(f"{key}={ids[key]}" for key in CONTEXT_KEYS if key in ids)
        return True


class TextFormatter(logging.Formatter):
    """The usual text line, followed by the bound ids in brackets when there are any."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = getattr(record, "context", "")
        return f"{line} [{context}]" if context else line


TEXT_FORMAT = "[%(asctime)s: %(levelname)s/%(processName)s] %(name)s: %(message)s"


def configure_logging(log_format: str, level: int | str = logging.INFO) -> None:
    """Send every logger's records to stderr in `log_format` ("text" or "json")."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(processName)s %(message)s",
                rename_fields={"levelname": "level", "name": "logger", "asctime": "time"},
                # `context` is the text form of the ids, which JSON carries as fields.
                reserved_attrs=[*logging.LogRecord("", 0, "", 0, "", (), None).__dict__, "context"],
            )
        )
    else:
        handler.setFormatter(TextFormatter(TEXT_FORMAT))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
