"""The sources API: operators manage their own platform's sources (admins every platform), with dry-runs.

GET|POST /api/v1/sources                GET|PATCH|DELETE /api/v1/sources/{id}
POST /api/v1/sources/dry-run            POST /api/v1/sources/{id}/dry-run
GET /api/v1/sources/{id}/runs           GET /api/v1/sources/{id}/rejected
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from crawlers.state import StateStore
from indexer.pipeline import RecordBuilder
from search_api.http.auth import Principal, require_operator, state_store
from search_api.http.openapi import SOURCE_CONFIG, SOURCE_PATCH, source_body
from search_api.http.params import RowId
from search_api.http.ratelimit import DRY_RUN, REGISTER, RateLimits
from search_api.http.schemas import RATE_LIMITED_RESPONSES, ROLE_ERROR_RESPONSES
from search_api.services import source_actions as actions
from search_api.services.source_checks import LocalizedProblem, invalid

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["operator"], responses=ROLE_ERROR_RESPONSES)

Operator = Annotated[Principal, Depends(require_operator)]
Store = Annotated[StateStore, Depends(state_store)]


async def json_body(request: Request) -> Any:
    """The request's JSON body (size and nesting already checked by body_limits); 422 naming the problem."""
    body = await request.body()
    try:
        return json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        invalid([LocalizedProblem("request", f"the body is not valid JSON: {exc}", "请求内容不是有效的 JSON")])


Body = Annotated[Any, Depends(json_body)]


def rate_limits(request: Request) -> RateLimits:
    """The app's per-key rate limits (made on first use)."""
    limits: RateLimits | None = getattr(request.app.state, "rate_limits", None)
    if limits is None:
        limits = request.app.state.rate_limits = RateLimits(request.app.state.settings.operators)
    return limits


def record_builder(request: Request) -> RecordBuilder:
    """The app's record builder for dry-runs (built on first use from the theme table the app loaded)."""
    builder: RecordBuilder | None = getattr(request.app.state, "record_builder", None)
    if builder is None:
        builder = RecordBuilder(request.app.state.themes)
        request.app.state.record_builder = builder
    return builder


def sync_scheduler(request: Request) -> None:
    """Let this process's scheduler pick a change up now (others pick it up at their next sync)."""
    scheduler = getattr(request.app.state, "scheduler", None)
    if scheduler is not None:
        scheduler.sync()


@router.get("/sources")
def list_sources(operator: Operator, store: Store) -> dict[str, Any]:
    """The caller's sources (an admin's: every source), by id."""
    return {"items": [actions.source_dict(s) for s in actions.visible_sources(store, operator)]}


NEW_SOURCE = source_body(SOURCE_CONFIG, "The source's config; an operator's `platform` may be left out (theirs).")


@router.post("/sources", status_code=201, responses=RATE_LIMITED_RESPONSES, openapi_extra=NEW_SOURCE)
def create(request: Request, operator: Operator, store: Store, body: Body) -> JSONResponse:
    """Register a source of the caller's platform; 422 with every problem, 409 when the id is taken. The answer's
    `warnings` name other sources already harvesting the same feed URL (it is registered all the same)."""
    rate_limits(request).check(REGISTER, operator.key_id)
    source = actions.create_source(store, operator, body, settings=request.app.state.settings)
    sync_scheduler(request)
    location = {"Location": f"/api/v1/sources/{source.id}"}
    answer = {**actions.source_dict(source), "warnings": actions.same_url_warnings(store, operator, source.config)}
    return JSONResponse(answer, status_code=201, headers=location)


@router.post("/sources/dry-run", responses=RATE_LIMITED_RESPONSES, openapi_extra=NEW_SOURCE)
def dry_run_unsaved(request: Request, operator: Operator, store: Store, body: Body) -> dict[str, Any]:
    """Preview a config that is not saved: the first items as records, with warnings and the request log;
    `same_url` names other sources already harvesting its feed URL."""
    rate_limits(request).check(DRY_RUN, operator.key_id)
    config = actions.config_for(operator, body)
    report = actions.preview(config, settings=request.app.state.settings, builder=record_builder(request))
    return {**report.to_dict(), "same_url": actions.same_url_warnings(store, operator, config)}


@router.get("/sources/{source_id}")
def read(source_id: str, operator: Operator, store: Store) -> dict[str, Any]:
    """One source with its config and health."""
    source = actions.owned_source(store, operator, source_id)
    body = actions.source_dict(source)
    health = store.health([source.id])[source.id]
    body["health"] = {"last_success_at": health.last_success_at.isoformat() if health.last_success_at else None,
                      "freshness_seconds": health.freshness_seconds, "running": health.running,
                      "consecutive_failures": health.consecutive_failures}  # fmt: skip
    return body


@router.patch("/sources/{source_id}", responses=RATE_LIMITED_RESPONSES,
              openapi_extra=source_body(SOURCE_PATCH, "Changes to the source's config."))  # fmt: skip
def update(request: Request, source_id: str, operator: Operator, store: Store, body: Body) -> dict[str, Any]:
    """Change a source by JSON merge patch (`{"enabled": true}` activates it); validated as a whole."""
    rate_limits(request).check(REGISTER, operator.key_id)
    source = actions.update_source(store, operator, source_id, body, settings=request.app.state.settings)
    sync_scheduler(request)
    return actions.source_dict(source)


@router.delete("/sources/{source_id}")
def delete(request: Request, source_id: str, operator: Operator, store: Store) -> JSONResponse:
    """Unregister a source without records (200), or disable one with records and hold their withdrawal for
    an admin's approval (202 with the hold), as a mass deletion is held; 409 for a source the configuration
    file defines (its block is removed there)."""
    actions.ensure_deletable(request.app.state.settings, source_id, request.app.state.file_source_ids)
    backend = request.app.state.catalogue.backend
    deletion = actions.delete_source(store, backend, operator, source_id)
    sync_scheduler(request)
    return JSONResponse(deletion.to_dict(), status_code=deletion.status_code)


@router.post("/sources/{source_id}/dry-run", responses=RATE_LIMITED_RESPONSES)
def dry_run_saved(request: Request, source_id: str, operator: Operator, store: Store) -> dict[str, Any]:
    """Preview a registered source as it is saved."""
    source = actions.owned_source(store, operator, source_id)
    rate_limits(request).check(DRY_RUN, operator.key_id)
    report = actions.preview(source.config, settings=request.app.state.settings, builder=record_builder(request))
    return report.to_dict()


@router.get("/sources/{source_id}/runs")
def source_runs(source_id: str, operator: Operator, store: Store,
                limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:  # fmt: skip
    """A source's runs, newest first."""
    source = actions.owned_source(store, operator, source_id)
    return {"items": actions.runs_dicts(store, source.id, limit=limit)}


@router.get("/sources/{source_id}/rejected")
def rejected(source_id: str, operator: Operator, store: Store,
             before: Annotated[RowId | None, Query()] = None,
             limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:  # fmt: skip
    """Records of this source that runs rejected, with the reasons, newest first."""
    source = actions.owned_source(store, operator, source_id)
    page = store.quarantine.page(source_id=source.id, before=before, limit=limit)
    items = [{"id": q.id, "run_id": q.run_id, "item_id": q.item_id, "reason": q.reason, "payload": q.payload,
              "created_at": q.created_at.isoformat()} for q in page.items]  # fmt: skip
    return {"total": page.total, "items": items, "next_before": page.next_before}
