"""The learner pages: the search page at / and one page per record, server-rendered, no JavaScript needed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from search_api.http.errors import NotFoundError
from search_api.http.params import SearchParams, build_query, search_params
from search_api.pages.jsonld import course_jsonld, script_json
from search_api.pages.views import back_url, build_view
from search_api.routes.records import MAX_ID_CHARS
from search_api.routes.search import catalogue
from search_api.services.catalogue import Catalogue, search_item

router = APIRouter(include_in_schema=False)


def templates(request: Request) -> Jinja2Templates:
    """FastAPI dependency: the app's templates."""
    found: Jinja2Templates = request.app.state.templates
    return found


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    params: Annotated[SearchParams, Depends(search_params)],
    cat: Annotated[Catalogue, Depends(catalogue)],
    pages: Annotated[Jinja2Templates, Depends(templates)],
) -> HTMLResponse:
    """The search box, the ten theme chips, results with facets and paging; once a search is made, the results come
    first and the themes, sort and filters fold under one switch."""
    query = build_query(params, limits=cat.limits)
    result = cat.search(query, merge=params.merges_duplicates)
    view = build_view(
        params,
        result=result,
        items=[search_item(hit) for hit in result.hits],
        platform_name=cat.platforms.name,
        max_page=cat.limits.max_page,
        size=query.size,
    )
    searched = bool(query.q or view.active)
    return pages.TemplateResponse(request, "search.html", {"view": view, "searched": searched})


@router.get("/records/{record_id:path}", response_class=HTMLResponse)
def record_page(
    request: Request,
    record_id: str,
    cat: Annotated[Catalogue, Depends(catalogue)],
    pages: Annotated[Jinja2Templates, Depends(templates)],
) -> HTMLResponse:
    """A record's details, a big link to the course on its own platform, and schema.org JSON-LD.

    A record opened from a search carries that search's parameters, so "back" returns to the same results page.
    """
    record = cat.get(record_id) if len(record_id) <= MAX_ID_CHARS else None
    if record is None:
        raise NotFoundError("no record with this id")
    back = back_url(request.query_params.multi_items())
    context = {"record": record, "jsonld": script_json(course_jsonld(record)), "back": back}
    return pages.TemplateResponse(request, "record.html", context)
