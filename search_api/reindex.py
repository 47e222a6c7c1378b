"""`edufed reindex`: rebuild every stored record from its raw payload with today's rules, offline.

The rebuilt records stream into `IndexBackend.rebuild`: Elasticsearch loads a new versioned index and swaps
its alias in one step, SQLite rewrites its file in place; either way searches keep answering throughout and
a failed rebuild removes nothing. The records come from the index itself, or from another index (a SQLite
file, with `--from-sqlite`) when an installation moves to Elasticsearch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from config.sources import SourceBase
from indexer.backends.base import IndexBackend
from indexer.errors import RecordInvalidError
from indexer.pipeline import RecordBuilder
from indexer.record import Record

logger = logging.getLogger(__name__)

PROGRESS_SECONDS = 2.0


@dataclass
class ReindexSummary:
    """What a reindex did: records seen, rebuilt, written, and kept as stored (with the reason counted)."""

    seen: int = 0
    rebuilt: int = 0
    written: int = 0
    unchanged: int = 0
    kept_no_source: int = 0
    kept_not_rebuildable: int = 0

    def text(self) -> str:
        return (
            f"reindexed {self.seen} records: {self.rebuilt} rebuilt from their raw payload, {self.written} "
            f"written to the index, {self.unchanged} unchanged; kept as stored: {self.kept_no_source} whose "
            f"source is no longer configured, {self.kept_not_rebuildable} that cannot be rebuilt"
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
    records: Iterable[Record] | None = None,
    expected: int | None = None,
    progress: TextIO | None = None,
) -> ReindexSummary:
    """Rebuild every record through `builder` and make the index hold exactly the results.

    `records` defaults to the index's own; `expected` (their number, when known) sizes the progress lines.
    A record that cannot be rebuilt, or whose source is no longer configured, is kept as stored: a reindex
    never drops a record.
    """
    summary = ReindexSummary()
    meter = ReindexProgress(progress, expected=expected) if progress is not None else None
    stream = _rebuilt_stream(
        backend.iter_records() if records is None else records,
        by_id={s.id: s for s in sources},
        builder=builder,
        summary=summary,
        meter=meter,
    )
    result = backend.rebuild(stream)
    summary.written, summary.unchanged = result.written, result.unchanged
    if meter is not None:
        meter.done(summary.seen)
    return summary


def _rebuilt_stream(
    records: Iterable[Record],
    *,
    by_id: dict[str, SourceBase],
    builder: RecordBuilder,
    summary: ReindexSummary,
    meter: ReindexProgress | None,
) -> Iterator[Record]:
    for record in records:
        summary.seen += 1
        yield _rebuilt(record, source=by_id.get(record.source), builder=builder, summary=summary)
        if meter is not None:
            meter.tick(summary.seen)


def _rebuilt(record: Record, *, source: SourceBase | None, builder: RecordBuilder, summary: ReindexSummary) -> Record:
    if source is None:
        summary.kept_no_source += 1
        return record
    try:
        rebuilt = builder.rebuild(record, source)
    except RecordInvalidError as exc:
        logger.warning("record %s cannot be rebuilt and is kept as stored: %s", record.uid, exc.reason)
        summary.kept_not_rebuildable += 1
        return record
    summary.rebuilt += 1
    return rebuilt
