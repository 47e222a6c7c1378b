"""The state-database side of one harvest run: its run row, its cursor, the records it knows, what it wrote.

The index is written before the state database each time (records, then their hashes; withdrawals, then their
marks), so a run killed between the two leaves the index ahead of the state. Before it diffs, the next run
compares the two: the state adopts what the index holds, and records the state counts as live but the index
lacks are written again when listed. A run killed at any moment therefore converges on the next one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from crawlers.state import RunAlreadyFinishedError, RunOutcome, RunRecord, StateNotFoundError, StateStore
from crawlers.state.quarantine import QuarantineItem
from indexer.backends.base import IndexBackend
from indexer.record import Record

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reconciled:
    """The content hashes a run diffs against, and what comparing the index with the state found."""

    hashes: dict[str, str]
    adopted: int
    """Records the index holds that the state did not know (or knew withdrawn, or with another hash)."""
    missing: int
    """Records the state counts as live that the index lacks: written again when the source lists them."""

    def note(self) -> str | None:
        """A line for the run report when the index and the state disagreed (after a run was cut short)."""
        if not self.adopted and not self.missing:
            return None
        return (
            f"state repaired from the index: {self.adopted} records adopted, {self.missing} live records "
            "missing from the index (written again when listed)"
        )


def encode_cursor(cursor: dict[str, Any]) -> dict[str, str]:
    """A source's cursor as the store keeps it: one JSON text per top-level key."""
    return {key: json.dumps(value, ensure_ascii=False, sort_keys=True) for key, value in cursor.items()}


def decode_cursor(stored: dict[str, str], *, source_id: str) -> dict[str, Any]:
    """The stored cursor; an unreadable one counts as none (the run harvests in full rather than fail)."""
    decoded: dict[str, Any] = {}
    for key, text in stored.items():
        try:
            decoded[key] = json.loads(text)
        except ValueError:
            logger.warning("the stored cursor of %s has an unreadable %r; harvesting in full", source_id, key)
            return {}
    return decoded


class RunState:
    """One run's rows in the state database; `harvest` calls it in this order: start, cursor, known, then
    observe / quarantine per batch, then finish."""

    def __init__(self, store: StateStore, source_id: str, *, run_id: str) -> None:
        self.store = store
        self.source_id = source_id
        self.run_id = run_id

    def start(self, *, trigger: str, holder: str | None) -> None:
        """Record the run as running (the source must be registered), or take over the row `queue_run` recorded
        for it with this id and holder (a StateError when that run was finished meanwhile: nothing to harvest)."""
        if self.store.runs.adopt(self.run_id, source_id=self.source_id, holder=holder) is None:
            self.store.runs.start(self.source_id, trigger=trigger, run_id=self.run_id, holder=holder)

    def cursor(self) -> dict[str, Any]:
        """The cursor the last complete run of the source left (empty the first time)."""
        return decode_cursor(self.store.cursors.get(self.source_id), source_id=self.source_id)

    def known(self, backend: IndexBackend) -> Reconciled:
        """The content hash of every record of the source in the catalogue, the state brought in line first."""
        indexed = backend.content_hashes(self.source_id)
        remembered = self.store.records.load(self.source_id)
        adopt = [
            (uid, content_hash)
            for uid, content_hash in indexed.items()
            if (state := remembered.get(uid)) is None or state.withdrawn or state.content_hash != content_hash
        ]
        missing = sum(1 for uid, state in remembered.items() if not state.withdrawn and uid not in indexed)
        if adopt:
            self.store.records.observe(self.source_id, adopt, run_id=self.run_id)
            logger.warning("%s: %d records in the index were not in the state; adopted", self.source_id, len(adopt))
        return Reconciled(indexed, adopted=len(adopt), missing=missing)

    def observe(self, records: Sequence[Record]) -> None:
        """Remember the hashes of records just written to the index."""
        self.store.records.observe(self.source_id, ((r.uid, r.content_hash) for r in records), run_id=self.run_id)

    def quarantine(self, items: Sequence[QuarantineItem]) -> None:
        """Keep rejected items with their reason and raw payload."""
        if items:
            self.store.quarantine.add(self.source_id, items, run_id=self.run_id)

    def live_uids(self) -> list[str]:
        """Every record of the source the state counts as live."""
        return sorted(uid for uid, state in self.store.records.load(self.source_id).items() if not state.withdrawn)

    def finish(self, outcome: RunOutcome, *, cursor: dict[str, Any] | None) -> None:
        """Record the run's end and, for a complete run, replace the stored cursor, in one transaction."""
        with self.store.transaction() as tx:
            tx.runs.finish(self.run_id, outcome)
            if cursor is not None:
                tx.cursors.put(self.source_id, _replacing(tx.cursors.get(self.source_id), encode_cursor(cursor)))


def queue_run(store: StateStore, source_id: str, *, trigger: str, holder: str) -> RunRecord:
    """Record a run of a source whose lease `holder` has just taken, before the process that harvests it begins
    (it counts as running, marked queued; that process's `RunState.start` adopts it). Runs of the source left
    running by an earlier holder are abandoned first: whoever held the lease before is gone."""
    store.runs.abandon_unfinished(source_id, reason="the process running it stopped")
    return store.runs.start(source_id, trigger=trigger, holder=holder, queued=True)


def drop_queued(store: StateStore, run_id: str, *, error_type: str, reason: str) -> RunRecord | None:
    """Finish as failed a queued run whose process will never begin it (the service stops, the job could not be
    queued); None when there is no such run, the run itself when it was finished meanwhile."""
    try:
        return store.runs.finish(run_id, RunOutcome(status="failed", error_type=error_type, error_message=reason))
    except RunAlreadyFinishedError:
        return store.runs.get(run_id)
    except StateNotFoundError:
        return None


def _replacing(old: Iterable[str], new: dict[str, str]) -> dict[str, str | None]:
    """The cursor update that leaves exactly `new`: keys the new cursor lacks are deleted."""
    return {**dict.fromkeys((key for key in old if key not in new), None), **new}
