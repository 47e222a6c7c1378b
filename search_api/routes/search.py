"""The search and suggest endpoints of the JSON API."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from search_api.http.errors import InvalidRequestError, ProblemDetail
from search_api.http.json_bodies import ModelBody
from search_api.http.params import SearchParams, build_query, clean_query_text, quick_search_params, search_params
from search_api.http.schemas import ERROR_RESPONSES, SearchResponse, SuggestResponse
from search_api.services.catalogue import Catalogue

router = APIRouter(prefix="/api/v1", tags=["search"])

MAX_SUGGESTIONS = 20
SEARCH_BODY = ModelBody(SearchResponse)
SUGGEST_BODY = ModelBody(SuggestResponse)


async def catalogue(request: Request) -> Catalogue:
    """FastAPI dependency: the app's Catalogue (async: a plain function would cost a worker-thread round trip)."""
    found: Catalogue = request.app.state.catalogue
    return found


class SearchRoute(APIRoute):
    """The search route: a query string `quick_search_params` reads (every parameter as FastAPI would take it) goes
    straight to the endpoint; any other is read by the route's declared parameters, so OpenAPI and the 422 bodies
    are FastAPI's own."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        declared = super().get_route_handler()

        async def handler(request: Request) -> Response:
            params = quick_search_params(request.query_params)
            if params is None:
                return await declared(request)
            return await search(params, request.app.state.catalogue)

        return handler


async def search(
    params: Annotated[SearchParams, Depends(search_params)],
    cat: Annotated[Catalogue, Depends(catalogue)],
) -> Response:
    """Search the catalogue: free text (Chinese, traditional or pinyin) plus filters; empty q browses."""
    return await run_in_threadpool(_search, params, cat)


router.add_api_route("/search", search, methods=["GET"], response_model=SearchResponse, responses=ERROR_RESPONSES,
                     route_class_override=SearchRoute)  # fmt: skip


def _search(params: SearchParams, cat: Catalogue) -> Response:
    query = build_query(params, limits=cat.limits)
    result = cat.search(query, merge=params.merges_duplicates)
    # Written here, in the worker thread that searched: returned as a dict, the body would be checked against
    # SearchResponse in one more worker-thread round trip (FastAPI's way for a plain function).
    return SEARCH_BODY.response(cat.response(result, query=query, page=params.page))


@router.get("/suggest", response_model=SuggestResponse, responses=ERROR_RESPONSES)
def suggest(
    cat: Annotated[Catalogue, Depends(catalogue)],
    q: Annotated[str, Query(description="What the learner has typed so far.")] = "",
    limit: Annotated[int, Query(description=f"Most suggestions, 1 to {MAX_SUGGESTIONS}.")] = 8,
) -> Response:
    """Titles that complete what has been typed, for the search box."""
    problems = []
    if len(q) > cat.limits.max_query_chars:
        problems.append(ProblemDetail("q", f"longer than {cat.limits.max_query_chars} characters ({len(q)})"))
    if not 1 <= limit <= MAX_SUGGESTIONS:
        problems.append(ProblemDetail("limit", f"must be between 1 and {MAX_SUGGESTIONS}"))
    if problems:
        raise InvalidRequestError("invalid suggest parameters", details=problems)
    text = clean_query_text(q)
    return SUGGEST_BODY.response({"q": text, "suggestions": cat.backend.suggest(text, limit) if text else []})
