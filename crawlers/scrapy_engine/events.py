"""The line protocol between the crawl child and its parent: one JSON object per line on stdout.

Event types: `record` (a RawRecord), `problem` (an item that could not become one), `warning`, `listed` (the
record ids of a page not fetched again because it is unchanged, and its URL), `request` (one entry of the request
log), `error` (the crawl failed: the HarvestError's data), `done` (stats, and the cursor, scope and notes of the
incremental contract; the cursor is null unless the crawl finished whole).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from crawlers.errors import (
    FetchError,
    HarvestError,
    ParseError,
    ResponseTooLargeError,
    RobotsDisallowedError,
    SourceConfigError,
    UrlRefusedError,
)

Event = dict[str, Any]
EVENT_TYPES = frozenset({"record", "problem", "warning", "listed", "request", "error", "done"})


def encode(event: Event) -> str:
    """One event as a JSON line (non-JSON values become strings)."""
    return json.dumps(event, ensure_ascii=False, default=str, separators=(",", ":")) + "\n"


def decode(line: str) -> Event:
    """The event on one line; ValueError says why a line is not an event."""
    data = json.loads(line)
    if not isinstance(data, dict) or data.get("type") not in EVENT_TYPES:
        raise ValueError("not an object with a known `type`")
    return data


def error_event(exc: HarvestError) -> Event:
    """The data of a harvest error, so the parent can raise the same error."""
    event: Event = {"type": "error", "error": type(exc).__name__, "message": str(exc)}
    for name in ("url", "status", "cause", "robots_url", "limit", "reason", "source_id"):
        if hasattr(exc, name):
            event[name] = getattr(exc, name)
    return event


def _fetch(e: Event) -> HarvestError:
    return FetchError(e["url"], status=e.get("status"), cause=e.get("cause"), message=e.get("message"))


_REBUILD: dict[str, Callable[[Event], HarvestError]] = {
    "FetchError": _fetch,
    "UrlRefusedError": lambda e: UrlRefusedError(e["url"], reason=e.get("cause") or "refused"),
    "RobotsDisallowedError": lambda e: RobotsDisallowedError(
        e["url"], robots_url=e.get("robots_url", ""), reason=e.get("cause") or "disallowed by robots.txt"
    ),
    "ResponseTooLargeError": lambda e: ResponseTooLargeError(e["url"], limit=e["limit"], status=e.get("status")),
    "ParseError": lambda e: ParseError(e["url"], reason=e["reason"]),
    "SourceConfigError": lambda e: SourceConfigError(e["source_id"], reason=e["reason"]),
}


def error_from_event(event: Event) -> HarvestError:
    """The HarvestError an `error` event describes (a plain HarvestError for an unknown kind)."""
    rebuild = _REBUILD.get(str(event.get("error")))
    if rebuild is not None:
        try:
            return rebuild(event)
        except (KeyError, TypeError):
            pass  # a malformed error event still fails the run, with its message
    return HarvestError(str(event.get("message") or "the crawl failed"))
