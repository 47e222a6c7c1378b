"""Errors of the indexer.

IndexerError
 +-- IndexBackendError        the index cannot be opened, read or written
 |    +-- QueryError          a search request is invalid (bad cursor, unknown sort)
 +-- RecordInvalidError       a raw record cannot become a valid Record (carries the reason)
"""

from __future__ import annotations


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
