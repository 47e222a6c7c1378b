"""Run history: one row per harvest run, from start to its final status, counts and report."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, func, null, or_, select, update

from crawlers.state import run_totals
from crawlers.state.db import Database, utcnow
from crawlers.state.errors import InvalidStateValueError, RunAlreadyFinishedError, StateNotFoundError
from crawlers.state.run_totals import DurationHistogram, TotalsChange
from crawlers.state.schema import DURATION_EDGES, runs, sources

logger = logging.getLogger(__name__)

TRIGGERS = ("schedule", "manual", "retry", "startup", "delete")  # delete: a held source deletion
STATUSES = ("running", "succeeded", "partial", "failed", "held", "timed_out")
FINAL_STATUSES = STATUSES[1:]
MAX_ERROR_CHARS = 4000


@dataclass(frozen=True)
class RunCounts:
    """What a run did with the records it met."""

    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class RunOutcome:
    """Everything `RunLog.finish` records about a finished run."""

    status: str
    counts: RunCounts = field(default_factory=RunCounts)
    http: dict[str, Any] | None = None
    error_type: str | None = None
    error_message: str | None = None
    report: dict[str, Any] | None = None


@dataclass(frozen=True)
class RunRecord:
    """One run as stored."""

    id: str
    source_id: str
    trigger: str
    status: str
    holder: str | None
    started_at: datetime
    finished_at: datetime | None
    counts: RunCounts
    http: dict[str, Any] | None
    error_type: str | None
    error_message: str | None
    report: dict[str, Any] | None

    @property
    def queued(self) -> bool:
        """Recorded when it was asked for, its process has not begun it yet (`RunLog.start(queued=True)`)."""
        return self.status == "running" and _progress_phase(self.report) == QUEUED

    @property
    def duration_seconds(self) -> float | None:
        """Seconds from start to finish; None while running."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


COUNT_NAMES = tuple(RunCounts.__dataclass_fields__)


def to_run(row: RowMapping) -> RunRecord:
    """A runs row as a RunRecord."""
    return RunRecord(
        id=row["id"],
        source_id=row["source_id"],
        trigger=row["trigger"],
        status=row["status"],
        holder=row["holder"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        counts=RunCounts(**{name: row[name] for name in COUNT_NAMES}),
        http=row["http"],
        error_type=row["error_type"],
        error_message=row["error_message"],
        report=row["report"],
    )


def _check(field_name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidStateValueError(field_name, value, allowed=allowed)


class RunLog:
    """Start and finish runs, and read the history back by source, by status or by id."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _row(self, connection: Connection, run_id: str) -> RowMapping:
        row = connection.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
        if row is None:
            raise StateNotFoundError("run", run_id)
        return row

    def start(
        self,
        source_id: str,
        *,
        trigger: str,
        run_id: str | None = None,
        holder: str | None = None,
        started_at: datetime | None = None,
        queued: bool = False,
    ) -> RunRecord:
        """Record that a run of a registered source has begun (status running).

        `queued`: the run is recorded as it is asked for, before the process that harvests it begins (so that
        its id can be followed at once); it counts as running, its report's progress says phase `queued`, and
        that process takes the row over with `adopt`. One never adopted is finished or abandoned like any
        other run whose process died."""
        _check("trigger", trigger, TRIGGERS)
        run_id = run_id or uuid.uuid4().hex
        now = started_at or utcnow()
        values: dict[str, Any] = {
            "id": run_id,
            "source_id": source_id,
            "trigger": trigger,
            "status": "running",
            "holder": holder,
            "started_at": now,
            **dict.fromkeys(COUNT_NAMES, 0),
        }
        if queued:
            note = RunProgressNote(phase=QUEUED, fetched=0, rejected=0, written=0, at=now.isoformat(timespec="seconds"))
            values["report"] = {"progress": asdict(note)}
        with self._db.begin() as connection:
            if connection.execute(select(sources.c.id).where(sources.c.id == source_id)).first() is None:
                raise StateNotFoundError("source", source_id)
            connection.execute(runs.insert().values(**values))
            change = TotalsChange()
            change.started(source_id)
            change.apply(connection)
            return to_run(self._row(connection, run_id))

    def adopt(self, run_id: str, *, source_id: str, holder: str | None) -> RunRecord | None:
        """Take over a run recorded `queued` for this source and lease holder, as its process begins it: its
        start time becomes now and its queued mark goes. None when there is no run with this id (the caller
        starts one); RunAlreadyFinishedError when it was finished meanwhile (e.g. abandoned after a lost lease);
        InvalidStateValueError when it is another source's or holder's run."""
        with self._db.begin() as connection:
            row = connection.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
            if row is None:
                return None
            if (row["source_id"], row["holder"]) != (source_id, holder):
                raise InvalidStateValueError("run", run_id, allowed=(f"a run of {source_id} held by {holder}",))
            done = connection.execute(
                update(runs)
                .where(runs.c.id == run_id, runs.c.status == "running")
                .values(started_at=utcnow(), report=null())
            )
            if done.rowcount != 1:
                raise RunAlreadyFinishedError(run_id, status=self._row(connection, run_id)["status"])
            return to_run(self._row(connection, run_id))

    def finish(self, run_id: str, outcome: RunOutcome, *, finished_at: datetime | None = None) -> RunRecord:
        """Record a run's final status, counts, HTTP stats, error and report; a run finishes once."""
        _check("status", outcome.status, FINAL_STATUSES)
        message = outcome.error_message
        values = {
            "status": outcome.status,
            "finished_at": finished_at or utcnow(),
            **asdict(outcome.counts),
            "http": outcome.http,
            "error_type": outcome.error_type,
            "error_message": message[:MAX_ERROR_CHARS] if message else message,
            "report": outcome.report,
        }
        with self._db.begin() as connection:
            row = self._row(connection, run_id)
            if row["status"] != "running":
                raise RunAlreadyFinishedError(run_id, status=row["status"])
            done = connection.execute(
                update(runs).where(runs.c.id == run_id, runs.c.status == "running").values(**values)
            )
            if done.rowcount != 1:  # finished by another process between our read and write
                raise RunAlreadyFinishedError(run_id, status=self._row(connection, run_id)["status"])
            change = TotalsChange()
            change.finished(row["source_id"], outcome.status, started_at=row["started_at"],
                            finished_at=values["finished_at"])  # fmt: skip
            change.http_replaced(row["source_id"], row["http"], outcome.http)
            change.apply(connection)
            return to_run(self._row(connection, run_id))

    def get(self, run_id: str) -> RunRecord:
        """One run; StateNotFoundError when there is none with this id."""
        with self._db.begin() as connection:
            return to_run(self._row(connection, run_id))

    def find(
        self,
        *,
        source_id: str | None = None,
        status: str | None = None,
        before: str | None = None,
        since: datetime | None = None,
        limit: int = 50,
    ) -> list[RunRecord]:
        """Runs newest first, by source, status and start time (`since`: started at or after it); pass the last
        run's id as `before` for the next page. The filters and the limit are all in the SQL."""
        if status is not None:
            _check("status", status, STATUSES)
        query = select(runs).order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(max(1, limit))
        if source_id is not None:
            query = query.where(runs.c.source_id == source_id)
        if status is not None:
            query = query.where(runs.c.status == status)
        if since is not None:
            query = query.where(runs.c.started_at >= since)
        with self._db.begin() as connection:
            if before is not None:
                edge = self._row(connection, before)
                query = query.where(
                    or_(
                        runs.c.started_at < edge["started_at"],
                        and_(runs.c.started_at == edge["started_at"], runs.c.id < edge["id"]),
                    )
                )
            return [to_run(row) for row in connection.execute(query).mappings()]

    def latest_per_source(self) -> dict[str, RunRecord]:
        """The most recently started run of every source that has run at all."""
        ranked = select(
            runs,
            func.row_number()
            .over(partition_by=runs.c.source_id, order_by=(runs.c.started_at.desc(), runs.c.id.desc()))
            .label("rank"),
        ).subquery()
        query = select(ranked).where(ranked.c.rank == 1)
        with self._db.begin() as connection:
            return {row["source_id"]: to_run(row) for row in connection.execute(query).mappings()}

    def count_by_status(self) -> dict[tuple[str, str], int]:
        """(source id, status) -> how many runs, over the whole history: read from the run totals (a few rows a
        source, however many runs are stored)."""
        with self._db.begin() as connection:
            return run_totals.count_by_status(connection)

    def http_errors_by_status(self) -> dict[tuple[str, str], int]:
        """(source id, HTTP status) -> failed harvest requests over the whole history, summed from each run's
        `http.errors_by_status` (a run without it, or a count that is not a whole number, adds none); read from
        the run totals."""
        with self._db.begin() as connection:
            return run_totals.http_errors_by_status(connection)

    def duration_histograms(self, edges: Sequence[float] = DURATION_EDGES) -> dict[str, DurationHistogram]:
        """Finished runs' durations by source: for each edge, how many took at most that many seconds, with the
        count and the sum of all; read from the run totals, which count the edges of DURATION_EDGES (another
        edge raises ValueError)."""
        with self._db.begin() as connection:
            return run_totals.duration_histograms(connection, edges)

    def save_progress(self, source_id: str, holder: str, progress: RunProgressNote) -> bool:
        """Store how far a running run has got (its counts, and the note in its report), so that a run whose
        process dies keeps them; False when no run of this holder is running."""
        values = {"fetched": progress.fetched, "rejected": progress.rejected, "report": {"progress": asdict(progress)}}
        query = update(runs).where(runs.c.source_id == source_id, runs.c.holder == holder, runs.c.status == "running")
        with self._db.begin() as connection:
            return bool(connection.execute(query.values(**values)).rowcount)

    def abandon_unfinished(self, source_id: str, *, reason: str, keep: str | None = None) -> int:
        """Mark a source's runs still `running` (their process died) as failed; returns how many.

        Call it right after taking the source's lease over: whoever held it before is gone. Each run keeps
        the counts it had stored, and its message says who held it and how far it got.
        """
        query = select(runs).where(runs.c.source_id == source_id, runs.c.status == "running")
        if keep is not None:
            query = query.where(runs.c.id != keep)
        now = utcnow()
        change = TotalsChange()
        with self._db.begin() as connection:
            left = [to_run(row) for row in connection.execute(query).mappings()]
            for run in left:
                values = {"status": "failed", "finished_at": now, "error_type": "RunAbandoned",
                          "error_message": _abandoned(run, reason)[:MAX_ERROR_CHARS]}  # fmt: skip
                done = connection.execute(
                    update(runs).where(runs.c.id == run.id, runs.c.status == "running").values(**values)
                )
                if done.rowcount == 1:  # not finished meanwhile by its own process
                    change.finished(source_id, "failed", started_at=run.started_at, finished_at=now)
            change.apply(connection)
        if left:
            logger.warning("marked %d unfinished run(s) of %s as failed: %s", len(left), source_id, reason)
        return len(left)


@dataclass(frozen=True)
class RunProgressNote:
    """How far a running run has got, as it stores it every few seconds (`RunLog.save_progress`)."""

    phase: str
    fetched: int
    rejected: int
    written: int
    at: str
    """When (ISO 8601, UTC)."""


QUEUED = "queued"
"""The progress phase of a run recorded before its process began it (`RunLog.start(queued=True)`)."""


def _progress_phase(report: Any) -> Any:
    note = report.get("progress") if isinstance(report, dict) else None
    return note.get("phase") if isinstance(note, dict) else None


def _abandoned(run: RunRecord, reason: str) -> str:
    """The message of an abandoned run: the reason, its holder, and the progress it last stored."""
    held = f" (held by {run.holder})" if run.holder else ""
    note = (run.report or {}).get("progress") if isinstance(run.report, dict) else None
    if not isinstance(note, dict):
        return f"{reason}{held}; it stored no progress"
    if run.queued:
        return f"{reason}{held}; it never began (queued since {note.get('at')})"
    return (
        f"{reason}{held}; when last heard from ({note.get('at')}, {note.get('phase')}) it had fetched "
        f"{note.get('fetched')} records, {note.get('rejected')} rejected, {note.get('written')} written to the index"
    )
