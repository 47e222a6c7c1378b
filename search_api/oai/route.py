"""The /oai endpoint: OAI-PMH 2.0 over GET and POST, with a per-address request limit for harvesters."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from search_api.http.errors import ApiError
from search_api.http.ratelimit import SlidingWindow
from search_api.http.responses import error_for
from search_api.oai.verbs import OaiProvider

router = APIRouter()
XML = "text/xml; charset=UTF-8"
_FORM = "application/x-www-form-urlencoded"


def _provider(request: Request) -> tuple[OaiProvider, SlidingWindow]:
    """The app's provider and rate window, made on first use."""
    state: Any = request.app.state
    found = getattr(state, "oai", None)
    if found is None:
        settings = state.settings.oai
        provider = OaiProvider(state.catalogue.backend, settings, platform_name=state.catalogue.platforms.name)
        found = state.oai = (provider, SlidingWindow(settings.requests_per_minute, 60.0))
    return found  # type: ignore[no-any-return]


def _base_url(request: Request) -> str:
    public = request.app.state.settings.server.public_url
    return f"{public.rstrip('/')}/oai" if public else str(request.url.replace(query=""))


async def _answer(request: Request, pairs: list[tuple[str, str]]) -> Response:
    provider, window = _provider(request)
    wait = window.take(request.client.host if request.client else "unknown")
    if wait is not None:
        # OAI-PMH flow control (specification 3.1.2.2 / HTTP 503): harvesters wait Retry-After and go on
        seconds = max(1, math.ceil(wait))
        error = ApiError(503, "rate_limited", f"too many OAI-PMH requests from this address; retry in {seconds} s")
        return error_for(request.scope, error, headers={"Retry-After": str(seconds)})
    body = await run_in_threadpool(provider.respond, pairs, base_url=_base_url(request))
    return Response(body, media_type=XML)


@router.get("/oai", include_in_schema=False)
async def oai_get(request: Request) -> Response:
    """OAI-PMH request in the query string."""
    return await _answer(request, list(request.query_params.multi_items()))


@router.post("/oai", include_in_schema=False)
async def oai_post(request: Request) -> Response:
    """OAI-PMH request as a form body (application/x-www-form-urlencoded)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != _FORM:
        raise ApiError(415, "unsupported_media_type", f"an OAI-PMH POST sends its arguments as {_FORM}")
    body = (await request.body()).decode("utf-8", errors="replace")  # a bad byte makes a bad argument, not a 500
    return await _answer(request, parse_qsl(body, keep_blank_values=True))
