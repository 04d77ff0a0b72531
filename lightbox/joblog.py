"""Who a log line is about: the job, version, batch and worker on every line a job logs.

A worker sets the context when it starts a job (processing.worker) and adds the version
and batch once it knows them; `JobContextFilter`, installed on the console handler by
settings.LOGGING, copies it onto every record, whichever library logged it. Outside a job
the fields are empty. `JsonFormatter` writes one JSON object a line
(`LIGHTBOX_LOG_FORMAT=json`) for a log collector; the plain format appends the fields.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

CONTEXT_FIELDS = ("job", "job_id", "version_id", "batch_id", "worker")

_context: ContextVar[dict[str, str]] = ContextVar("lightbox_job_context", default={})  # noqa: B039 (never mutated)


@contextmanager
def job_context(**fields: Any) -> Iterator[None]:
    """Log lines inside the block carry `fields` (and any set around the block)."""
    token = _context.set({**_context.get(), **{k: str(v) for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


def add_to_job_context(**fields: Any) -> None:
    """Add fields for the rest of the current job (its `job_context` block resets them).
    Outside a job (a job function called directly) it does nothing: nothing would reset them."""
    if _context.get():
        _context.set({**_context.get(), **{k: str(v) for k, v in fields.items() if v}})


def current_job_context() -> dict[str, str]:
    return dict(_context.get())


class JobContextFilter(logging.Filter):
    """Puts the job context on the record: `record.job_context` (a dict) and one attribute
    per field, so a format string may name them."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        record.job_context = context
        for name in CONTEXT_FIELDS:
            setattr(record, name, context.get(name, ""))
        return True


class PlainFormatter(logging.Formatter):
    """The usual line, with ` [version_id=… batch_id=… worker=…]` when inside a job."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context: dict[str, str] = getattr(record, "job_context", {})
        if not context:
            return line
        fields = " ".join(f"{name}={context[name]}" for name in CONTEXT_FIELDS if name in context)
        first, newline, rest = line.partition("\n")  # a traceback stays below the fields
        return f"{first} [{fields}]{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the job context, any exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "job_context", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
