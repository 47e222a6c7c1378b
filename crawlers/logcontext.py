"""Structured harvest logs: every log line carries the source id and run id of the run it belongs to.

Entry points install `LogContextFilter` on their handlers and use `LOG_FORMAT`; code that works for a run
wraps it in `with log_context(source_id=..., run_id=...):` (context variables, so each thread keeps its own).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [source=%(source_id)s run=%(run_id)s]: %(message)s"
_NONE = "-"

_source_id: ContextVar[str] = ContextVar("edufed_log_source_id", default=_NONE)
_run_id: ContextVar[str] = ContextVar("edufed_log_run_id", default=_NONE)


class LogContextFilter(logging.Filter):
    """Adds `source_id` and `run_id` to every record (from the current context, `-` when outside a run)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "source_id"):
            record.source_id = _source_id.get()
        if not hasattr(record, "run_id"):
            record.run_id = _run_id.get()
        return True


@contextmanager
def log_context(*, source_id: str | None = None, run_id: str | None = None) -> Iterator[None]:
    """Tag the log lines written inside the block with a source and/or run id."""
    source_token = _source_id.set(source_id or _source_id.get())
    run_token = _run_id.set(run_id or _NONE)
    try:
        yield
    finally:
        _run_id.reset(run_token)
        _source_id.reset(source_token)


def install(handler: logging.Handler) -> None:
    """Give a handler the filter and the structured format."""
    handler.addFilter(LogContextFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
