"""Atom and RSS feeds: any search (/feeds/search.atom?q=…), and each theme, platform, region and programme."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from config.regions import region_table
from config.themes import THEMES
from indexer.backends.changes import ChangeQuery, now_stamp
from indexer.record import Record
from search_api.http.errors import NotFoundError, ProblemDetail
from search_api.http.harvesting import conditional, public_base, refused
from search_api.http.params import SearchParams, build_query, search_params
from search_api.pages.views import query_pairs
from search_api.routes.search import catalogue
from search_api.services.catalogue import Catalogue
from search_api.services.feeds import MEDIA_TYPES, FeedInfo, FeedKind, feed_updated, newest_first, render_feed

router = APIRouter(prefix="/feeds", include_in_schema=False)  # XML, not JSON: documented in the README

FEED_SIZE = 20
"""Entries of a feed when `size` is not given (at most `search.max_page_size`)."""
_HEADER_PAGE = 1000


def _kind(kind: str) -> FeedKind:
    if kind not in MEDIA_TYPES:
        raise NotFoundError("feeds are .atom or .rss", details=[ProblemDetail("format", kind[:20])])
    return kind  # type: ignore[return-value]


def _answer(request: Request, records: list[Record], *, info: FeedInfo, kind: FeedKind) -> Response:
    ordered = newest_first(records)
    body = render_feed(ordered, info=info, base=public_base(request), kind=kind)
    return conditional(request, body, media_type=MEDIA_TYPES[kind], last_modified=feed_updated(ordered))


def _searched(cat: Catalogue, params: SearchParams) -> list[Record]:
    """The newest records of a search: page one, sorted by newest, every record an entry of its own. None when no
    record of the search's theme holds any of its words: the page the search API then shows (the theme's courses,
    each lacking them) answers a learner now, while a feed is a standing search whose entries match it.

    `size` is checked against `search.max_page_size` as in the search API (422 above it).
    """
    size = params.size or min(FEED_SIZE, cat.limits.max_page_size)
    feed_params = replace(params, sort="newest", page=1, cursor=None, size=size)
    result = cat.search(build_query(feed_params, limits=cat.limits))
    return [] if result.theme_only else [hit.record for hit in result.hits]


def _filtered_feed(
    request: Request, cat: Catalogue, kind: FeedKind, params: SearchParams, *, title: str, subtitle: str
) -> Response:
    """The newest records under one filter (`params` holds just it: a theme, platform or region), rate limited like
    every public harvesting endpoint, linking back to the learner page with that filter."""
    if (limited := refused(request)) is not None:
        return limited
    records = _searched(cat, params)
    name, value = next((n, v[0]) for n, v in (("theme", params.theme), ("platform", params.platform),
                                               ("region", params.region)) if v)  # fmt: skip
    info = FeedInfo(
        title=f"终身学习课程：{title}",
        subtitle=subtitle,
        self_url=_self_url(request),
        page_url=f"{public_base(request)}/?{name}={quote(value)}",
    )
    return _answer(request, records, info=info, kind=kind)


def _self_url(request: Request) -> str:
    query = request.url.query
    return public_base(request) + request.url.path + (f"?{query}" if query else "")


@router.get("/search.{kind}")
def search_feed(
    request: Request,
    kind: str,
    params: Annotated[SearchParams, Depends(search_params)],
    cat: Annotated[Catalogue, Depends(catalogue)],
) -> Response:
    """Any search as a feed: the same parameters as /api/v1/search, newest records first."""
    feed_kind = _kind(kind)
    if (limited := refused(request)) is not None:
        return limited
    records = _searched(cat, params)
    pairs = [(k, v) for k, v in query_pairs(params) if k not in ("sort", "page", "size", "cursor")]
    words = "、".join(filter(None, [params.q, *params.theme, *params.platform]))
    info = FeedInfo(
        title=f"终身学习课程搜索：{words}" if words else "终身学习课程搜索：最新课程",
        subtitle="全国终身学习平台的课程，按更新时间排列，最新的在前。",
        self_url=_self_url(request),
        page_url=public_base(request) + "/" + (f"?{urlencode(pairs)}" if pairs else ""),
    )
    return _answer(request, records, info=info, kind=feed_kind)


@router.get("/themes/{theme}.{kind}")
def theme_feed(request: Request, theme: str, kind: str, cat: Annotated[Catalogue, Depends(catalogue)]) -> Response:
    """The newest records of one of the ten themes."""
    feed_kind = _kind(kind)
    if theme not in THEMES:
        raise NotFoundError("no such theme", details=[ProblemDetail("theme", theme[:64])])
    return _filtered_feed(
        request, cat, feed_kind, SearchParams(theme=(theme,)), title=theme, subtitle=f"“{theme}”主题的最新课程。"
    )


@router.get("/platforms/{platform}.{kind}")
def platform_feed(
    request: Request, platform: str, kind: str, cat: Annotated[Catalogue, Depends(catalogue)]
) -> Response:
    """The newest records of one platform."""
    feed_kind = _kind(kind)
    _known(cat, "platform", platform)
    name = cat.platforms.name(platform)
    return _filtered_feed(
        request, cat, feed_kind, SearchParams(platform=(platform,)), title=name, subtitle=f"{name}的最新课程。"
    )


@router.get("/regions/{region}.{kind}")
def region_feed(request: Request, region: str, kind: str, cat: Annotated[Catalogue, Depends(catalogue)]) -> Response:
    """The newest records of one province (广东, 广东省 or guangdong), or of the national platforms (全国)."""
    feed_kind = _kind(kind)
    short = region_table().canonical(region)
    province = region_table().province(short) if short else None
    if province is None:
        raise NotFoundError("no such region: a province or 全国", details=[ProblemDetail("region", region[:64])])
    national = province.short == "全国"
    subtitle = "全国性平台的最新课程。" if national else f"{province.name}的平台和机构的最新课程。"
    return _filtered_feed(
        request, cat, feed_kind, SearchParams(region=(province.short,)), title=province.name, subtitle=subtitle
    )


@router.get("/programmes/{programme}.{kind}")
def programme_feed(
    request: Request, programme: str, kind: str, cat: Annotated[Catalogue, Depends(catalogue)]
) -> Response:
    """The records of a programme (智慧助老, 能者为师 …) that edufed added or changed last."""
    feed_kind = _kind(kind)
    _known(cat, "programme", programme)
    if (limited := refused(request)) is not None:
        return limited
    records = _programme_records(cat, programme, FEED_SIZE)
    info = FeedInfo(
        title=f"终身学习课程：{programme}",
        subtitle=f"“{programme}”项目最新收录或更新的课程。",
        self_url=_self_url(request),
        page_url=f"{public_base(request)}/?q={quote(programme)}",
    )
    return _answer(request, records, info=info, kind=feed_kind)


def _known(cat: Catalogue, kind: str, value: str) -> None:
    """404 unless some record, live or withdrawn, ever held `value` (the change log's set values)."""
    if value not in cat.backend.change_sets().values.get(kind, []):
        raise NotFoundError(f"no such {kind}", details=[ProblemDetail(kind, value[:64])])


def _programme_records(cat: Catalogue, programme: str, size: int) -> list[Record]:
    """The live records of a programme with the latest change-log datestamps (the search has no programme filter)."""
    until = now_stamp()
    latest: list[str] = []
    after: tuple[int, str] | None = None
    while True:
        query = ChangeQuery(until=until, after=after, set_kind="programme", set_values=(programme,),
                            limit=_HEADER_PAGE, records=False)  # fmt: skip
        entries = cat.backend.changes(query)
        latest = (latest + [e.uid for e in entries if not e.deleted])[-size:]
        if len(entries) < _HEADER_PAGE:
            break
        after = (entries[-1].stamp, entries[-1].uid)
    found = (cat.get(uid) for uid in reversed(latest))
    return [record for record in found if record is not None]
