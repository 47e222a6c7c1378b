"""What admins see and do, shared by the admin API and the admin pages: source health, runs, holds, actions.

Every change goes through here, so each one is written to the audit log with the acting key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from config.settings import SchedulerSettings
from crawlers import HarvestScheduler, SourceBusyError, apply_hold, reject_hold
from crawlers.state import (
    HeldDeletion,
    HoldAlreadyDecidedError,
    InvalidStateValueError,
    QuarantinedRecord,
    RunRecord,
    SourceHealth,
    StateNotFoundError,
    StateStore,
    StoredSource,
)
from indexer.backends.base import IndexBackend
from search_api.http.auth import Principal
from search_api.http.errors import ApiError, InvalidRequestError, NotFoundError, ProblemDetail
from search_api.pages.admin_format import key_name
from search_api.services.source_actions import ensure_not_deleted, is_deleted

Light = Literal["red", "amber", "green"]
LIGHT_RANK = {"red": 0, "amber": 1, "green": 2}


@dataclass(frozen=True)
class SourceRow:
    """One line of the admin sources table."""

    source: StoredSource
    health: SourceHealth
    light: Light
    reason: str
    next_run_at: datetime | None
    stale_after_seconds: float
    pending_holds: int

    def to_dict(self) -> dict[str, Any]:
        h, s = self.health, self.source
        return {
            "id": s.id, "name": s.name, "platform": s.platform, "kind": s.kind,
            "enabled": s.enabled, "paused": s.paused, "running": h.running,
            "status": self.light, "status_reason": self.reason,
            "last_run": run_summary(h.last_run) if h.last_run else None,
            "last_success_at": _iso(h.last_success_at), "freshness_seconds": h.freshness_seconds,
            "consecutive_failures": h.consecutive_failures, "next_run_at": _iso(self.next_run_at),
            "stale_after_seconds": self.stale_after_seconds, "pending_holds": self.pending_holds,
        }  # fmt: skip


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def light_of(
    source: StoredSource, health: SourceHealth, *, stale_after: float, pending_holds: int, alert_after: int
) -> tuple[Light, str]:
    """Red, amber or green, with the reason in Chinese (the first rule that matches wins)."""
    fresh = health.freshness_seconds
    if health.consecutive_failures >= alert_after:
        return "red", f"连续 {health.consecutive_failures} 次失败"
    if fresh is not None and fresh > stale_after and not source.paused:
        return "red", "数据过期"
    if health.consecutive_failures or (health.last_run is not None and health.last_run.status == "failed"):
        return "red", "最近一次采集失败"
    if source.paused:
        return "amber", "已暂停"
    if pending_holds:
        return "amber", "有待审批的删除"
    if health.last_run is None:
        return "amber", "尚未采集"
    if health.last_run.status == "partial":
        rejected = _few_rejected(health.last_run)
        if rejected:
            return "green", f"正常（{rejected} 条记录数据有误，未收录）"
        return "amber", "部分记录被拒收或列表不完整"
    return "green", "正常"


FEW_REJECTED_SHARE = 0.1
"""A complete run that refused at most this share of what it fetched (a platform's few broken items, e.g. the
demo's deliberate ones) and warned of nothing else is green: nothing for the admin on call to do; the run itself
still says 部分成功 and its rejections wait in quarantine for the operator."""


def _few_rejected(run: RunRecord) -> int:
    """How many records a partial run refused, when that is its only problem and a small share; else 0."""
    report = run.report or {}
    counts = run.counts
    only_rejections = not report.get("warning_count") and report.get("incomplete") is None
    if only_rejections and 0 < counts.rejected <= FEW_REJECTED_SHARE * counts.fetched:
        return counts.rejected
    return 0


def source_rows(
    store: StateStore, *, scheduler: HarvestScheduler | None, settings: SchedulerSettings
) -> list[SourceRow]:
    """Every registered source with its health and traffic light, by id; deleted ones (withdrawal approved) left out."""
    sources = [s for s in store.sources.find() if not is_deleted(store, s.id)]
    health = store.health([s.id for s in sources])
    pending: dict[str, int] = {}
    for hold in store.holds.find(status="pending", limit=1000):
        pending[hold.source_id] = pending.get(hold.source_id, 0) + 1
    rows = []
    for source in sources:
        stale_after = (source.config.schedule.stale_after_hours or settings.stale_after_hours) * 3600
        light, reason = light_of(source, health[source.id], stale_after=stale_after,
                                 pending_holds=pending.get(source.id, 0),
                                 alert_after=settings.alert_after_failures)  # fmt: skip
        next_run = scheduler.next_run_time(source.id) if scheduler is not None else None
        rows.append(SourceRow(source, health[source.id], light, reason, next_run, stale_after,
                              pending.get(source.id, 0)))  # fmt: skip
    return rows


def _failing(row: SourceRow) -> int:
    """0 for a source whose last run failed (it leads the list), 1 otherwise."""
    last = row.health.last_run
    return 0 if row.health.consecutive_failures or (last is not None and last.status == "failed") else 1


def sort_rows(rows: list[SourceRow], *, key: str) -> list[SourceRow]:
    """Rows by health (worst first: failing before stale, then amber), by freshness (stalest first,
    never-harvested first) or by id."""
    if key == "health":
        return sorted(rows, key=lambda r: (LIGHT_RANK[r.light], _failing(r),
                                           -(r.health.freshness_seconds or float("inf"))))  # fmt: skip
    if key == "freshness":
        return sorted(rows, key=lambda r: -(r.health.freshness_seconds or float("inf")))
    return sorted(rows, key=lambda r: r.source.id)


def run_summary(run: RunRecord) -> dict[str, Any]:
    """A run as a list shows it."""
    return {
        "id": run.id, "source_id": run.source_id, "trigger": run.trigger, "status": run.status,
        "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at),
        "duration_seconds": run.duration_seconds, "counts": vars(run.counts).copy(),
        "links": {"self": f"/api/v1/runs/{run.id}", "page": f"/admin/runs/{run.id}"},
    }  # fmt: skip


def run_details(run: RunRecord) -> dict[str, Any]:
    """A run with everything recorded about it and a link to the records it rejected."""
    data = run_summary(run)
    data["holder"] = run.holder
    data["http"] = run.http
    data["error"] = {"type": run.error_type, "message": run.error_message} if run.error_type else None
    data["report"] = run.report
    data["links"]["rejected"] = f"/api/v1/quarantine?run={run.id}"
    return data


def hold_dict(hold: HeldDeletion) -> dict[str, Any]:
    """A held deletion as the API shows it."""
    return {
        "id": hold.id, "run_id": hold.run_id, "source_id": hold.source_id, "uid_count": len(hold.uids),
        "uids": hold.uids, "reason": hold.reason, "status": hold.status, "created_at": _iso(hold.created_at),
        "decided_by": hold.decided_by, "decided_at": _iso(hold.decided_at),
    }  # fmt: skip


def quarantined_dict(item: QuarantinedRecord) -> dict[str, Any]:
    """A rejected record with its reason and raw payload."""
    return {"id": item.id, "run_id": item.run_id, "source_id": item.source_id, "item_id": item.item_id,
            "reason": item.reason, "payload": item.payload, "created_at": _iso(item.created_at)}  # fmt: skip


def actor_of(principal: Principal) -> str:
    """How the audit log names a key."""
    return f"key:{principal.key_id}"


def get_source(store: StateStore, source_id: str) -> StoredSource:
    """A registered source, or 404."""
    try:
        return store.sources.get(source_id)
    except StateNotFoundError as exc:
        raise NotFoundError(f"no source {source_id!r}") from exc


def get_run(store: StateStore, run_id: str) -> RunRecord:
    """A run, or 404."""
    try:
        return store.runs.get(run_id)
    except StateNotFoundError as exc:
        raise NotFoundError(f"no run {run_id!r}") from exc


def find_runs(store: StateStore, *, source_id: str | None, status: str | None, before: str | None,
              limit: int) -> list[RunRecord]:  # fmt: skip
    """Runs newest first; a bad status or page mark is a 422 naming the parameter."""
    try:
        return store.runs.find(source_id=source_id, status=status, before=before, limit=limit)
    except InvalidStateValueError as exc:
        raise InvalidRequestError("invalid run filter", details=[ProblemDetail("status", str(exc))]) from exc
    except StateNotFoundError as exc:
        raise InvalidRequestError("invalid page mark", details=[ProblemDetail("before", str(exc))]) from exc


def require_scheduler(scheduler: HarvestScheduler | None) -> HarvestScheduler:
    """The running scheduler, or 503."""
    if scheduler is None:
        raise ApiError(503, "scheduler_unavailable", "the harvest scheduler does not run in this service")
    return scheduler


def start_run(
    store: StateStore, scheduler: HarvestScheduler | None, source_id: str, *, actor: str, live_ok: bool
) -> dict[str, Any]:
    """Run a source now: 409 while a run of it is going; the run's id at once (the scheduler records the run
    before its harvest process begins, so `links.run` answers straight away, status running).

    A source its operator has not enabled yet is run only with `live_ok` (its records go live to learners);
    without it, a 409 `not_enabled` pointing at the dry-run: the API's `confirm_live=true` and the admin page's
    confirmation box are the one way to say yes."""
    source = get_source(store, source_id)
    ensure_not_deleted(store, source_id)  # a source waiting for (or past) its deletion is not harvested again
    if not source.enabled and not live_ok:
        message = (
            f"{source_id} is not enabled yet: running it now publishes its records to learners at once. "
            "Preview it without publishing (dry-run), enable it, or confirm with confirm_live=true"
        )
        dry_run = ProblemDetail("dry_run", f"POST /api/v1/sources/{source_id}/dry-run previews it, publishing nothing")
        confirm = ProblemDetail("confirm_live", "true runs it now and its records go live")
        raise ApiError(409, "not_enabled", message, [dry_run, confirm])
    running = require_scheduler(None if scheduler is None or scheduler.stopping.is_set() else scheduler)
    try:
        run = running.run_now(source_id, trigger="manual")
    except SourceBusyError as exc:
        raise ApiError(409, "run_in_progress", f"a run of {source_id} is already going") from exc
    details: dict[str, Any] = {"holder": run.holder, "run_id": run.id}
    if not source.enabled:
        details["confirmed_live"] = True  # the admin said yes to publishing a source not enabled yet
    store.audit.record(actor=actor, action="source.run", target=source_id, details=details)
    return {"source_id": source_id, "run_id": run.id, "status": run.status, "links": {"run": f"/api/v1/runs/{run.id}"}}


def set_paused(
    store: StateStore, scheduler: HarvestScheduler | None, source_id: str, *, paused: bool, actor: str
) -> StoredSource:
    """Pause or resume a source and its job; written to the audit log."""
    get_source(store, source_id)
    if scheduler is not None:
        source = scheduler.pause(source_id) if paused else scheduler.resume(source_id)
    else:  # another process's scheduler picks the switch up from the database
        source = store.sources.set_paused(source_id, paused)
    store.audit.record(actor=actor, action="source.pause" if paused else "source.resume", target=source_id)
    return source


def set_enabled(
    store: StateStore, scheduler: HarvestScheduler | None, source_id: str, *, enabled: bool, actor: str
) -> StoredSource:
    """Enable (schedule it; its records go live) or disable a source, audited; 404 for an unknown source."""
    source = get_source(store, source_id)
    ensure_not_deleted(store, source_id)
    changed = store.sources.replace(source.config.model_copy(update={"enabled": enabled}))
    if scheduler is not None:
        scheduler.sync()
    store.audit.record(actor=actor, action="source.enable" if enabled else "source.disable", target=source_id)
    return changed


def key_names(store: StateStore) -> dict[str, str]:
    """Every key's id to the words an admin knows it by (label, role, platform), for hold reasons and decisions."""
    return {info.id: key_name(info.label, info.role, info.platform) for info in store.keys.find(include_revoked=True)}


def decide_hold(store: StateStore, backend: IndexBackend, hold_id: int, *, approve: bool, actor: str) -> HeldDeletion:
    """Approve (withdraw the held records) or reject (keep them) a held deletion, audited; 404 / 409 as fitting."""
    try:
        if approve:
            return apply_hold(store, backend, hold_id, actor=actor)
        return reject_hold(store, hold_id, actor=actor)
    except StateNotFoundError as exc:
        raise NotFoundError(f"no held deletion {hold_id}") from exc
    except HoldAlreadyDecidedError as exc:
        raise ApiError(409, "already_decided", f"held deletion {hold_id} was already {exc.status}") from exc
