"""The record endpoint of the JSON API: one full record by id."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from search_api.http.errors import NotFoundError, ProblemDetail
from search_api.http.schemas import ERROR_RESPONSES, RecordResponse
from search_api.routes.search import catalogue
from search_api.services.catalogue import Catalogue, record_body

router = APIRouter(prefix="/api/v1", tags=["records"])

MAX_ID_CHARS = 300


@router.get("/records/{record_id:path}", response_model=RecordResponse, responses=ERROR_RESPONSES)
def get_record(
    record_id: str,
    cat: Annotated[Catalogue, Depends(catalogue)],
    include: Annotated[Literal["raw"] | None, Query(description="raw: add the platform's raw payload.")] = None,
) -> JSONResponse:
    """One record with its lessons and theme evidence (and its raw payload with ?include=raw)."""
    record = cat.get(record_id) if len(record_id) <= MAX_ID_CHARS else None
    if record is None:
        raise NotFoundError("no record with this id", details=[ProblemDetail("id", record_id[:MAX_ID_CHARS])])
    return JSONResponse(record_body(record, include_raw=include == "raw"))
