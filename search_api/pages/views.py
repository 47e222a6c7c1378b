"""What the search page shows, computed from the parameters and a result: chips, facet links, paging links, the
count, and the search a record page links back to."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urlencode

from config.themes import THEMES
from indexer.backends.base import SearchResult
from search_api.http.params import SearchParams
from search_api.pages.labels import FREE_LABELS, SORT_LABELS, media_type_label

_LIST_FIELDS = ("theme", "audience", "platform", "region", "type", "media_type")
_BACK_FIELDS = frozenset({"q", *_LIST_FIELDS, "free", "sort", "size", "collapse", "page", "cursor"})
MAX_BACK_PAIRS = 40
MAX_BACK_VALUE_CHARS = 2000


@dataclass(frozen=True)
class Choice:
    """One link that changes the search: a theme chip, a facet value, a sort order or an active filter."""

    label: str
    url: str
    selected: bool = False
    count: int | None = None
    disabled: bool = False
    """Picking it would show nothing (a theme with no hit for the current search): shown, not linked."""


@dataclass
class FacetGroup:
    """A titled list of facet values, e.g. 平台 with one Choice per platform."""

    title: str
    name: str
    choices: list[Choice] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return any(c.selected for c in self.choices)


@dataclass
class SearchView:
    """Everything the search template needs besides the items."""

    params: SearchParams
    total: int
    items: list[dict[str, Any]]
    merged: int
    relaxed: bool
    theme_only: bool
    """No record of the chosen theme holds a word of the query: the items are the theme's records."""
    page: int
    count: int
    """The courses the headline counts: `total`, less the merged ones when the whole result is on this page."""
    last_page: int
    last_url: str | None
    """Set on a page past the end of a result that has some: the link to its last page."""
    back: str
    """The search as query pairs, appended to record links so a record page can link back to it."""
    themes: list[Choice]
    groups: list[FacetGroup]
    active: list[Choice]
    sorts: list[Choice]
    prev_url: str | None
    next_url: str | None
    first_url: str | None
    hidden: list[tuple[str, str]]

    @property
    def past_end(self) -> bool:
        """A page after the last one of a result that has courses."""
        return self.last_url is not None


def search_url(params: SearchParams, **changes: Any) -> str:
    """The page URL for these parameters with some changed; changing anything but page resets paging."""
    if not {"page", "cursor"} & set(changes):
        changes = {"page": 1, "cursor": None, **changes}
    pairs = paged_pairs(replace(params, **changes))
    return "/?" + urlencode(pairs) if pairs else "/"


def paged_pairs(params: SearchParams) -> list[tuple[str, str]]:
    """The parameters with the page or cursor: the exact page a learner is on."""
    pairs = query_pairs(params)
    if params.page > 1:
        pairs.append(("page", str(params.page)))
    if params.cursor:
        pairs.append(("cursor", params.cursor))
    return pairs


def back_url(pairs: Iterable[tuple[str, str]]) -> str | None:
    """The search page a record page was opened from, from the search's pairs in the record URL.

    Only search parameters are kept, and the link always stays on this site (it starts with "/?"); None when
    the record page was not opened from a search.
    """
    kept: list[tuple[str, str]] = []
    for name, value in pairs:
        if name in ("page", "size") and not (value.isascii() and value.isdigit()):
            continue  # a link back to a page that would only say "搜索条件有误" is no way back
        if name in _BACK_FIELDS and value and len(value) <= MAX_BACK_VALUE_CHARS:
            kept.append((name, value))
        if len(kept) >= MAX_BACK_PAIRS:
            break
    return "/?" + urlencode(kept) if kept else None


def query_pairs(params: SearchParams) -> list[tuple[str, str]]:
    """The parameters (without paging) as query pairs, the way a form sends them."""
    pairs: list[tuple[str, str]] = [("q", params.q)] if params.q else []
    for name in _LIST_FIELDS:
        pairs += [(name, v) for v in getattr(params, name)]
    if params.free:
        pairs.append(("free", params.free))
    if params.sort != "relevance":
        pairs.append(("sort", params.sort))
    if params.size:
        pairs.append(("size", str(params.size)))
    if params.collapse:
        pairs.append(("collapse", params.collapse))
    return pairs


def toggled(params: SearchParams, name: str, value: str) -> str:
    """URL with `value` added to (or removed from) the filter `name`."""
    values: tuple[str, ...] = getattr(params, name)
    new = tuple(v for v in values if v != value) if value in values else (*values, value)
    return search_url(params, **{name: new})


def record_url(uid: str) -> str:
    """Path of a record's page; the id is percent-encoded (platform ids may hold any character)."""
    return "/records/" + quote(uid, safe=":")


def build_view(
    params: SearchParams,
    *,
    result: SearchResult,
    items: list[dict[str, Any]],
    platform_name: Callable[[str], str],
    max_page: int,
    size: int,
) -> SearchView:
    """The search page's view of one result (`size`: results per page, as the query asked)."""
    facets = result.facets
    groups = [
        _group("平台", "platform", params, facets.get("platform", {}), label=platform_name),
        _group("地区", "region", params, facets.get("region", {}), label=str),
        _group("适合人群", "audience", params, facets.get("audience", {}), label=str),
        _group("课程形式", "media_type", params, facets.get("media_type", {}), label=media_type_label),
        _free_group(params, facets.get("is_free", {})),
    ]
    theme_counts = facets.get("theme", {})
    themes = [_theme_chip(params, t, theme_counts.get(t, 0)) for t in THEMES]
    prev_url, next_url, first_url = _paging(params, result=result, max_page=max_page)
    last_page = max(1, min(-(-result.total // max(size, 1)), max_page))
    past_end = not items and result.total > 0
    whole = params.page == 1 and next_url is None and not params.cursor  # merged hits are then off the count
    return SearchView(
        params=params,
        total=result.total,
        items=items,
        merged=result.merged,
        relaxed=result.relaxed,
        theme_only=result.theme_only,
        page=params.page,
        count=result.total - result.merged if whole else result.total,
        last_page=last_page,
        last_url=search_url(params, page=last_page, cursor=None) if past_end else None,
        back=urlencode(paged_pairs(params)),
        themes=themes,
        groups=[g for g in groups if g.choices],
        active=_active(params, platform_name=platform_name),
        sorts=[Choice(label, search_url(params, sort=s), params.sort == s) for s, label in SORT_LABELS.items()],
        prev_url=prev_url,
        next_url=next_url,
        first_url=first_url,
        hidden=[(k, v) for k, v in query_pairs(params) if k != "q"],
    )


def _theme_chip(params: SearchParams, theme: str, count: int) -> Choice:
    """A theme chip; one with no course for the current search is disabled rather than a way to an empty page."""
    selected = theme in params.theme
    return Choice(theme, toggled(params, "theme", theme), selected, count, disabled=not count and not selected)


def _group(
    title: str, name: str, params: SearchParams, counts: dict[str, int], *, label: Callable[[str], str]
) -> FacetGroup:
    selected: tuple[str, ...] = getattr(params, name)
    values = sorted(counts, key=lambda v: (-counts[v], v))
    values += [v for v in selected if v not in counts]
    choices = [Choice(label(v), toggled(params, name, v), v in selected, counts.get(v, 0)) for v in values]
    return FacetGroup(title, name, choices)


def _free_group(params: SearchParams, counts: dict[str, int]) -> FacetGroup:
    group = FacetGroup("是否免费", "free")
    current = (params.free or "").lower()
    for value, label in FREE_LABELS.items():
        if counts.get(value) or current == value:
            url = search_url(params, free=None if current == value else value)
            group.choices.append(Choice(label, url, current == value, counts.get(value, 0)))
    return group


def _active(params: SearchParams, *, platform_name: Callable[[str], str]) -> list[Choice]:
    """One removable Choice per active filter (the text shows what is being filtered)."""
    labels: dict[str, Callable[[str], str]] = {
        "theme": str, "audience": str, "platform": platform_name, "type": str, "media_type": media_type_label,
        "region": str,
    }  # fmt: skip
    active = [
        Choice(labels[name](v), toggled(params, name, v), True) for name in _LIST_FIELDS for v in getattr(params, name)
    ]
    if params.free:
        active.append(Choice(FREE_LABELS.get(params.free.lower(), params.free), search_url(params, free=None), True))
    return active


def _paging(params: SearchParams, *, result: SearchResult, max_page: int) -> tuple[str | None, str | None, str | None]:
    """Previous, next and back-to-first links: page numbers while allowed, then the cursor."""
    page = params.page
    prev_url = search_url(params, page=page - 1, cursor=None) if page > 1 and not params.cursor else None
    first_url = search_url(params, page=1, cursor=None) if params.cursor else None
    next_url = None
    if result.next_cursor:
        if page < max_page and not params.cursor:
            next_url = search_url(params, page=page + 1, cursor=None)
        else:
            next_url = search_url(params, page=page + 1, cursor=result.next_cursor)
    return prev_url, next_url, first_url
