"""The search and suggest endpoints of the JSON API."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.routing import APIRoute
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from search_api.http.errors import InvalidRequestError, ProblemDetail
from search_api.http.json_bodies import ModelBody
from search_api.http.params import SearchParams, build_query, clean_query_text, quick_search_params, search_params
from search_api.http.schemas import ERROR_RESPONSES, SearchResponse, SuggestResponse
from search_api.services.catalogue import Catalogue

router = APIRouter(prefix="/api/v1", tags=["search"])

MAX_SUGGESTIONS = 20
INLINE_SECONDS = 0.25
"""The longest search after which the next ones still run in the event loop's thread (SearchRunner): far longer
than a search takes at a million records (common words' p99 ~15 ms in-process) even on a loaded machine, shorter
than a wait for the engine index (up to 10 s)."""
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
            return await search(request, params, request.app.state.catalogue)

        return handler


async def search(
    request: Request,
    params: Annotated[SearchParams, Depends(search_params)],
    cat: Annotated[Catalogue, Depends(catalogue)],
) -> Response:
    """Search the catalogue: free text (Chinese, traditional or pinyin) plus filters; empty q browses."""
    return await SearchRunner.of(request.app).run(_search, params, cat)


router.add_api_route("/search", search, methods=["GET"], response_model=SearchResponse, responses=ERROR_RESPONSES,
                     route_class_override=SearchRoute)  # fmt: skip


class SearchRunner:
    """Where the searches of one app run. On SQLite, in the event loop's own thread, one a turn of the loop, while
    each takes under INLINE_SECONDS; after one that took longer (waiting for the engine index to catch up with a
    write or for another process's rebuild, a first load, a machine short of cores) in AnyIO's worker threads, until
    a search there is quick again with no other in a thread, so that searches never run in both places at once.

    In the loop's thread a search needs no worker thread woken and waited for (~0.2 ms of a request at 100k
    records), and the searches of concurrent clients take turns instead of contending with the loop for the GIL:
    with 8 clients about as many requests a second, ~0.2-2 ms less CPU a request and a lower p99 (~55 ms instead
    of ~170 at 100k), though a higher p50 at 1M (quick searches wait their turn behind slow ones; bench/RESULTS.md,
    issue 17: searches in the event loop's thread). Meanwhile the loop reads no new request; one search a turn,
    the others waiting in line, lets what else is ready (a request read, a page's answer from its thread) run
    between two searches: a health request under 8 clients waited ~14 ms (p50) against ~20 beside threads, and ~60
    when every search read ran first.

    On Elasticsearch every search runs in a worker thread: it waits for the cluster's answer, and searches waiting
    in threads overlap."""

    def __init__(self, *, inline: bool) -> None:
        self.inline = inline
        self.threaded = not inline
        """Whether searches go to worker threads now: always without `inline`, else after a slow search."""
        self.in_threads = 0
        self.turn_taken = False
        """Whether a search holds the loop's thread for this turn of the loop (passed on at the next turn)."""
        self._waiting: deque[asyncio.Future[None]] = deque()

    @classmethod
    def of(cls, app: Starlette) -> SearchRunner:
        """The app's runner (made at its first search; an app is served by one event loop)."""
        runner: SearchRunner | None = getattr(app.state, "search_runner", None)
        if runner is None:
            runner = app.state.search_runner = cls(inline=app.state.backend_name == "sqlite")
        return runner

    async def run(self, search: Callable[[SearchParams, Catalogue], Response], params: SearchParams,
                  cat: Catalogue) -> Response:  # fmt: skip
        """`search(params, cat)`, here or in a worker thread."""
        if not self.threaded:
            if self.turn_taken:
                await self._wait_for_turn()
            else:
                self.turn_taken = True
            if not self.threaded:
                return self._here(search, params, cat)
            self._next_turn()  # threads from now on: the turn is not used
        return await self._in_thread(search, params, cat)

    async def _wait_for_turn(self) -> None:
        """Wait until the searches before this one have had their turns (each gives it to the next, _next_turn)."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # given the turn, then cancelled: pass it on
                self._next_turn()
            raise

    def _here(self, search: Callable[[SearchParams, Catalogue], Response], params: SearchParams,
              cat: Catalogue) -> Response:  # fmt: skip
        asyncio.get_running_loop().call_soon(self._next_turn)
        started = time.monotonic()
        try:
            return search(params, cat)
        finally:
            self.threaded = time.monotonic() - started > INLINE_SECONDS

    async def _in_thread(self, search: Callable[[SearchParams, Catalogue], Response], params: SearchParams,
                         cat: Catalogue) -> Response:  # fmt: skip
        self.in_threads += 1
        started = time.monotonic()
        try:
            return await run_in_threadpool(search, params, cat)
        finally:
            self.in_threads -= 1
            if self.inline and not self.in_threads and time.monotonic() - started <= INLINE_SECONDS:
                self.threaded = False

    def _next_turn(self) -> None:
        """The turn to the first search waiting for it (it runs at the loop's next turn), else to none."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():  # not cancelled meanwhile
                waiter.set_result(None)
                return
        self.turn_taken = False


def _search(params: SearchParams, cat: Catalogue) -> Response:
    query = build_query(params, limits=cat.limits)
    result = cat.search(query, merge=params.merges_duplicates)
    # Written here, where it searched: returned as a dict, the body would be checked against SearchResponse in a
    # worker-thread round trip (FastAPI's way for a plain function).
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
