"""Bulk writes to Elasticsearch: streaming_bulk in chunks, 429s retried with backoff, every failed item kept.

A failed item is never dropped: `write` returns it as a FailedItem (the uid, the HTTP status, the error type
and reason the cluster gave), and the backend raises BulkWriteError carrying all of them once the rest of
the batch is written, so the pipeline can put them into the run report and quarantine.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from indexer.errors import FailedItem

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BulkOptions:
    """How bulk requests are cut and retried."""

    chunk_size: int = 500
    max_chunk_bytes: int = 10 * 1024 * 1024
    max_retries: int = 5
    initial_backoff: float = 2.0
    max_backoff: float = 60.0


@dataclass
class BulkOutcome:
    """What one bulk stream did: successful items by result ("created", "updated", "deleted", "not_found")."""

    results: dict[str, int] = field(default_factory=dict)
    failed: list[FailedItem] = field(default_factory=list)

    def count(self, *names: str) -> int:
        return sum(self.results.get(n, 0) for n in names)


def write(client: Any, actions: Iterable[dict[str, Any]], *, options: BulkOptions) -> BulkOutcome:
    """Send `actions` with streaming_bulk; deletes of absent ids count as "not_found", not as failures."""
    from elasticsearch import helpers

    outcome = BulkOutcome()
    stream: Iterable[tuple[bool, dict[str, Any]]] = helpers.streaming_bulk(
        client,
        actions,
        chunk_size=options.chunk_size,
        max_chunk_bytes=options.max_chunk_bytes,
        max_retries=options.max_retries,
        initial_backoff=options.initial_backoff,
        max_backoff=options.max_backoff,
        raise_on_error=False,
        raise_on_exception=False,
    )
    for ok, item in stream:
        op_type, info = next(iter(item.items()))
        result = str(info.get("result") or "")
        if ok or (op_type == "delete" and info.get("status") == 404):
            name = result or ("not_found" if info.get("status") == 404 else "ok")
            outcome.results[name] = outcome.results.get(name, 0) + 1
            continue
        outcome.failed.append(_failed_item(info))
    if outcome.failed:
        logger.warning("bulk write: %d item(s) failed, first: %s", len(outcome.failed), outcome.failed[0])
    return outcome


def _failed_item(info: dict[str, Any]) -> FailedItem:
    error = info.get("error")
    if isinstance(error, dict):
        error_type, reason = str(error.get("type", "error")), str(error.get("reason", ""))
        caused = error.get("caused_by")
        if isinstance(caused, dict) and caused.get("reason"):
            reason = f"{reason} ({caused['reason']})"
    else:
        error_type, reason = "request_failed", str(error or info.get("exception") or "unknown error")
    return FailedItem(
        uid=str(info.get("_id", "")),
        status=int(info.get("status") or 0),
        error_type=error_type,
        reason=reason[:1000],
    )
