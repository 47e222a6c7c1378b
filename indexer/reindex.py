"""Rebuild every stored record from its raw payload with today's rules, offline (`edufed reindex`).

The rebuilt records stream into `IndexBackend.rebuild`: Elasticsearch loads a new versioned index and swaps
its alias in one step, SQLite rewrites its file in place; either way searches keep answering throughout and
a failed rebuild removes nothing. The records come from the index itself, or from another index (a SQLite
file) when an installation moves to Elasticsearch. Rebuilding runs in worker processes when asked
(indexer.rebuild_pool); this process only reads and writes, so the result is the same with any number.

A rebuild never brings back a withdrawn record: the caller says which records are withdrawn (the harvest
state knows), those are left out of the stream, and the ones withdrawn while the rebuild ran are withdrawn
from the rebuilt index at its end.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

from config.source_models import SourceBase
from indexer.backends.base import IndexBackend
from indexer.backends.changes import Change
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_schema import PreparedRows, prepare_rows
from indexer.pipeline import RecordBuilder
from indexer.rebuild_pool import RebuildPool, RebuiltRecord, StoredRecord
from indexer.record import Record
from indexer.themes_version import Reclassifier, ThemedIndex

logger = logging.getLogger(__name__)

PROGRESS_SECONDS = 2.0
GC_YOUNG_THRESHOLD = 50_000
"""Young-generation threshold while a rebuild goes: every record allocates hundreds of short-lived objects."""

WithdrawnUids = Callable[[], Collection[str]]
"""Asked at the start and again at the end of a rebuild: the uids of every withdrawn record."""


@dataclass
class ReindexSummary:
    """What a reindex did: records seen, rebuilt, written, kept as stored (with the reason) and left out."""

    seen: int = 0
    rebuilt: int = 0
    written: int = 0
    unchanged: int = 0
    kept_no_source: int = 0
    kept_not_rebuildable: int = 0
    withdrawn: int = 0
    """Records the stored index still held though they are withdrawn: left out of the rebuilt one."""
    carried_deletions: int = 0
    """Deleted OAI-PMH entries of the index the records came from, kept by the rebuilt one's change log."""

    def text(self) -> str:
        return (
            f"reindexed {self.seen} records: {self.rebuilt} rebuilt from their raw payload, {self.written} "
            f"written to the index, {self.unchanged} unchanged; kept as stored: {self.kept_no_source} whose "
            f"source is no longer configured, {self.kept_not_rebuildable} that cannot be rebuilt; "
            f"left out: {self.withdrawn} withdrawn"
            + (f"; {self.carried_deletions} deleted OAI-PMH entries carried over" if self.carried_deletions else "")
        )


class ReindexProgress:
    """Progress lines for a long rebuild: records read so far (of how many), rate, every few seconds."""

    def __init__(self, stream: TextIO, *, expected: int | None, every_seconds: float = PROGRESS_SECONDS) -> None:
        self.stream = stream
        self.expected = expected
        self.every_seconds = every_seconds
        self._started = self._last = time.monotonic()

    def tick(self, seen: int) -> None:
        now = time.monotonic()
        if now - self._last >= self.every_seconds:
            self._last = now
            self._write(seen, now)

    def done(self, seen: int) -> None:
        self._write(seen, time.monotonic(), final=True)

    def _write(self, seen: int, now: float, *, final: bool = False) -> None:
        seconds = max(now - self._started, 1e-6)
        of = f" of {self.expected} ({seen / self.expected:.0%})" if self.expected else ""
        verb = "read and rebuilt" if final else "read"
        self.stream.write(f"reindex: {seen}{of} records {verb} in {seconds:.1f} s ({seen / seconds:.0f}/s)\n")
        self.stream.flush()


def reindex(
    backend: IndexBackend,
    *,
    builder: RecordBuilder,
    sources: Sequence[SourceBase],
    records: Iterable[Record | StoredRecord] | None = None,
    withdrawn: WithdrawnUids | None = None,
    workers: int = 1,
    expected: int | None = None,
    progress: TextIO | None = None,
    deleted: Iterable[Change] | None = None,
) -> ReindexSummary:
    """Rebuild every record through `builder` and make the index hold exactly the results.

    `records` defaults to the index's own; `expected` (their number, when known) sizes the progress lines;
    `workers` > 1 rebuilds in that many processes. A record that cannot be rebuilt, or whose source is no
    longer configured, is kept as stored: a reindex never drops a live record. One `withdrawn` names is
    never written, and leaves the index if it was there. `deleted` (the change log's deleted entries of the
    index `records` come from, when that is another one) are kept by the rebuilt index's change log, so OAI-PMH
    harvesters still learn of deletions made before the move.
    """
    summary = ReindexSummary()
    meter = ReindexProgress(progress, expected=expected) if progress is not None else None
    gone = set(withdrawn()) if withdrawn is not None else set()
    # SQLite takes its rows made in the workers (it only inserts), and clusters group by group at its end
    prepare = prepare_rows if isinstance(backend, SqliteBackend) else None
    with RebuildPool(builder=builder, sources=sources, workers=workers, prepare=prepare) as pool, _fewer_collections():
        live = _live(backend.iter_records() if records is None else records, gone=gone, summary=summary)
        stream = _counted(pool.rebuild(live), summary=summary, meter=meter)
        if isinstance(backend, SqliteBackend):
            result = backend.rebuild(stream, clusterer=pool.cluster_groups)
        else:
            result = backend.rebuild(_records(stream))
    summary.written, summary.unchanged = result.written, result.unchanged
    _record_themes(backend, builder=builder, summary=summary)
    if deleted is not None:
        summary.carried_deletions = backend.keep_deleted(deleted)
    if withdrawn is not None:
        summary.withdrawn += _withdraw_late(backend, set(withdrawn()) - gone)
    if meter is not None:
        meter.done(summary.seen)
    return summary


def _record_themes(backend: IndexBackend, *, builder: RecordBuilder, summary: ReindexSummary) -> None:
    """Record that the builder's theme rules classified every record (indexer.themes_version): the rebuilt ones
    were; records kept as stored are classified again from what they hold first."""
    if not isinstance(backend, ThemedIndex):
        return
    themes = Reclassifier(builder.themes)
    if summary.kept_no_source or summary.kept_not_rebuildable:
        backend.reclassify_all(themes, version=themes.version)
    else:
        backend.mark_themes(themes.version)


def _live(
    records: Iterable[Record | StoredRecord], *, gone: set[str], summary: ReindexSummary
) -> Iterator[Record | StoredRecord]:
    for record in records:
        summary.seen += 1
        if record.uid in gone:
            summary.withdrawn += 1
            continue
        yield record


def _counted(
    rebuilt: Iterable[RebuiltRecord], *, summary: ReindexSummary, meter: ReindexProgress | None
) -> Iterator[Record | PreparedRows]:
    for done in rebuilt:
        if done.outcome == "rebuilt":
            summary.rebuilt += 1
        elif done.outcome == "no_source":
            summary.kept_no_source += 1
        else:
            logger.warning("record %s cannot be rebuilt and is kept as stored: %s", done.record.uid, done.reason)
            summary.kept_not_rebuildable += 1
        yield done.record
        if meter is not None:
            meter.tick(summary.seen)


def _records(stream: Iterable[Record | PreparedRows]) -> Iterator[Record]:
    for item in stream:
        assert isinstance(item, Record), "rows are prepared only for a SQLite index"
        yield item


def _withdraw_late(backend: IndexBackend, uids: set[str]) -> int:
    """Withdraw what was withdrawn while the rebuild ran (a harvest may withdraw meanwhile); how many were in."""
    if not uids:
        return 0
    removed = backend.withdraw(sorted(uids))
    if removed:
        logger.info("withdrew %d record(s) from the rebuilt index that were withdrawn while it was rebuilt", removed)
    return removed


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Rare young-generation collections, and what existed before frozen out of them, while the rebuild goes.

    Rebuilding and writing allocate hundreds of small containers per record: at Python's default threshold
    the collector ran every few records and walked everything the process holds. Restored afterwards.
    """
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(before[0], GC_YOUNG_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
