"""`edufed reindex`: rebuild every stored record from its raw payload with today's rules, offline."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from config.sources import SourceBase
from indexer.backends.base import IndexBackend
from indexer.errors import RecordInvalidError
from indexer.pipeline import RecordBuilder
from indexer.record import Record

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


@dataclass
class ReindexSummary:
    """What a reindex did: records seen, rebuilt, rewritten, and kept as stored (with the reason counted)."""

    seen: int = 0
    rebuilt: int = 0
    written: int = 0
    kept_no_source: int = 0
    kept_not_rebuildable: int = 0

    def text(self) -> str:
        return (
            f"reindexed {self.seen} records: {self.rebuilt} rebuilt from their raw payload, {self.written} "
            f"changed in the index; kept as stored: {self.kept_no_source} whose source is no longer "
            f"configured, {self.kept_not_rebuildable} that cannot be rebuilt"
        )


def reindex(
    backend: IndexBackend,
    *,
    builder: RecordBuilder,
    sources: Sequence[SourceBase],
    progress: TextIO | None = None,
) -> ReindexSummary:
    """Rebuild every record through `builder` and write back the ones that changed; never drops a record."""
    by_id = {s.id: s for s in sources}
    summary = ReindexSummary()
    batch: list[Record] = []
    for record in backend.iter_records():
        summary.seen += 1
        batch.append(_rebuilt(record, source=by_id.get(record.source), builder=builder, summary=summary))
        if len(batch) >= BATCH_SIZE:
            summary.written += backend.upsert(batch).written
            batch = []
            if progress is not None:
                progress.write(f"reindex: {summary.seen} records\n")
    if batch:
        summary.written += backend.upsert(batch).written
    return summary


def _rebuilt(
    record: Record, *, source: SourceBase | None, builder: RecordBuilder, summary: ReindexSummary
) -> Record:
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
