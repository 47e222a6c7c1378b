"""The health endpoint: is the index readable, how many records it holds, which backend and version, and which
text analysis the index holds (an older one is caught up, or needs `edufed reindex`), and which record linkage
rules linked it (older ones need `edufed reindex --links-only`), and which theme rules classified its records (other
ones need `edufed reindex --themes-only`)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from indexer.analysis_version import index_analysis
from indexer.errors import IndexBackendError
from indexer.linkage.version import index_linkage
from indexer.themes_version import index_themes, themes_version
from search_api.http.schemas import HealthResponse
from search_api.routes.search import catalogue
from search_api.services.catalogue import Catalogue

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["health"])


@router.get("/health", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
def health(request: Request, cat: Annotated[Catalogue, Depends(catalogue)]) -> JSONResponse:
    """ok with the record count, or 503 with status error when the index cannot be read."""
    body = {"status": "ok", "records": None, "backend": request.app.state.backend_name,
            "version": request.app.state.version}  # fmt: skip
    try:
        analysis = index_analysis(cat.backend)
        # the analysis state counts the records too (its `total`, in the same snapshot): one count, not two (each
        # some milliseconds at a million records)
        body["records"] = analysis.total if analysis is not None else cat.backend.count()
        body["analysis"] = analysis.as_dict() if analysis is not None else None
        linkage = index_linkage(cat.backend)  # one read of meta; the records are counted only when it is older
        body["linkage"] = linkage.as_dict() if linkage is not None else None
        themes = index_themes(cat.backend, ours=themes_version(request.app.state.themes))  # counted when older
        body["themes"] = themes.as_dict() if themes is not None else None
    except IndexBackendError as exc:
        logger.error("health check cannot read the index: %s", exc)
        body["status"] = "error"
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)
