"""The admin API: sources with health, run now, pause and resume, held deletions, quarantine and record links
(admin key)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from crawlers import HarvestScheduler
from crawlers.state import InvalidStateValueError, StateStore
from search_api.http.auth import Principal, require_admin, state_store
from search_api.http.errors import InvalidRequestError, ProblemDetail
from search_api.http.params import RowId
from search_api.http.schemas import ROLE_ERROR_RESPONSES, ErrorResponse
from search_api.services import admin_actions as actions
from search_api.services import admin_links as links

router = APIRouter(prefix="/api/v1", tags=["admin"], responses=ROLE_ERROR_RESPONSES)

Admin = Annotated[Principal, Depends(require_admin)]
Store = Annotated[StateStore, Depends(state_store)]


def scheduler_of(request: Request) -> HarvestScheduler | None:
    """FastAPI dependency: the harvest scheduler of this service, if one runs."""
    found: HarvestScheduler | None = getattr(request.app.state, "scheduler", None)
    return found


Scheduler = Annotated[HarvestScheduler | None, Depends(scheduler_of)]
Uid = Annotated[str, Path(min_length=1, max_length=300, description="a record's uid")]


@router.get("/admin/sources")
def admin_sources(
    request: Request, admin: Admin, store: Store, scheduler: Scheduler,
    sort: Annotated[Literal["health", "freshness", "id"], Query()] = "health",
) -> dict[str, Any]:  # fmt: skip
    """Every source with last success, freshness, failure streak, next run and a red/amber/green status."""
    rows = actions.source_rows(store, scheduler=scheduler, settings=request.app.state.settings.scheduler)
    return {"items": [row.to_dict() for row in actions.sort_rows(rows, key=sort)]}


CONFIRM_LIVE = Query(
    description="Required (`true`) to run a source its operator has not enabled yet: its records "
    "go live to learners at once. Without it such a source is not run (409 `not_enabled`); "
    "`POST /api/v1/sources/{id}/dry-run` previews it without publishing anything."
)
RUN_NOW_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorResponse, "description": "A run of the source is going (`run_in_progress`), or the source is "
          "not enabled and `confirm_live=true` was not given (`not_enabled`; `details` links its dry-run)."},
}  # fmt: skip


@router.post("/sources/{source_id}/runs", status_code=202, responses=RUN_NOW_RESPONSES)
def run_now(source_id: str, admin: Admin, store: Store, scheduler: Scheduler,
            confirm_live: Annotated[bool, CONFIRM_LIVE] = False) -> JSONResponse:  # fmt: skip
    """Run a source now; 202 with the run's id. 409 while a run of it is going, and for a source not enabled
    yet unless `confirm_live=true` says its records may go live (the admin page asks the same)."""
    body = actions.start_run(store, scheduler, source_id, actor=actions.actor_of(admin), live_ok=confirm_live)
    headers = {"Location": body["links"]["run"]} if body["run_id"] else {}
    return JSONResponse(body, status_code=202, headers=headers)


@router.post("/sources/{source_id}/pause")
def pause(source_id: str, admin: Admin, store: Store, scheduler: Scheduler) -> dict[str, Any]:
    """Stop scheduling a source until it is resumed (a run going on finishes)."""
    source = actions.set_paused(store, scheduler, source_id, paused=True, actor=actions.actor_of(admin))
    return {"id": source.id, "paused": source.paused}


@router.post("/sources/{source_id}/resume")
def resume(source_id: str, admin: Admin, store: Store, scheduler: Scheduler) -> dict[str, Any]:
    """Schedule a paused source again, from now."""
    source = actions.set_paused(store, scheduler, source_id, paused=False, actor=actions.actor_of(admin))
    return {"id": source.id, "paused": source.paused}


@router.get("/holds")
def holds(
    admin: Admin, store: Store,
    status: Annotated[str | None, Query()] = "pending",
    source: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:  # fmt: skip
    """Held deletions newest first (pending ones by default; `status=` for others, empty for all)."""
    try:
        found = store.holds.find(source_id=source, status=status or None, limit=limit)
    except InvalidStateValueError as exc:
        raise InvalidRequestError("invalid hold filter", details=[ProblemDetail("status", str(exc))]) from exc
    return {"items": [actions.hold_dict(hold) for hold in found]}


@router.post("/holds/{hold_id}/approve")
def approve(request: Request, hold_id: RowId, admin: Admin, store: Store) -> dict[str, Any]:
    """Withdraw the held records from the catalogue."""
    backend = request.app.state.catalogue.backend
    hold = actions.decide_hold(store, backend, hold_id, approve=True, actor=actions.actor_of(admin))
    return actions.hold_dict(hold)


@router.post("/holds/{hold_id}/reject")
def reject(request: Request, hold_id: RowId, admin: Admin, store: Store) -> dict[str, Any]:
    """Keep the held records in the catalogue."""
    backend = request.app.state.catalogue.backend
    hold = actions.decide_hold(store, backend, hold_id, approve=False, actor=actions.actor_of(admin))
    return actions.hold_dict(hold)


@router.get("/quarantine")
def quarantine(
    admin: Admin, store: Store,
    source: Annotated[str | None, Query()] = None,
    run: Annotated[str | None, Query()] = None,
    before: Annotated[RowId | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:  # fmt: skip
    """Rejected records with their reasons and payloads, newest first; `next_before` pages on."""
    page = store.quarantine.page(source_id=source, run_id=run, before=before, limit=limit)
    return {"total": page.total, "items": [actions.quarantined_dict(item) for item in page.items],
            "next_before": page.next_before}  # fmt: skip


@router.get("/admin/records/{uid}/links")
def record_links(request: Request, uid: Uid, admin: Admin, store: Store) -> dict[str, Any]:
    """The record's cluster: its members on every platform, the evidence that linked them, admins' decisions."""
    return links.record_links(store, request.app.state.catalogue.backend, uid)


@router.post("/admin/records/{uid}/links")
def decide_link(request: Request, uid: Uid, body: links.LinkDecisionBody, admin: Admin, store: Store) -> dict[str, Any]:
    """Split the record from another (never the same course) or join them (always), audited, applied at once;
    the decision holds through later harvests and reindexes."""
    return links.decide_link(store, request.app.state.catalogue.backend, uid, other=body.other, kind=body.kind,
                             actor=actions.actor_of(admin), note=body.note)  # fmt: skip


@router.delete("/admin/records/{uid}/links/{other}")
def undo_link(request: Request, uid: Uid, other: Uid, admin: Admin, store: Store) -> dict[str, Any]:
    """Drop the decision on the pair: the matcher decides again."""
    return links.undo_link(store, request.app.state.catalogue.backend, uid, other=other,
                           actor=actions.actor_of(admin))  # fmt: skip
