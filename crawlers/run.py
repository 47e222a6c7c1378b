"""One harvest run of one source: fetch, parse, build records, diff by content hash, write in batches.

The run consumes the item loop a preview consumes too (crawlers/harvest_loop.py: built records, rejections,
standing ids); what is its own is what it does with them.

Given a state store (crawlers/state), a run also remembers: it records its run row, resumes the source from
the cursor of its last complete run, diffs against the stored content hashes (checked against the index,
crawlers/run_state.py), quarantines rejected items with their payloads, withdraws the records the source
deleted or stopped listing (crawlers/withdrawals.py, behind the mass-deletion guard) and stores the new cursor
only after a complete run whose writes all succeeded. Without one (dry runs, tests) it diffs against
the index and writes records only.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from config.settings import Settings
from config.source_models import SourceBase
from crawlers.errors import HarvestError
from crawlers.fetch import Fetcher
from crawlers.harvest_loop import Built, HarvestLoop, Item, Rejection
from crawlers.kinds import build_source
from crawlers.kinds.base import Source
from crawlers.kinds.cursor import IncrementalSource
from crawlers.run_gc import fewer_collections
from crawlers.run_report import (
    Phase,
    RejectedItem,
    RunFailure,
    RunProgress,
    RunReport,
    RunStatus,
    final_status,
    robots_note,
    stored_report,
)
from crawlers.run_state import RunState
from crawlers.state import RunOutcome, StateStore
from crawlers.state.errors import StateError
from crawlers.state.quarantine import QuarantineItem
from crawlers.withdrawals import Listing, settle
from indexer.backends.base import IndexBackend
from indexer.errors import IndexerError
from indexer.normalize.text import clean_text
from indexer.pipeline import MAX_ID, RecordBuilder
from indexer.record import Record

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_LOGGED_REQUESTS = 200
DRY_RUN_RECORDS = 20

__all__ = ["Phase", "RejectedItem", "RunFailure", "RunProgress", "RunReport", "RunStatus", "harvest", "record_uid"]


class _Run:
    """The state of one run while it goes; `harvest` is its public face."""

    def __init__(
        self,
        source: SourceBase,
        *,
        report: RunReport,
        backend: IndexBackend,
        builder: RecordBuilder,
        progress: Callable[[RunProgress], None] | None,
        state: RunState | None,
    ) -> None:
        self.source = source
        self.report = report
        self.backend = backend
        self.builder = builder
        self.progress = progress
        self.state = state
        self.existing: dict[str, str] | None = None  # loaded with the first record: an unchanged run needs none
        self.seen: set[str] = set()  # uids of the records built (the loop's, once it has run)
        self.named: set[str] = set()  # uids of rejected items: listed too, so not gone, though not rewritten
        self.standing: set[str] = set()  # uids the source listed unchanged without yielding a record
        self.batch: list[Record] = []
        self.rejects: list[QuarantineItem] = []
        self.cut = False
        self.cursor: dict[str, Any] | None = None  # what the run's end stores: set once the run is complete

    def execute(self, fetcher: Fetcher) -> None:
        """Harvest the source; any failure ends the run with status failed instead of raising."""
        harvested: Source | None = None
        loop: HarvestLoop | None = None
        try:
            harvested = build_source(self.source, fetcher)
            if isinstance(harvested, IncrementalSource):
                if self.state is not None:
                    harvested.cursor_in = self.state.cursor()
                harvested.catalogued = self._catalogued
            loop = HarvestLoop(harvested=harvested, source=self.source, builder=self.builder,
                               limit=self.source.max_records)  # fmt: skip
            self._consume(loop)
        except Exception as exc:  # a run is isolated: whatever breaks, the caller gets a report
            self._fail(exc)
        if loop is not None:
            for item in loop.reported():  # what the source reported before it stopped
                self._take(item)
            self.seen, self.cut = loop.seen, loop.cut
        if harvested is not None:
            for warning in harvested.warnings:
                self.report.warn(warning)
        if note := robots_note(fetcher):
            self.report.notes.append(note)
        try:
            self._flush()  # records built before a failure are kept
        except Exception as exc:
            self._fail(exc)
        if isinstance(harvested, IncrementalSource):
            self._conclude(harvested)

    def _consume(self, loop: HarvestLoop) -> None:
        for item in loop:
            self._take(item)
            if len(self.batch) >= BATCH_SIZE or len(self.rejects) >= BATCH_SIZE:
                self._flush()
            self.tick("fetching")

    def _catalogued(self, platform_id: str) -> bool:
        """Whether the catalogue holds a live record for this platform id (so a source may leave it standing)."""
        uid = record_uid(self.source, platform_id)
        return uid is not None and uid in self._known()

    def _take(self, item: Item) -> None:
        """Count one item of the loop: queue a built record, quarantine a rejection, remember a standing id."""
        self.report.fetched += 1
        if isinstance(item, Built):
            for warning in item.raw.warnings:
                self.report.warn(warning)
            self._count_and_queue(item.record)
        elif isinstance(item, Rejection):
            self._reject(item)
        else:
            self.report.unchanged += 1
            if uid := record_uid(self.source, item.platform_id):
                self.standing.add(uid)

    def _reject(self, item: Rejection) -> None:
        """Count and quarantine a rejected item; one with an id still counts as listed (it is not gone)."""
        self.report.reject(item.platform_id, item.reason)
        uid = record_uid(self.source, item.platform_id)
        if uid is not None:
            self.named.add(uid)
        if self.state is not None:
            self.rejects.append(QuarantineItem(item.platform_id, item.reason, item.payload))

    def _count_and_queue(self, record: Record) -> None:
        report = self.report
        if report.dry_run and len(report.records) < DRY_RUN_RECORDS:
            report.records.append(record.model_dump(mode="json", exclude={"raw"}))
        previous = self._known().get(record.uid)
        if previous == record.content_hash:
            report.unchanged += 1
            return
        if previous is None:
            report.new += 1
        else:
            report.updated += 1
        if not report.dry_run:
            self.batch.append(record)

    def _known(self) -> dict[str, str]:
        """uid -> content hash of the source's records in the catalogue (state and index brought in line)."""
        if self.existing is None:
            if self.state is None:
                self.existing = self.backend.content_hashes(self.source.id)
            else:
                reconciled = self.state.known(self.backend)
                if note := reconciled.note():
                    self.report.notes.append(note)
                self.existing = reconciled.hashes
        return self.existing

    def _flush(self) -> None:
        """Write the queued records to the index, then remember them (and the rejections) in the state."""
        if self.batch:
            batch, self.batch = self.batch, []
            self.tick("writing")
            result = self.backend.upsert(batch)
            self.report.written += result.written
            if self.state is not None:
                self.state.observe(batch)
        if self.rejects and self.state is not None:
            rejects, self.rejects = self.rejects, []
            self.state.quarantine(rejects)

    def _conclude(self, harvested: IncrementalSource) -> None:
        """Take the source's scope and notes; after a listing that ran to its end, settle deletions and keep its
        cursor. A listing cut short or broken withdraws nothing: the report says why (error or incomplete)."""
        report = self.report
        report.notes.extend(harvested.notes)
        if report.error is not None or report.dry_run:
            return
        if self.cut:
            report.notes.append(f"stopped at max_records={self.source.max_records}: nothing withdrawn, no cursor kept")
            return
        if harvested.cursor_out is None:
            report.incomplete = harvested.incomplete_reason or "the listing did not run to its end"
            report.notes.append(f"an incomplete listing: nothing withdrawn, no cursor kept ({report.incomplete})")
            return
        report.scope = harvested.scope
        if self.state is not None:
            self.tick("withdrawing")
            listing = Listing(
                named=frozenset(self.seen | self.named | self.standing),
                deleted=frozenset(self._uids(harvested.deleted_ids)),
                complete=harvested.complete_listing,
                current=harvested.shows_current,
                repeated=harvested.scope == "unchanged" and harvested.repeats_listing,
                fetched=report.fetched,
            )
            try:
                done = settle(self.state.store, self.backend, self.source, run_id=report.run_id, listing=listing)
            except Exception as exc:
                self._fail(exc)
                return
            report.withdrawn += done.withdrawn
            report.held = done.held
            report.notes.extend(done.notes)
        report.complete = True
        self.cursor = harvested.cursor_out

    def _uids(self, platform_ids: Sequence[str]) -> set[str]:
        """The uids of platform ids the source reported deleted, but for any it also listed alive."""
        listed = self.seen | self.named | self.standing
        return {uid for uid in (record_uid(self.source, i) for i in platform_ids) if uid} - listed

    def _fail(self, exc: Exception) -> None:
        if self.report.error is None:
            self.report.error = RunFailure(type(exc).__name__, str(exc) or repr(exc))
        level = logging.WARNING if _expected_failure(exc) else logging.ERROR
        logger.log(level, "run of %s failed: %s", self.source.id, exc, exc_info=not _expected_failure(exc))

    def tick(self, phase: Phase) -> None:
        if self.progress is None:
            return
        snapshot = RunProgress(self.source.id, phase, self.report.fetched, self.report.rejected, self.report.written)
        try:
            self.progress(snapshot)
        except Exception:  # a broken progress display must not break the harvest
            logger.exception("progress callback failed for %s", self.source.id)


def record_uid(source: SourceBase, platform_id: str | None) -> str | None:
    """The uid a record with this platform id has (as RecordBuilder makes it); None without a usable id."""
    cleaned = clean_text(platform_id, max_chars=MAX_ID + 1)
    if not cleaned or len(cleaned) > MAX_ID:
        return None
    return f"{source.id}:{cleaned}"


def _expected_failure(exc: Exception) -> bool:
    return isinstance(exc, HarvestError | IndexerError | StateError)


def harvest(
    source: SourceBase,
    *,
    settings: Settings,
    backend: IndexBackend,
    builder: RecordBuilder,
    dry_run: bool = False,
    progress: Callable[[RunProgress], None] | None = None,
    fetcher: Fetcher | None = None,
    state: StateStore | None = None,
    trigger: str = "manual",
    holder: str | None = None,
    run_id: str | None = None,
) -> RunReport:
    """Harvest `source` into `backend` (nothing written when dry_run); never raises, always reports.

    With `state`, the run is recorded there (started with `trigger` and `holder`), resumes from the stored
    cursor and withdraws what the source deleted or stopped listing; a dry run reads and writes no state.
    `run_id`: the id of a run already recorded queued for `holder` (crawlers.run_state.queue_run), taken over.
    Pass `fetcher` to reuse or customise one; by default a Fetcher is built from settings.http and closed.
    """
    report = RunReport(run_id or uuid.uuid4().hex, source.id, dry_run, datetime.now(UTC))
    recorder = None if state is None or dry_run else RunState(state, source.id, run_id=report.run_id)
    run = _Run(source, report=report, backend=backend, builder=builder, progress=progress, state=recorder)
    if recorder is not None and not _started(recorder, run, trigger=trigger, holder=holder):
        _finish(report, fetcher=None)
        run.tick("done")
        return report
    own_fetcher = fetcher is None
    active = fetcher or Fetcher(settings.http, obey_robots=source.obey_robots, delay_seconds=source.delay_seconds)
    try:
        with fewer_collections():
            run.execute(active)
    finally:
        if own_fetcher:
            active.close()
    _finish(report, fetcher=active)
    if recorder is not None:
        _record(recorder, report, cursor=run.cursor)
    run.tick("done")
    return report


def _started(recorder: RunState, run: _Run, *, trigger: str, holder: str | None) -> bool:
    """Record the run's start; a run the state database cannot record does not harvest."""
    try:
        recorder.start(trigger=trigger, holder=holder)
    except Exception as exc:
        run._fail(exc)
        return False
    return True


def _record(recorder: RunState, report: RunReport, *, cursor: dict[str, Any] | None) -> None:
    """Record the run's end (and the cursor of a complete run); a failure to do so fails the report."""
    error = report.error
    outcome = RunOutcome(
        status=report.status, counts=report.counts(), http=report.http.to_dict(),
        error_type=error.type if error else None, error_message=error.message if error else None,
        report=stored_report(report),
    )  # fmt: skip
    try:
        recorder.finish(outcome, cursor=cursor if report.status != "failed" else None)
    except Exception as exc:  # the run row stays `running` until the scheduler marks it abandoned
        logger.error("could not record the end of run %s of %s: %s", report.run_id, report.source_id, exc)
        if report.error is None:
            report.error = RunFailure(type(exc).__name__, str(exc) or repr(exc))
        report.complete = False
        report.status = "failed"


def _finish(report: RunReport, *, fetcher: Fetcher | None) -> None:
    if fetcher is not None:
        report.http = fetcher.stats()
        report.http_log = [entry.to_dict() for entry in fetcher.log[:MAX_LOGGED_REQUESTS]]
    report.finished_at = datetime.now(UTC)
    report.status = final_status(report)
    logger.info(
        "run %s of %s %s: %d fetched, %d new, %d updated, %d unchanged, %d withdrawn, %d rejected",
        report.run_id,
        report.source_id,
        report.status,
        report.fetched,
        report.new,
        report.updated,
        report.unchanged,
        report.withdrawn,
        report.rejected,
    )
