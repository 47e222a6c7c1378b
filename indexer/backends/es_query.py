"""Elasticsearch request bodies for a SearchQuery, from the same parsed query terms as the embedded index.

A query is a bool of the parsed terms (every term must match; a term matches through any of its
alternatives), scored over the weighted text fields. The record_type filter narrows the whole result; the
facet filters go into `post_filter`, and each facet is a `filter` aggregation carrying every facet filter
but its own, so facet counts cover the whole result set filtered by the *other* choices, exactly as the
embedded backend counts them. Sorting is (key, uid) so `search_after` pages are stable.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from indexer.analysis import TEXT_FIELDS, Alternative, QueryTerm
from indexer.backends.base import FACET_FIELDS, FILTER_FIELDS, SearchQuery
from indexer.backends.cursor import Cursor, decode_cursor
from indexer.backends.es_mapping import FACET_KEYWORDS
from indexer.backends.weighted_fields import WEIGHTED_FIELDS
from indexer.errors import QueryError
from indexer.match_plan import AllOf, Plan, every_term

MAX_PAGE_SIZE = 1000
MAX_RESULT_WINDOW = 10_000
"""Elasticsearch's default index.max_result_window: deeper pages need the cursor."""
FACET_SIZE = 500
SORTS: dict[str, list[dict[str, str]]] = {
    "relevance": [{"_score": "desc"}, {"uid": "asc"}],
    "newest": [{"sort_date": "desc"}, {"uid": "asc"}],
    "popular": [{"popularity": "desc"}, {"uid": "asc"}],
}
_TEXT_FIELDS = [f"text.{name}" for name in TEXT_FIELDS]
_YEAR_MICROS = 365 * 86_400 * 1_000_000


@dataclass(frozen=True)
class Ranking:
    """Extra ranking signals. Both weights default to 0 so both backends rank by text alone (the contract);
    a cluster operator may raise them to favour fresh and popular courses."""

    freshness_weight: float = 0.0
    popularity_weight: float = 0.0
    cjk_recall: bool = False
    """Also try the `title_fold.cjk` bigram field when the segmented query found nothing."""
    plugin_field: bool = False
    """Score the IK/smartcn `title_fold.plugin` sub-field as an extra (optional) signal."""


@dataclass(frozen=True)
class Page:
    sort: str
    offset: int
    after: Cursor | None


def page_of(query: SearchQuery, *, has_text: bool) -> Page:
    """Validate sort, page, size and cursor; relevance without query text browses newest first."""
    if query.sort not in SORTS:
        raise QueryError(f"unknown sort {query.sort!r}; use one of {', '.join(SORTS)}", field="sort")
    if isinstance(query.size, bool) or not isinstance(query.size, int) or not 1 <= query.size <= MAX_PAGE_SIZE:
        raise QueryError(f"size must be between 1 and {MAX_PAGE_SIZE}", field="size")
    if isinstance(query.page, bool) or not isinstance(query.page, int) or query.page < 1:
        raise QueryError("page must be 1 or more", field="page")
    sort = "newest" if query.sort == "relevance" and not has_text else query.sort
    if query.cursor:
        return Page(sort=sort, offset=0, after=decode_cursor(query.cursor, sort=sort))
    offset = (query.page - 1) * query.size
    if offset + query.size + 1 > MAX_RESULT_WINDOW:
        raise QueryError(f"pages end at result {MAX_RESULT_WINDOW}; follow next_cursor to go deeper", field="page")
    return Page(sort=sort, offset=offset, after=None)


def text_query(
    terms: Sequence[QueryTerm], *, ranking: Ranking, widened: bool = False, plan: Plan | None = None
) -> dict[str, Any]:
    """The terms as `plan` combines them (default: every term must match); the score sums the matching
    alternatives over the weighted fields, as the embedded index's bm25 sums them over its MATCH expression."""
    cjk = ranking.cjk_recall and widened
    query = _planned(terms, every_term(len(terms)) if plan is None else plan, cjk=cjk)
    if "bool" not in query or "must" not in query["bool"]:
        query = {"bool": {"must": [query]}}
    if ranking.plugin_field:
        text = " ".join(t.text for t in terms)
        query["bool"]["should"] = [{"match": {"title_fold.plugin": {"query": text, "boost": 2.0}}}]
    return query


def or_in_theme(text: dict[str, Any], query: SearchQuery) -> dict[str, Any]:
    """`text`, or any record of the query's theme filter scored 0 (below every record `text` matches), as the
    embedded index adds the theme's rows to the matched ones."""
    theme = facet_filters(query).get("theme")
    if theme is None:
        return text
    inside = {"constant_score": {"filter": theme, "boost": 0.0}}
    return {"bool": {"should": [text, inside], "minimum_should_match": 1}}


def _planned(terms: Sequence[QueryTerm], plan: Plan, *, cjk: bool) -> dict[str, Any]:
    if isinstance(plan, int):
        return _term_query(terms[plan], cjk=cjk)
    parts = [_planned(terms, part, cjk=cjk) for part in plan.parts]
    if isinstance(plan, AllOf):
        return {"bool": {"must": parts}}
    return {"bool": {"should": parts, "minimum_should_match": 1}}


def _term_query(term: QueryTerm, *, cjk: bool) -> dict[str, Any]:
    alternatives = [_alternative(a) for a in term.alternatives]
    if cjk and len(term.text) > 1:
        alternatives.append({"match_phrase": {"title_fold.cjk": {"query": term.text}}})
    if len(alternatives) == 1:
        return alternatives[0]
    return {"bool": {"should": alternatives, "minimum_should_match": 1}}


def _alternative(alt: Alternative) -> dict[str, Any]:
    """One alternative's clause, its score scaled by the alternative's weight (an expansion's counts less, as
    the embedded index scales its part of bm25)."""
    clause = _unweighted(alt)
    return clause if alt.weight == 1.0 else {"bool": {"must": [clause], "boost": alt.weight}}


def _unweighted(alt: Alternative) -> dict[str, Any]:
    scored_in = WEIGHTED_FIELDS[alt.field]
    if alt.phrase:
        text = " ".join(alt.tokens)
        return _scored(_matching(alt.field, text, phrase=True), {"match_phrase": {scored_in: text}})
    return _all([_scored(_matching(alt.field, t, phrase=False), {"match": {scored_in: t}}) for t in alt.tokens])


def _matching(group: str, text: str, *, phrase: bool) -> dict[str, Any]:
    """An unscored clause matching the token or phrase in the group's own fields."""
    fields = _TEXT_FIELDS if group == "text" else [group]
    if len(fields) == 1:
        return {"match_phrase" if phrase else "match": {fields[0]: text}}
    return {"multi_match": {"query": text, "fields": fields, **({"type": "phrase"} if phrase else {})}}


def held_anywhere(token: str) -> dict[str, Any]:
    """An unscored clause matching the records holding `token` in any field a query matches in."""
    return {"bool": {"should": [{"term": {field: token}} for field in (*_TEXT_FIELDS, "pinyin", "chars")]}}


def _scored(match: dict[str, Any], score: dict[str, Any]) -> dict[str, Any]:
    """`match` decides whether the token or phrase matches; the score comes from the group's weighted field
    (es_mapping, weighted_fields), where it counts as the derived tantivy index counts it: one bm25 over its
    weighted counts, normalized by the group's weighted length. A document not yet analysed with those fields (an
    index older than mapping version 4, while es_analysis catches it up) matches, scoring nothing there."""
    return {"bool": {"filter": [match], "should": [score]}}


def _all(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return clauses[0] if len(clauses) == 1 else {"bool": {"must": clauses}}


def ranked(query: dict[str, Any], *, ranking: Ranking) -> dict[str, Any]:
    """`query` wrapped in a function_score for freshness and popularity, when either weight is set."""
    if not ranking.freshness_weight and not ranking.popularity_weight:
        return query
    now = int(time.time() * 1_000_000)
    functions: list[dict[str, Any]] = [{"weight": 1.0}]
    if ranking.popularity_weight:
        functions.append(
            {
                "field_value_factor": {"field": "popularity", "modifier": "ln2p", "missing": 0},
                "weight": ranking.popularity_weight,
            }
        )
    if ranking.freshness_weight:
        functions.append(
            {
                "gauss": {"sort_date": {"origin": now, "scale": _YEAR_MICROS, "decay": 0.5}},
                "weight": ranking.freshness_weight,
            }
        )
    return {
        "function_score": {
            "query": query,
            "functions": functions,
            "score_mode": "sum",
            "boost_mode": "multiply",
        }
    }


def facet_filters(query: SearchQuery) -> dict[str, dict[str, Any]]:
    """Filter name -> Elasticsearch clause, for every filter the query sets (OR within a filter)."""
    clauses: dict[str, dict[str, Any]] = {}
    for name, attribute in FILTER_FIELDS.items():
        values = [v for v in getattr(query, attribute) if isinstance(v, str)]
        if values:
            clauses[name] = {"terms": {FACET_KEYWORDS[name]: values}}
    if query.is_free is not None:
        clauses["is_free"] = {"term": {"is_free": bool(query.is_free)}}
    return clauses


def search_body(query: SearchQuery, *, text: dict[str, Any] | None, page: Page, ranking: Ranking) -> dict[str, Any]:
    """The _search body of one page (with facet aggregations when asked)."""
    filters = facet_filters(query)
    base = [filters.pop("record_type")] if "record_type" in filters else []
    if not query.with_facets:
        base, filters = base + list(filters.values()), {}
    must = [text] if text is not None else []
    body: dict[str, Any] = {
        "query": ranked({"bool": {"must": must, "filter": base}}, ranking=ranking)
        if text
        else {"bool": {"filter": base}},
        "sort": SORTS[page.sort],
        "size": query.size + 1,
        "track_total_hits": True,
        "_source": ["payload"],
    }
    if page.after is not None:
        body["search_after"] = [page.after.key, page.after.uid]
    elif page.offset:
        body["from"] = page.offset
    if filters:
        body["post_filter"] = {"bool": {"filter": list(filters.values())}}
    if query.with_facets:
        body["aggs"] = _facet_aggs(filters)
    return body


def _facet_aggs(filters: dict[str, dict[str, Any]]) -> dict[str, Any]:
    aggs: dict[str, Any] = {}
    for facet in FACET_FIELDS:
        others = [clause for name, clause in filters.items() if name != facet]
        aggs[facet] = {
            "filter": {"bool": {"filter": others}},
            "aggs": {"values": {"terms": {"field": FACET_KEYWORDS[facet], "size": FACET_SIZE}}},
        }
    return aggs


def parse_facets(aggregations: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Facet -> value -> count from the response, most frequent first (ties by value)."""
    facets: dict[str, dict[str, int]] = {}
    for facet in FACET_FIELDS:
        buckets = aggregations.get(facet, {}).get("values", {}).get("buckets", [])
        counts = {_bucket_key(b): int(b["doc_count"]) for b in buckets if b.get("doc_count", 0) > 0}
        facets[facet] = dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    return facets


def _bucket_key(bucket: dict[str, Any]) -> str:
    """Boolean buckets come as 1/0 with key_as_string (Elasticsearch) or as true/false; both become text."""
    if "key_as_string" in bucket:
        return str(bucket["key_as_string"])
    key = bucket["key"]
    return ("true" if key else "false") if isinstance(key, bool) else str(key)


def also_on_body(record_cluster: str, *, platform: str, limit: int) -> dict[str, Any]:
    """Records of one cluster on other platforms, by uid."""
    return {
        "query": {
            "bool": {
                "filter": [{"term": {"cluster_id": record_cluster}}],
                "must_not": [{"term": {"platform": platform}}],
            }
        },
        "sort": [{"uid": "asc"}],
        "size": limit,
        "_source": ["payload"],
    }
