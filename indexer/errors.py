"""Errors of the indexer.

IndexerError
 +-- IndexBackendError        the index cannot be opened, read or written
 |    +-- QueryError          a search request is invalid (bad cursor, unknown sort)
 |    +-- BulkWriteError      some records of a bulk write failed (carries each failed item)
 |    +-- ClientVersionError  the Elasticsearch client's major version differs from the cluster's
 |    +-- UnreadableRecordError  a stored record's JSON is not a valid record (carries its uid)
 +-- RecordInvalidError       a raw record cannot become a valid Record (carries the reason)
 +-- RebuildWorkerError       a process rebuilding records for a reindex died (nothing was withdrawn)
 +-- DumpError                the bulk dump cannot be written (carries the path; earlier dumps stay)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.backends.base import UpsertResult


class IndexerError(Exception):
    """Base of every indexer error."""


class IndexBackendError(IndexerError):
    """The index cannot be opened, read or written."""


class QueryError(IndexBackendError):
    """A search request is invalid; `field` names the offending parameter."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class RecordInvalidError(IndexerError):
    """A raw record cannot become a valid Record."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


@dataclass(frozen=True)
class FailedItem:
    """One record the index did not take: `status` 0 means it never reached the cluster."""

    uid: str
    status: int
    error_type: str
    reason: str


class BulkWriteError(IndexBackendError):
    """Some items of a bulk write failed; `failed` lists them, `result` counts what was written anyway."""

    def __init__(self, message: str, *, failed: list[FailedItem], result: UpsertResult | None = None) -> None:
        super().__init__(message)
        self.failed = failed
        self.result = result


class ClientVersionError(IndexBackendError):
    """The client's major version differs from the cluster's; `server` and `client` hold both versions."""

    def __init__(self, message: str, *, server: str, client: str) -> None:
        super().__init__(message)
        self.server = server
        self.client = client


class UnreadableRecordError(IndexBackendError):
    """A stored record's JSON is not a valid record; `uid` names it, `problem` says what is wrong."""

    def __init__(self, uid: str, problem: str) -> None:
        self.uid = uid
        self.problem = problem
        super().__init__(f"record {uid} cannot be read ({problem})")

    def __reduce__(self) -> tuple[type[UnreadableRecordError], tuple[str, str]]:
        return type(self), (self.uid, self.problem)  # raised in a rebuild worker, re-raised in the caller


class RebuildWorkerError(IndexerError):
    """A worker process of a reindex died (killed, out of memory); the rebuild stopped and withdrew nothing."""


class DumpError(IndexerError):
    """The bulk data dump cannot be written; the dumps already published stay as they were."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path
