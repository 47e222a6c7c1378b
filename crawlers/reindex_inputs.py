"""What `edufed reindex` hands the rebuild (indexer.reindex): the stored records, the withdrawn ones, workers.

The rebuild itself lives in the indexer; this module only knows where an installation keeps things: the
SQLite index file whose stored JSON the workers parse, the harvest state that says which records are
withdrawn, and how many processes a rebuild of this size is worth.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from config.settings import Settings
from crawlers.state import StateStore, state_url
from indexer.backends.sqlite_file import SqliteIndexFile
from indexer.rebuild_pool import StoredRecord
from indexer.reindex import ReindexProgress, ReindexSummary, WithdrawnUids, reindex

__all__ = ["ReindexProgress", "ReindexSummary", "default_workers", "reindex", "stored_records", "withdrawn_in_state"]

POOL_FROM = 20_000
"""Below this many records, starting worker processes (each loads the dictionaries) costs more than it gives."""


def default_workers(expected: int) -> int:
    """Processes a rebuild of `expected` records uses when not told: every core for a large index, else one."""
    return max(1, os.cpu_count() or 1) if expected >= POOL_FROM else 1


def withdrawn_in_state(settings: Settings) -> WithdrawnUids | None:
    """Reads the uids the harvest state marks withdrawn (None when no state database exists yet)."""
    if settings.state_db_url is None and not Path(state_url(settings).removeprefix("sqlite:///")).exists():
        return None

    def read() -> set[str]:
        store = StateStore.for_settings(settings)
        try:
            return store.records.withdrawn_uids()
        finally:
            store.close()

    return read


@contextmanager
def stored_records(settings: Settings) -> Iterator[Iterable[StoredRecord] | None]:
    """A SQLite index's own records as stored JSON (parsed by the workers); None for other backends."""
    if settings.index.backend != "sqlite":
        yield None
        return
    with SqliteIndexFile(settings.index_path) as index_file:
        yield index_file.stored()
