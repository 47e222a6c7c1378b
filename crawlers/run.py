"""One harvest run of one source: fetch, parse, build records, diff by content hash, write in batches."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from config.settings import Settings
from config.sources import SourceBase
from crawlers.errors import HarvestError
from crawlers.fetch import Fetcher, FetchStats
from crawlers.sources import build_source
from crawlers.sources.base import Source
from indexer.backends.base import IndexBackend
from indexer.errors import IndexerError, RecordInvalidError
from indexer.pipeline import RecordBuilder
from indexer.record import RawRecord, Record

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_LISTED_REJECTIONS = 200
MAX_LISTED_WARNINGS = 200
MAX_LOGGED_REQUESTS = 200
DRY_RUN_RECORDS = 20

RunStatus = Literal["running", "succeeded", "partial", "failed"]


@dataclass(frozen=True)
class RunProgress:
    """A snapshot handed to the progress callback while a run goes on."""

    source_id: str
    phase: Literal["fetching", "writing", "done"]
    fetched: int
    rejected: int
    written: int


@dataclass(frozen=True)
class RejectedItem:
    """An item that did not become a record: the platform id (when known) and why."""

    source_id: str | None
    reason: str


@dataclass(frozen=True)
class RunError:
    """Why a source could not be harvested: the error class and its message."""

    type: str
    message: str


@dataclass
class RunReport:
    """What one run did. `rejections` and `warnings` list the first few; the counts count all."""

    run_id: str
    source_id: str
    dry_run: bool
    started_at: datetime
    finished_at: datetime | None = None
    status: RunStatus = "running"
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    written: int = 0
    rejections: list[RejectedItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    warning_count: int = 0
    error: RunError | None = None
    http: FetchStats = field(default_factory=FetchStats)
    http_log: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def reject(self, source_id: str | None, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_LISTED_REJECTIONS:
            self.rejections.append(RejectedItem(source_id, reason))

    def warn(self, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_LISTED_WARNINGS:
            self.warnings.append(message)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (datetimes as ISO 8601 strings)."""
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        data["duration_seconds"] = self.duration_seconds
        return data


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
    ) -> None:
        self.source = source
        self.report = report
        self.backend = backend
        self.builder = builder
        self.progress = progress
        self.existing: dict[str, str] = {}
        self.seen: set[str] = set()
        self.batch: list[Record] = []
        self.problems_taken = 0

    def execute(self, fetcher: Fetcher) -> None:
        """Harvest the source; any failure ends the run with status failed instead of raising."""
        harvested: Source | None = None
        try:
            self.existing = self.backend.content_hashes(self.source.id)
            harvested = build_source(self.source, fetcher)
            self._consume(harvested)
        except Exception as exc:  # a run is isolated: whatever breaks, the caller gets a report
            self._fail(exc)
        if harvested is not None:
            self._take_problems(harvested)
            for warning in harvested.warnings:
                self.report.warn(warning)
        try:
            self._flush()  # records built before a failure are kept
        except Exception as exc:
            self._fail(exc)

    def _consume(self, harvested: Source) -> None:
        limit = self.source.max_records
        records = harvested.iter_records()
        try:
            for raw in records:
                self._take_problems(harvested)
                self.report.fetched += 1
                self._take(raw)
                if len(self.batch) >= BATCH_SIZE:
                    self._flush()
                self.tick("fetching")
                if limit is not None and self.report.fetched >= limit:
                    break
        finally:
            _close(records)

    def _take_problems(self, harvested: Source) -> None:
        for problem in harvested.problems[self.problems_taken :]:
            self.report.fetched += 1
            self.report.reject(problem.source_id, problem.reason)
        self.problems_taken = len(harvested.problems)

    def _take(self, raw: RawRecord) -> None:
        for warning in raw.warnings:
            self.report.warn(warning)
        try:
            record = self.builder.build(raw, self.source, fetched_at=datetime.now(UTC))
        except RecordInvalidError as exc:
            where = f"{exc.field}: " if exc.field else ""
            self.report.reject(raw.source_id, f"{where}{exc.reason}")
            return
        if record.uid in self.seen:
            self.report.reject(raw.source_id, "duplicate id in this run; the first item with it was kept")
            return
        self.seen.add(record.uid)
        self._count_and_queue(record)

    def _count_and_queue(self, record: Record) -> None:
        report = self.report
        if report.dry_run and len(report.records) < DRY_RUN_RECORDS:
            report.records.append(record.model_dump(mode="json", exclude={"raw"}))
        previous = self.existing.get(record.uid)
        if previous == record.content_hash:
            report.unchanged += 1
            return
        if previous is None:
            report.new += 1
        else:
            report.updated += 1
        if not report.dry_run:
            self.batch.append(record)

    def _flush(self) -> None:
        if not self.batch:
            return
        batch, self.batch = self.batch, []
        self.tick("writing")
        result = self.backend.upsert(batch)
        self.report.written += result.written

    def _fail(self, exc: Exception) -> None:
        if self.report.error is None:
            self.report.error = RunError(type(exc).__name__, str(exc) or repr(exc))
        level = logging.WARNING if _expected_failure(exc) else logging.ERROR
        logger.log(level, "run of %s failed: %s", self.source.id, exc, exc_info=not _expected_failure(exc))

    def tick(self, phase: Literal["fetching", "writing", "done"]) -> None:
        if self.progress is None:
            return
        snapshot = RunProgress(
            self.source.id, phase, self.report.fetched, self.report.rejected, self.report.written
        )
        try:
            self.progress(snapshot)
        except Exception:  # a broken progress display must not break the harvest
            logger.exception("progress callback failed for %s", self.source.id)


def _expected_failure(exc: Exception) -> bool:
    return isinstance(exc, HarvestError | IndexerError)


def _close(records: Iterator[RawRecord]) -> None:
    close = getattr(records, "close", None)
    if callable(close):
        close()


def harvest(
    source: SourceBase,
    *,
    settings: Settings,
    backend: IndexBackend,
    builder: RecordBuilder,
    dry_run: bool = False,
    progress: Callable[[RunProgress], None] | None = None,
    fetcher: Fetcher | None = None,
) -> RunReport:
    """Harvest `source` into `backend` (nothing written when dry_run); never raises, always reports.

    Pass `fetcher` to reuse or customise one; by default a Fetcher is built from settings.http and closed.
    """
    report = RunReport(uuid.uuid4().hex, source.id, dry_run, datetime.now(UTC))
    run = _Run(source, report=report, backend=backend, builder=builder, progress=progress)
    own_fetcher = fetcher is None
    active = fetcher or Fetcher(
        settings.http, obey_robots=source.obey_robots, delay_seconds=source.delay_seconds
    )
    try:
        run.execute(active)
    finally:
        if own_fetcher:
            active.close()
    _finish(report, fetcher=active)
    run.tick("done")
    return report


def _finish(report: RunReport, *, fetcher: Fetcher) -> None:
    report.http = fetcher.stats()
    report.http_log = [entry.to_dict() for entry in fetcher.log[:MAX_LOGGED_REQUESTS]]
    report.finished_at = datetime.now(UTC)
    report.status = _status(report)
    logger.info(
        "run %s of %s %s: %d fetched, %d new, %d updated, %d unchanged, %d rejected",
        report.run_id,
        report.source_id,
        report.status,
        report.fetched,
        report.new,
        report.updated,
        report.unchanged,
        report.rejected,
    )


def _status(report: RunReport) -> RunStatus:
    if report.error is not None:
        return "failed"
    if report.rejected or report.warning_count:
        return "partial"
    return "succeeded"
