"""Running searches and suggestions on Elasticsearch: pages, facets, highlights, also-on and deep cursors.

Deep paging uses `search_after` on (sort key, uid). The first cursor a learner follows opens a point in time
(PIT) and the cursors after it carry its id, so later pages read one consistent snapshot; when the PIT has
expired (or the cluster has none), the page is read from the live alias with the same `search_after` key,
which stays correct because uid breaks every tie. A cursor is the shared `cursor.py` cursor, followed by
`.` and the PIT part when there is one.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from types import ModuleType
from typing import Any

from indexer.analysis import Alternative, QueryTerm, QueryVocabulary, chars_text, parse_query
from indexer.backends.base import SearchHit, SearchQuery, SearchResult, search_in_steps
from indexer.backends.cursor import Cursor, encode_cursor
from indexer.backends.es_mapping import document_record
from indexer.backends.es_query import (
    MAX_RESULT_WINDOW,
    Page,
    Ranking,
    also_on_body,
    held_anywhere,
    or_in_theme,
    page_of,
    parse_facets,
    search_body,
    text_query,
)
from indexer.errors import IndexBackendError, QueryError
from indexer.highlight import highlight_record
from indexer.match_plan import THEME_FEW, Plan
from indexer.record import Record

logger = logging.getLogger(__name__)

ALSO_ON_LIMIT = 5
PIT_KEEP_ALIVE = "2m"
_MAX_PIT_CHARS = 8000
_SUGGEST_SCAN = 200
_MAX_LONG = 2**63 - 1
_TIE_OVERLAP = 16


@contextmanager
def call_errors(es: ModuleType, *, action: str) -> Iterator[None]:
    """Client errors as IndexBackendError (the cluster's status and reason in the message)."""
    try:
        yield
    except es.ApiError as exc:
        raise IndexBackendError(f"cannot {action}: HTTP {exc.status_code} {exc.message}") from exc
    except es.TransportError as exc:
        raise IndexBackendError(f"cannot {action}: {exc}") from exc


class EsSearch:
    """Runs SearchQuery objects against `alias`."""

    def __init__(
        self,
        client: Any,
        *,
        alias: str,
        ranking: Ranking,
        use_pit: bool,
        errors: Callable[[str], AbstractContextManager[None]],
        vocabulary: QueryVocabulary,
    ) -> None:
        self.client = client
        self.alias = alias
        self.ranking = ranking
        self.use_pit = use_pit
        self._errors = errors
        self._vocabulary = vocabulary

    def search(self, query: SearchQuery) -> SearchResult:
        base_cursor, pit = split_cursor(query.cursor) if query.cursor else (None, None)
        terms = parse_query(query.q, vocabulary=self._vocabulary) if query.q.strip() else []
        page = page_of(replace(query, cursor=base_cursor), has_text=bool(terms))
        if page.after is not None and self.use_pit:
            pit = pit or self._open_pit()

        def run(terms: list[QueryTerm], *, plan: Plan, widened: bool, in_theme: bool = False) -> SearchResult:
            return self._run(query, terms=terms, page=page, pit=pit, widened=widened, plan=plan, in_theme=in_theme)

        first = replace(query, page=1, size=THEME_FEW, cursor=None, with_facets=False)

        def first_page(terms: list[QueryTerm], *, plan: Plan, widened: bool, in_theme: bool = False) -> SearchResult:
            first_of = page_of(first, has_text=bool(terms))
            return self._run(first, terms=terms, page=first_of, pit=None, widened=widened, plan=plan, in_theme=in_theme)

        return search_in_steps(
            query.q, terms, vocabulary=self._vocabulary, run=run, frequencies=self._frequencies,
            titles_of=self._titles_of, themes=query.themes, first_page=first_page,
            from_start=query.cursor is None and query.page == 1,
        )  # fmt: skip

    def _run(
        self,
        query: SearchQuery,
        *,
        terms: list[QueryTerm],
        page: Page,
        pit: str | None,
        widened: bool,
        plan: Plan,
        in_theme: bool = False,
    ) -> SearchResult:
        text = text_query(terms, ranking=self.ranking, widened=widened, plan=plan) if terms else None
        if text is not None and in_theme:
            text = or_in_theme(text, query)
        body = search_body(query, text=text, page=page, ranking=self.ranking)
        hits, response, pit = self._page_hits(body, page=page, size=query.size, pit=pit)
        next_cursor = None
        if len(hits) > query.size:
            hits = hits[: query.size]
            last = hits[-1]
            cursor = encode_cursor(Cursor(sort=page.sort, key=last["sort"][0], uid=str(last["sort"][1])))
            next_cursor = cursor if pit is None else f"{cursor}.{_encode_pit(pit)}"
        facets = parse_facets(response.get("aggregations", {})) if query.with_facets else {}
        total = int(response["hits"]["total"]["value"])
        return SearchResult(total=total, hits=self._hits(hits, terms=terms), facets=facets, next_cursor=next_cursor)

    def _frequencies(self, tokens: Sequence[str]) -> tuple[dict[str, int], int]:
        """Records holding each token in any field a query matches in, and all records: the document frequencies
        match_plan weighs terms by, counted as the embedded index's fts5vocab does."""
        aggs = {f"t{i}": {"filter": held_anywhere(token)} for i, token in enumerate(tokens)}
        with self._errors("count the records holding the query words"):
            response = self.client.search(index=self.alias, size=0, track_total_hits=True, aggs=aggs or None)
        found = {token: int(response["aggregations"][f"t{i}"]["doc_count"]) for i, token in enumerate(tokens)}
        return {t: n for t, n in found.items() if n}, int(response["hits"]["total"]["value"])

    def _titles_of(self, term: QueryTerm, limit: int) -> list[str]:
        """Folded titles of at most `limit` records the term matches (in index order: no scoring needed)."""
        with self._errors("read the titles a query word finds"):
            hits = self.client.search(
                index=self.alias, query={"constant_score": {"filter": text_query([term], ranking=Ranking())}},
                size=limit, source=["title_fold"], sort=["_doc"], track_total_hits=False,
            )["hits"]["hits"]  # fmt: skip
        return [str(h["_source"].get("title_fold", "")) for h in hits]

    def _page_hits(
        self, body: dict[str, Any], *, page: Page, size: int, pit: str | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any], str | None]:
        """The hits of one page. A relevance page after a cursor starts just above the cursor's score and
        drops the hits at or before (score, uid) itself: scores are floats, and an engine that compares them
        at another precision than it reports them would otherwise repeat or skip tied hits."""
        if page.after is None or page.sort != "relevance":
            response, pit = self._send(body, pit=pit)
            return response["hits"]["hits"], response, pit
        key, uid = float(page.after.key), page.after.uid
        overlap = _TIE_OVERLAP
        while True:
            wanted = min(size + 1 + overlap, MAX_RESULT_WINDOW)
            response, pit = self._send(dict(body, size=wanted, search_after=[_above(key), ""]), pit=pit)
            found = response["hits"]["hits"]
            kept = [h for h in found if _is_after(h["sort"], key=key, uid=uid)]
            if len(kept) > size or len(found) < wanted or wanted == MAX_RESULT_WINDOW:
                return kept, response, pit
            overlap *= 4

    def _send(self, body: dict[str, Any], *, pit: str | None) -> tuple[dict[str, Any], str | None]:
        """Search the PIT when there is one, else (or when it has expired) the live alias.

        A PIT search sorts by `_shard_doc` last, explicitly, so every cluster version takes the same
        `search_after`; uid is unique, so the largest shard_doc value after (key, uid) skips nothing.
        """
        kwargs = _search_kwargs(body)
        if pit is not None:
            with_pit = dict(kwargs, sort=[*kwargs["sort"], {"_shard_doc": "asc"}])
            if "search_after" in kwargs:
                with_pit["search_after"] = [*kwargs["search_after"], _MAX_LONG]
            try:
                with self._errors("search (point in time)"):
                    response = self.client.search(pit={"id": pit, "keep_alive": PIT_KEEP_ALIVE}, **with_pit)
                return response, str(response.get("pit_id") or pit)
            except IndexBackendError as exc:  # expired or unknown PIT: read the live alias from the same key
                logger.info("point in time not usable, paging on the live index: %s", exc)
        try:
            with self._errors("search"):
                return self.client.search(index=self.alias, **kwargs), None
        except IndexBackendError as exc:
            if body.get("search_after") is not None and "HTTP 400" in str(exc):
                raise QueryError("cursor is not valid for this search", field="cursor") from exc
            raise

    def _open_pit(self) -> str | None:
        try:
            with self._errors("open point in time"):
                opened = self.client.open_point_in_time(index=self.alias, keep_alive=PIT_KEEP_ALIVE)
        except IndexBackendError:
            return None
        return str(opened["id"])

    def _hits(self, hits: list[dict[str, Any]], *, terms: list[QueryTerm]) -> list[SearchHit]:
        records = [document_record(h["_source"]) for h in hits]
        also_on = self._also_on(records)
        return [
            SearchHit(
                record=record,
                score=float(hit.get("_score") or 0.0),
                highlight=highlight_record(title=record.title, description=record.description, terms=terms),
                also_on=also_on.get(record.uid, []),
            )
            for hit, record in zip(hits, records, strict=True)
        ]

    def _also_on(self, records: list[Record]) -> dict[str, list[Record]]:
        """uid -> the same course on other platforms, one msearch for the whole page."""
        clustered = [r for r in records if r.cluster_id]
        if not clustered:
            return {}
        searches: list[dict[str, Any]] = []
        for record in clustered:
            assert record.cluster_id is not None
            searches += [
                {"index": self.alias},
                also_on_body(record.cluster_id, platform=record.platform, limit=ALSO_ON_LIMIT),
            ]
        with self._errors("find the same course on other platforms"):
            responses = self.client.msearch(searches=searches)["responses"]
        found: dict[str, list[Record]] = {}
        for record, response in zip(clustered, responses, strict=True):
            if "error" in response:
                raise IndexBackendError(f"cannot find also-on records: {response['error']}")
            found[record.uid] = [document_record(h["_source"]) for h in response["hits"]["hits"]]
        return found

    def suggest(self, folded: str, *, limit: int) -> list[str]:
        """Titles by folded prefix, then pinyin prefix, then titles containing the text; popular first."""
        titles = self._titles({"prefix": {"title_fold": folded}})
        compact = folded.replace(" ", "")
        if compact.isascii() and compact.isalpha():
            titles += self._titles({"prefix": {"title_pinyin": compact}})
        if len(dict.fromkeys(titles)) < limit:
            titles += self._titles_containing(folded)
        return list(dict.fromkeys(titles))[:limit]

    def _titles(self, query: dict[str, Any], *, contains: str | None = None) -> list[str]:
        with self._errors("suggest"):
            hits = self.client.search(
                index=self.alias,
                query=query,
                size=_SUGGEST_SCAN,
                source=["title", "title_fold"],
                sort=[{"popularity": "desc"}, {"title": "asc"}],
                track_total_hits=False,
            )["hits"]["hits"]
        return [
            str(h["_source"]["title"])
            for h in hits
            if contains is None or contains in str(h["_source"].get("title_fold", ""))
        ]

    def _titles_containing(self, folded: str) -> list[str]:
        tokens = chars_text(folded).split()
        if not tokens:
            return []
        term = QueryTerm(folded, (Alternative("chars", tuple(tokens), phrase=True),))
        return self._titles(text_query([term], ranking=Ranking()), contains=folded)


def _above(score: float) -> float:
    """A score a little above `score`, beyond any float32/float64 rounding of it."""
    return score + max(abs(score) * 1e-5, 1e-9)


def _is_after(sort: list[Any], *, key: float, uid: str) -> bool:
    """True when a hit's (score, uid) comes after the cursor's in relevance order."""
    score = float(sort[0])
    return score < key or (score == key and str(sort[1]) > uid)


def _search_kwargs(body: dict[str, Any]) -> dict[str, Any]:
    renamed = {"from": "from_", "_source": "source"}
    return {renamed.get(k, k): v for k, v in body.items()}


def _encode_pit(pit_id: str) -> str:
    return base64.urlsafe_b64encode(pit_id.encode("utf-8")).decode("ascii").rstrip("=")


def split_cursor(text: str) -> tuple[str, str | None]:
    """(shared cursor, PIT id or None); a malformed PIT part raises QueryError(field=cursor)."""
    if not isinstance(text, str):
        raise QueryError("cursor is not valid", field="cursor")
    base, dot, pit = text.partition(".")
    if not dot:
        return base, None
    if len(pit) > _MAX_PIT_CHARS:
        raise QueryError("cursor is too long", field="cursor")
    try:
        pit_id = base64.urlsafe_b64decode(pit + "=" * (-len(pit) % 4)).decode("ascii")
    except (binascii.Error, ValueError) as exc:
        raise QueryError(f"cursor is not valid: {exc}", field="cursor") from exc
    if not pit_id or not pit_id.isprintable():
        raise QueryError("cursor is not valid: bad point in time", field="cursor")
    return base, pit_id
