"""/embed: the cross-platform search as a compact page a member platform frames on its own site (用户互访)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from indexer.backends.base import SearchQuery
from search_api.http.errors import InvalidRequestError, ProblemDetail
from search_api.http.middleware import PAGE_POLICY
from search_api.http.params import clean_query_text
from search_api.services.catalogue import Catalogue

router = APIRouter(include_in_schema=False)  # a page: documented in the README
EMBED_RESULTS = 8
_PLATFORM = r"^[a-z][a-z0-9_]{1,62}$"


def frame_policy(origins: list[str]) -> str:
    """The page policy, framable by this site and the configured member platforms' origins only."""
    ancestors = " ".join(["'self'", *origins])
    return PAGE_POLICY.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")


@router.get("/embed")
async def embed(
    request: Request,
    platform: Annotated[str, Query(pattern=_PLATFORM, description="The member platform framing the widget.")],
    q: Annotated[str, Query()] = "",
) -> Response:
    """Search every platform; results open the course on its own platform in a new tab."""
    cat: Catalogue = request.app.state.catalogue
    if len(q) > cat.limits.max_query_chars:
        reason = f"at most {cat.limits.max_query_chars} characters"
        raise InvalidRequestError("q is too long", details=[ProblemDetail("q", reason)])
    text = clean_query_text(q)
    hits = []
    if text:
        query = SearchQuery(q=text, size=EMBED_RESULTS, with_facets=False)
        hits = (await run_in_threadpool(cat.search, query, merge=True)).hits
    settings = request.app.state.settings
    host_name = await run_in_threadpool(cat.platforms.name, platform)
    context = {"platform": platform, "q": text, "hits": hits, "host_name": host_name}
    response: Response = request.app.state.templates.TemplateResponse(request, "embed.html", context)
    response.headers["Content-Security-Policy"] = frame_policy(settings.embed.allowed_origins)
    return response
