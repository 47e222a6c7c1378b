"""/sitemap.xml (an index of child sitemaps listing every live record page) and /robots.txt, for search engines."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response

from indexer.backends.changes import stamp_time
from search_api.http.errors import NotFoundError
from search_api.http.harvesting import conditional, public_base, refused
from search_api.services.sitemaps import MAX_URLS, SitemapPlans, render_child, render_index, render_pages

router = APIRouter(include_in_schema=False)  # XML and plain text: documented in the README
XML = "application/xml; charset=utf-8"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_CHILD_NUMBER_CHARS = 9

ROBOTS = """User-agent: *
Allow: /
Disallow: /?
Disallow: /api/
Disallow: /admin
Disallow: /operator
Disallow: /oai

Sitemap: {base}/sitemap.xml
"""
"""Record pages, feeds and the sitemaps are for crawlers; search result pages (an endless space of queries),
the JSON API, OAI-PMH (harvesters speak it directly) and the staff pages are not."""


def _plans(request: Request) -> SitemapPlans:
    """The app's sitemap plans; `app.state.sitemap_urls_per_child` (default 50,000) sizes the children."""
    state: Any = request.app.state
    plans = getattr(state, "sitemap_plans", None)
    if plans is None:
        per_child = getattr(state, "sitemap_urls_per_child", MAX_URLS)
        plans = state.sitemap_plans = SitemapPlans(state.catalogue.backend, per_child=min(per_child, MAX_URLS))
    return plans  # type: ignore[no-any-return]


@router.get("/sitemap.xml")
async def sitemap_index(request: Request) -> Response:
    """The sitemap index: the site's pages, then the record pages, 50,000 to a child at most."""
    if (limited := refused(request)) is not None:
        return limited
    base = public_base(request)
    plan = await run_in_threadpool(_plans(request).current, base)
    newest = max((child.newest for child in plan.children), default=None)
    modified = stamp_time(newest) if newest is not None else _EPOCH
    return conditional(request, render_index(plan, base=base), media_type=XML, last_modified=modified)


@router.get("/sitemaps/pages.xml")
async def pages_sitemap(request: Request) -> Response:
    """The site's own pages (the search page)."""
    if (limited := refused(request)) is not None:
        return limited
    return conditional(request, render_pages(public_base(request)), media_type=XML, last_modified=_EPOCH)


@router.get("/sitemaps/records-{number}.xml")
async def records_sitemap(request: Request, number: str) -> Response:
    """Child `number` (from 1) of the record pages, as the index lists it."""
    if (limited := refused(request)) is not None:
        return limited
    base = public_base(request)
    plan = await run_in_threadpool(_plans(request).current, base)
    if not (number.isdigit() and len(number) <= _MAX_CHILD_NUMBER_CHARS and 1 <= int(number) <= len(plan.children)):
        raise NotFoundError("no such sitemap; /sitemap.xml lists them")
    child = plan.children[int(number) - 1]
    body = await run_in_threadpool(render_child, _plans(request).backend, child, base=base, until=plan.until)
    return conditional(request, body, media_type=XML, last_modified=stamp_time(child.newest))


@router.get("/robots.txt")
async def robots(request: Request) -> Response:
    """What crawlers may fetch, and where the sitemap is."""
    return PlainTextResponse(ROBOTS.format(base=public_base(request)))
