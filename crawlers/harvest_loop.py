"""The one pass over a source's items that a harvest run and a preview both consume: built records and rejections.

A source gives raw records, and beside them the items it could not read (`problems`) and, for an incremental
source, the ids whose records stand unchanged. `HarvestLoop` turns all of that into one stream of items, each
fetched item once: `Built` (a record), `Rejection` (an item that cannot be a record, with its reason and payload)
and `Standing` (an id the source listed unchanged). It builds each record, refuses a second item with the same
id, stops at `limit` items and closes the source's iterator. What to do with the items (write, quarantine,
show) is the consumer's business; so is a failure of the source, which leaves the loop: after it, `reported()`
gives the items the source reported that the loop had not yet taken.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from config.source_models import SourceBase
from crawlers.kinds.base import Source
from crawlers.kinds.cursor import IncrementalSource
from indexer.errors import RecordInvalidError
from indexer.pipeline import RecordBuilder
from indexer.record import RawRecord, Record

DUPLICATE_REASON = "duplicate id in this run; the first item with it was kept"


@dataclass(frozen=True)
class Built:
    """An item that became a record (the raw item kept for its warnings and fields)."""

    raw: RawRecord
    record: Record


@dataclass(frozen=True)
class Rejection:
    """An item that cannot be a record: `problem` (the source could not read it), `invalid` (the record builder
    refused it, naming the `field` when it can) or `duplicate` (its id came earlier in this pass)."""

    kind: Literal["problem", "invalid", "duplicate"]
    platform_id: str | None
    reason: str
    payload: Any
    field: str | None = None


@dataclass(frozen=True)
class Standing:
    """A platform id the source listed as unchanged: its record stands as it is, none was built."""

    platform_id: str


Item = Built | Rejection | Standing


@dataclass(kw_only=True)
class HarvestLoop:
    """Iterate to get the source's items in order; `fetched` counts them, `cut` says whether `limit` stopped it."""

    harvested: Source
    source: SourceBase
    builder: RecordBuilder
    limit: int | None = None
    fetched: int = 0
    cut: bool = False
    seen: set[str] = field(default_factory=set)
    """uids of the records built, to refuse a second item with the same id."""
    _problems_taken: int = 0
    _standing_taken: int = 0

    def __iter__(self) -> Iterator[Item]:
        records = self.harvested.iter_records()
        try:
            for raw in records:
                yield from self.reported()
                self.fetched += 1
                yield self._build(raw)
                if self.limit is not None and self.fetched >= self.limit:
                    self.cut = True
                    break
        finally:
            close = getattr(records, "close", None)
            if callable(close):
                close()

    def reported(self) -> Iterator[Rejection | Standing]:
        """The items the source reported beside its records since last asked: unreadable ones, standing ones."""
        problems = self.harvested.problems
        while self._problems_taken < len(problems):
            problem = problems[self._problems_taken]
            self._problems_taken += 1
            self.fetched += 1
            yield Rejection("problem", problem.source_id, problem.reason, problem.payload)
        if isinstance(self.harvested, IncrementalSource):
            standing = self.harvested.unchanged_ids
            while self._standing_taken < len(standing):
                platform_id = standing[self._standing_taken]
                self._standing_taken += 1
                self.fetched += 1
                yield Standing(platform_id)

    def _build(self, raw: RawRecord) -> Built | Rejection:
        try:
            record = self.builder.build(raw, self.source, fetched_at=datetime.now(UTC))
        except RecordInvalidError as exc:
            where = f"{exc.field}: " if exc.field else ""
            return Rejection("invalid", raw.source_id, f"{where}{exc.reason}", raw_payload(raw), exc.field)
        if record.uid in self.seen:
            return Rejection("duplicate", raw.source_id, DUPLICATE_REASON, raw_payload(raw))
        self.seen.add(record.uid)
        return Built(raw, record)


def raw_payload(raw: RawRecord) -> Any:
    """What a rejected record is quarantined with: the platform's payload, else the fields mapped from it."""
    return raw.payload if raw.payload is not None else raw.fields
