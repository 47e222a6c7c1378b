"""`GET /metrics`: the Prometheus text exposition of harvest and HTTP metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from search_api.services.metrics import AppMetrics

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Runs by source and status, records, freshness, run durations, HTTP errors, pending held deletions."""
    found: AppMetrics = request.app.state.metrics
    return Response(found.render(), media_type=CONTENT_TYPE_LATEST)
