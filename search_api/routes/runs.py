"""Run history for admins: runs by source and status, and one run's details (admin key)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from crawlers.state import StateStore
from search_api.http.auth import Principal, require_admin, state_store
from search_api.http.schemas import ROLE_ERROR_RESPONSES
from search_api.services import admin_actions as actions

router = APIRouter(prefix="/api/v1", tags=["admin"], responses=ROLE_ERROR_RESPONSES)


@router.get("/runs")
def runs(
    admin: Annotated[Principal, Depends(require_admin)],
    store: Annotated[StateStore, Depends(state_store)],
    status: Annotated[str | None, Query()] = None,
    source: Annotated[str | None, Query()] = None,
    before: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Runs newest first; pass the last id as `before` (it is `next_before`) for the next page."""
    found = actions.find_runs(store, source_id=source, status=status, before=before, limit=limit)
    return {"items": [actions.run_summary(run) for run in found],
            "next_before": found[-1].id if len(found) == limit else None}  # fmt: skip


@router.get("/runs/{run_id}")
def run(
    run_id: str,
    admin: Annotated[Principal, Depends(require_admin)],
    store: Annotated[StateStore, Depends(state_store)],
) -> dict[str, Any]:
    """A run: timing, trigger, status, counts, HTTP stats, its error and a link to its rejected records."""
    return actions.run_details(actions.get_run(store, run_id))
