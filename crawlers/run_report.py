"""What a harvest run reports: counts, rejections, warnings, notes, HTTP totals, and what its run row keeps."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from crawlers.fetch import Fetcher, FetchStats
from crawlers.state import RunCounts
from crawlers.withdrawals import HeldWithdrawal

MAX_LISTED_REJECTIONS = 200
MAX_LISTED_WARNINGS = 200
MAX_STORED_ENTRIES = 50  # requests and rejections a run row's report keeps (the quarantine keeps every rejection)

RunStatus = Literal["running", "succeeded", "partial", "held", "failed"]
Phase = Literal["fetching", "writing", "withdrawing", "done"]


@dataclass(frozen=True)
class RunProgress:
    """A snapshot handed to the progress callback while a run goes on."""

    source_id: str
    phase: Phase
    fetched: int
    rejected: int
    written: int


@dataclass(frozen=True)
class RejectedItem:
    """An item that did not become a record: the platform id (when known) and why."""

    source_id: str | None
    reason: str


@dataclass(frozen=True)
class RunFailure:
    """Why a source could not be harvested: the error class and its message."""

    type: str
    message: str


@dataclass
class RunReport:
    """What one run did. `rejections` and `warnings` list the first few; the counts count all.

    `scope` is what the source's listing covered (full, incremental, unchanged; None when the listing did not
    run to its end); `complete` says it did, with every write done, so its cursor was (or could be) stored;
    `incomplete` says why a listing that did not fail is not whole (nothing was withdrawn from it).
    """

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
    withdrawn: int = 0
    rejected: int = 0
    written: int = 0
    scope: str | None = None
    complete: bool = False
    incomplete: str | None = None
    held: HeldWithdrawal | None = None
    notes: list[str] = field(default_factory=list)
    rejections: list[RejectedItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    warning_count: int = 0
    error: RunFailure | None = None
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

    def counts(self) -> RunCounts:
        """The counts a run row keeps."""
        return RunCounts(fetched=self.fetched, new=self.new, updated=self.updated, unchanged=self.unchanged,
                         withdrawn=self.withdrawn, rejected=self.rejected)  # fmt: skip


def stored_report(report: RunReport) -> dict[str, Any]:
    """The report a run row keeps: everything but the counts and HTTP totals (columns of their own), with the
    request log and the rejections cut short (the quarantine keeps every rejection)."""
    data = report.to_dict()
    for key in ("records", "http", *asdict(report.counts())):
        data.pop(key, None)
    data["http_log"] = data["http_log"][:MAX_STORED_ENTRIES]
    data["rejections"] = data["rejections"][:MAX_STORED_ENTRIES]
    return data


def final_status(report: RunReport) -> RunStatus:
    """The run's status word, the same rule for every kind (the README's harvesting paragraph says it)."""
    if report.error is not None:
        return "failed"
    if report.held is not None:
        return "held"
    if report.rejected or report.warning_count or report.incomplete is not None:
        return "partial"
    return "succeeded"


def robots_note(fetcher: Fetcher) -> str | None:
    """The run report's line about requests robots.txt kept us from sending: a note, never a warning (obeying
    robots.txt is the rule, not a fault of the source). None when there were none."""
    refused = [entry.url for entry in fetcher.log if entry.robots == "disallowed" and not entry.sent]
    if not refused:
        return None
    return f"{len(refused)} URLs not requested: robots.txt disallows them (first: {refused[0]})"
