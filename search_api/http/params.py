"""Request parameters shared by routes: the search parameters of the JSON API and the search page (declared for
OpenAPI, checked on limits), and the bounded integer every route takes for a state-database row id."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Literal, cast, get_args

import annotated_types
from fastapi import Query
from starlette.datastructures import QueryParams

from config.regions import region_table
from config.settings import SearchSettings
from config.source_models import MEDIA_TYPES, RECORD_TYPES
from config.themes import THEMES
from indexer.backends.base import SearchQuery
from search_api.http.errors import InvalidRequestError, ProblemDetail

MAX_VALUES_PER_FILTER = 20
MAX_FILTER_VALUE_CHARS = 64
MAX_CURSOR_CHARS = 2000
MAX_CURSOR_PAGE = 1_000_000
_PLATFORM_ID = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}

SortName = Literal["relevance", "newest", "popular"]

MAX_ROW_ID = 2**31 - 1
"""The largest row id the state database can hold: ids are SQL INTEGER columns, 32 bits on PostgreSQL (a larger
number, or one past 2**63 on SQLite, would fail inside the driver instead of being refused as a bad parameter)."""
RowId = Annotated[int, annotated_types.Interval(ge=1, le=MAX_ROW_ID)]
"""A path or query parameter naming a state-database row (a held deletion, a quarantined record): 1 to
MAX_ROW_ID, else 422 naming the parameter."""


@dataclass(frozen=True)
class SearchParams:
    """The search parameters as received (filter lists without empty values), before the limit checks."""

    q: str = ""
    theme: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    platform: tuple[str, ...] = ()
    type: tuple[str, ...] = ()
    media_type: tuple[str, ...] = ()
    region: tuple[str, ...] = ()
    free: str | None = None
    sort: SortName = "relevance"
    page: int = 1
    size: int | None = None
    cursor: str | None = None
    collapse: str | None = None

    @property
    def merges_duplicates(self) -> bool:
        """Whether the page leaves out hits an earlier hit lists in also_on (collapse=true, the default)."""
        return self.collapse is None or self.collapse.lower() not in _FALSE


def _values(raw: list[str] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in raw or [] if v.strip()))


async def search_params(
    q: Annotated[str, Query(description="Words to search for, in Chinese or pinyin. Empty: browse.")] = "",
    theme: Annotated[list[str] | None, Query(description=f"One of the ten themes: {' '.join(THEMES)}.")] = None,
    audience: Annotated[list[str] | None, Query(description="Audience, e.g. 老年人.")] = None,
    platform: Annotated[list[str] | None, Query(description="Platform id, e.g. le_ouchn.")] = None,
    type: Annotated[list[str] | None, Query(description=f"Record type: {', '.join(RECORD_TYPES)}.")] = None,
    media_type: Annotated[list[str] | None, Query(description=f"Media type: {', '.join(MEDIA_TYPES)}.")] = None,
    region: Annotated[
        list[str] | None,
        Query(
            description="Province the course or its platform belongs to: a short form (广东, 内蒙古), full name "
            "(广东省) or 全国 for the national platforms."
        ),
    ] = None,
    free: Annotated[str | None, Query(description="true: free courses only; false: paid only.")] = None,
    sort: Annotated[SortName, Query(description="relevance, newest or popular.")] = "relevance",
    page: Annotated[int, Query(description="Page number, from 1 (deep pages: use cursor).")] = 1,
    size: Annotated[int | None, Query(description="Results per page.")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
    collapse: Annotated[
        str | None,
        Query(
            description="true (default): the same course on several platforms is one item, its other "
            "platforms in also_on; false: every record is an item of its own."
        ),
    ] = None,
) -> SearchParams:
    """FastAPI dependency: the search parameters of a request (filters repeatable, e.g. theme=A&theme=B); async
    because it only reads, where a plain function would cost a worker-thread round trip per request."""
    lists = {"theme": theme, "audience": audience, "platform": platform, "type": type, "media_type": media_type,
             "region": region}  # fmt: skip
    return _received(q, lists, free=free, sort=sort, page=page, size=size, cursor=cursor, collapse=collapse)


def _received(
    q: str,
    lists: dict[str, list[str] | None],
    *,
    free: str | None,
    sort: SortName,
    page: int,
    size: int | None,
    cursor: str | None,
    collapse: str | None,
) -> SearchParams:
    return SearchParams(
        q=q,
        theme=_values(lists["theme"]),
        audience=_values(lists["audience"]),
        platform=_values(lists["platform"]),
        type=_values(lists["type"]),
        media_type=_values(lists["media_type"]),
        region=_values(lists["region"]),
        free=free.strip() if free and free.strip() else None,
        sort=sort,
        page=page,
        size=size,
        cursor=cursor or None,
        collapse=collapse.strip() if collapse and collapse.strip() else None,
    )


_FILTERS = ("theme", "audience", "platform", "type", "media_type", "region")
_SEARCH_NAMES = frozenset((*_FILTERS, "q", "free", "sort", "page", "size", "cursor", "collapse"))
_SORTS: frozenset[str] = frozenset(get_args(SortName))
_PLAIN_NUMBER = re.compile(r"[0-9]{1,9}")


def quick_search_params(query: QueryParams) -> SearchParams | None:
    """What `search_params` gives for a query string whose every parameter FastAPI takes as it is (only the
    declared names, sort one of its values, page and size plain decimal numbers), read without FastAPI's
    per-field validation (0.1-0.2 ms a request); None for any other query string, which the route then reads by
    its declared parameters (and answers 422 where they refuse it). Like FastAPI: a repeated single-valued
    parameter counts by its last value, an absent filter is no filter."""
    if not _SEARCH_NAMES.issuperset(query.keys()):
        return None
    sort, page, size = query.get("sort", "relevance"), query.get("page", "1"), query.get("size")
    numbers = (page,) if size is None else (page, size)
    if sort not in _SORTS or not all(_PLAIN_NUMBER.fullmatch(number) for number in numbers):
        return None
    return _received(
        query.get("q", ""),
        {name: query.getlist(name) for name in _FILTERS},
        free=query.get("free"),
        sort=cast(SortName, sort),
        page=int(page),
        size=None if size is None else int(size),
        cursor=query.get("cursor"),
        collapse=query.get("collapse"),
    )


def clean_query_text(text: str) -> str:
    """The query without control characters (NUL and friends) and surrounding space."""
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cs", "Co") else c for c in text).strip()


def build_query(params: SearchParams, *, limits: SearchSettings) -> SearchQuery:
    """The backend query for these parameters; raises InvalidRequestError listing every bad parameter."""
    problems = (
        _text_problems(params, limits=limits) + _filter_problems(params) + _paging_problems(params, limits=limits)
    )
    if params.cursor is not None and len(params.cursor) > MAX_CURSOR_CHARS:
        raise InvalidRequestError(
            "cursor is not valid",
            details=[ProblemDetail("cursor", "too long; pass next_cursor exactly as received")],
            status=400,
            code="bad_cursor",
        )
    if problems:
        raise InvalidRequestError("invalid search parameters", details=problems)
    return SearchQuery(
        q=clean_query_text(params.q),
        themes=params.theme,
        audience=params.audience,
        platforms=params.platform,
        media_types=params.media_type,
        record_types=params.type,
        regions=tuple(dict.fromkeys(region_table().canonical(v) or v for v in params.region)),
        is_free=_free(params.free),
        sort=params.sort,
        page=1 if params.cursor else params.page,
        size=params.size or limits.default_page_size,
        cursor=params.cursor,
    )


def _free(value: str | None) -> bool | None:
    return None if value is None else value.lower() in _TRUE


def _text_problems(params: SearchParams, *, limits: SearchSettings) -> list[ProblemDetail]:
    if len(params.q) > limits.max_query_chars:
        return [ProblemDetail("q", f"longer than {limits.max_query_chars} characters ({len(params.q)})")]
    return []


def _filter_problems(params: SearchParams) -> list[ProblemDetail]:
    problems: list[ProblemDetail] = []
    for name in ("theme", "audience", "platform", "type", "media_type", "region"):
        values: tuple[str, ...] = getattr(params, name)
        if len(values) > MAX_VALUES_PER_FILTER:
            problems.append(ProblemDetail(name, f"at most {MAX_VALUES_PER_FILTER} values"))
        if any(len(v) > MAX_FILTER_VALUE_CHARS for v in values):
            problems.append(ProblemDetail(name, f"a value is longer than {MAX_FILTER_VALUE_CHARS} characters"))
    problems += _unknown(params.theme, allowed=THEMES, field="theme", what="one of the ten themes")
    problems += _unknown(params.type, allowed=RECORD_TYPES, field="type", what="a record type")
    problems += _unknown(params.media_type, allowed=MEDIA_TYPES, field="media_type", what="a media type")
    unknown_regions = [v for v in params.region if region_table().canonical(v) is None]
    if unknown_regions:
        shown = ", ".join(unknown_regions)[:200]
        allowed = " ".join(p.short for p in region_table().every)
        problems.append(ProblemDetail("region", f"{shown} is not a province nor 全国; use one of: {allowed}"))
    bad_platforms = [p for p in params.platform if not _PLATFORM_ID.match(p)]
    if bad_platforms:
        problems.append(ProblemDetail("platform", f"not a platform id: {', '.join(bad_platforms)[:200]}"))
    for name in ("free", "collapse"):
        value = getattr(params, name)
        if value is not None and value.lower() not in _TRUE | _FALSE:
            problems.append(ProblemDetail(name, "must be true or false"))
    return problems


def _unknown(values: tuple[str, ...], *, allowed: tuple[str, ...], field: str, what: str) -> list[ProblemDetail]:
    unknown = [v for v in values if v not in allowed]
    if not unknown:
        return []
    shown = ", ".join(unknown)[:200]
    return [ProblemDetail(field, f"{shown!s} is not {what}; use one of: {', '.join(allowed)}")]


def _paging_problems(params: SearchParams, *, limits: SearchSettings) -> list[ProblemDetail]:
    problems: list[ProblemDetail] = []
    if params.size is not None and not 1 <= params.size <= limits.max_page_size:
        problems.append(ProblemDetail("size", f"must be between 1 and {limits.max_page_size}"))
    deepest = MAX_CURSOR_PAGE if params.cursor else limits.max_page
    if params.page < 1:
        problems.append(ProblemDetail("page", "must be 1 or more"))
    elif params.page > deepest:
        problems.append(ProblemDetail("page", f"deeper than page {limits.max_page}; follow next_cursor to go further"))
    return problems
