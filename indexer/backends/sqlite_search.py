"""Search over the SQLite index: FTS5 MATCH from parsed query terms, filters, facets, paging, hits.

A text search runs FTS5 twice: once for the page (bm25 or the chosen sort, filters joined from `docs`,
LIMIT size + 1) and once for the bare rowids of every match, from which sqlite_facets counts the total and
the facets. Browsing without a query pages through the `docs` sort indexes and counts over every live row.
When a Chinese query finds nothing, it is retried once with title-substring alternatives (`widen`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from indexer.analysis import Alternative, QueryTerm, can_widen, chars_text, parse_query
from indexer.backends.base import SearchHit, SearchQuery, SearchResult
from indexer.backends.cursor import Cursor, decode_cursor, encode_cursor
from indexer.backends.sqlite_facets import FacetColumns, Filters
from indexer.backends.sqlite_schema import BM25_WEIGHTS, MASK_FACETS, FacetCodes
from indexer.errors import QueryError
from indexer.highlight import highlight_record
from indexer.record import Record

MAX_PAGE_SIZE = 1000
ALSO_ON_LIMIT = 5
_TEXT_COLUMNS = "{title subtitle tags description people provider}"
_ALT_COLUMNS = {"text": _TEXT_COLUMNS, "chars": "chars", "pinyin": "pinyin"}
_ORDER = {"relevance": "score, uid", "newest": "sort_date DESC, uid", "popular": "popularity DESC, uid"}
_KEY = {"relevance": ("score", ">"), "newest": ("sort_date", "<"), "popular": ("popularity", "<")}
_BM25 = f"bm25(fts, {', '.join(str(w) for w in BM25_WEIGHTS)})"
_FILTERED_FACETS = {
    "theme": "themes", "audience": "audience", "platform": "platforms", "media_type": "media_types",
    "record_type": "record_types",
}  # fmt: skip


def match_expression(terms: Sequence[QueryTerm]) -> str:
    """The FTS5 MATCH string for parsed terms; every token is quoted, so user text is never FTS syntax."""
    return " AND ".join("(" + " OR ".join(_alternative(a) for a in t.alternatives) + ")" for t in terms)


def _alternative(alt: Alternative) -> str:
    quoted = ['"' + token.replace('"', '""') + '"' for token in alt.tokens]
    if alt.phrase:
        body = '"' + " ".join(alt.tokens).replace('"', '""') + '"'
    else:
        body = quoted[0] if len(quoted) == 1 else "(" + " AND ".join(quoted) + ")"
    return f"{_ALT_COLUMNS[alt.field]} : {body}"


@dataclass
class _Page:
    sort: str
    offset: int
    after: Cursor | None


class SqliteSearch:
    """Runs SearchQuery objects on the connection `connect()` returns for the calling thread."""

    def __init__(
        self, connect: Callable[[], sqlite3.Connection], *, codes: FacetCodes, columns: FacetColumns
    ) -> None:
        self._connect = connect
        self._codes = codes
        self._columns = columns

    def search(self, query: SearchQuery) -> SearchResult:
        terms = parse_query(query.q) if query.q.strip() else []
        page = _page(query, has_text=bool(terms))
        conn = self._connect()
        conn.execute("BEGIN")  # one snapshot for the page, the total and the facets
        try:
            if self._columns.sync(conn):
                self._codes.load(conn)
            filters = self._filters(conn, query)
            result = self._run(conn, query, terms=terms, filters=filters, page=page)
            if terms and result.total == 0 and can_widen(terms):
                terms = parse_query(query.q, widen=True)
                result = self._run(conn, query, terms=terms, filters=filters, page=page)
        finally:
            conn.execute("COMMIT")
        return result

    def _run(
        self,
        conn: sqlite3.Connection,
        query: SearchQuery,
        *,
        terms: list[QueryTerm],
        filters: Filters,
        page: _Page,
    ) -> SearchResult:
        match = match_expression(terms) if terms else None
        rows = self._page_rows(conn, match=match, filters=filters, page=page, size=query.size)
        rowids = None
        if match is not None:
            cursor = conn.execute("SELECT rowid FROM fts WHERE fts MATCH ?", (match,))
            rowids = np.fromiter((r for (r,) in cursor), dtype=np.int64)
        total, facets = self._columns.count(
            rowids, filters=filters, codes=self._codes, with_facets=query.with_facets
        )
        next_cursor = None
        if len(rows) > query.size:
            rows = rows[: query.size]
            key_index = {"relevance": 2, "newest": 3, "popular": 4}[page.sort]
            last = rows[-1]
            next_cursor = encode_cursor(Cursor(sort=page.sort, key=last[key_index], uid=last[1]))
        hits = self._hits(conn, rows, terms=terms)
        return SearchResult(total=int(total), hits=hits, facets=facets, next_cursor=next_cursor)

    def _page_rows(
        self, conn: sqlite3.Connection, *, match: str | None, filters: Filters, page: _Page, size: int
    ) -> list[Any]:
        params: list[object] = []
        if match is None:
            inner = f"SELECT id, uid, 0.0 AS score, sort_date, popularity FROM docs WHERE {filters.sql()}"
        else:
            score = _BM25 if page.sort == "relevance" else "0.0"
            inner = (
                f"SELECT d.id AS id, d.uid AS uid, {score} AS score, d.sort_date AS sort_date, "
                f"d.popularity AS popularity FROM fts JOIN docs d ON d.id = fts.rowid "
                f"WHERE fts MATCH ? AND {filters.sql()}"
            )
            params.append(match)
        after = "1"
        if page.after is not None:
            column, op = _KEY[page.sort]
            after = f"{column} {op}= ? AND ({column} {op} ? OR uid > ?)"
            params += [page.after.key, page.after.key, page.after.uid]
        sql = f"SELECT id, uid, score, sort_date, popularity FROM ({inner}) WHERE {after} "
        sql += f"ORDER BY {_ORDER[page.sort]} LIMIT ? OFFSET ?"
        return conn.execute(sql, [*params, size + 1, page.offset]).fetchall()

    def _filters(self, conn: sqlite3.Connection, query: SearchQuery) -> Filters:
        filters = Filters()
        for facet, attribute in _FILTERED_FACETS.items():
            values = getattr(query, attribute)
            if not values:
                continue
            codes = self._filter_codes(conn, facet, values)
            if facet in MASK_FACETS:
                filters.masks[facet] = sum(1 << c for c in set(codes))
            else:
                filters.codes[facet] = tuple(codes)
        if query.is_free is not None:
            filters.codes["is_free"] = (int(bool(query.is_free)),)
        return filters

    def _filter_codes(self, conn: sqlite3.Connection, facet: str, values: Sequence[str]) -> list[int]:
        if any(self._codes.code(facet, v) is None for v in values):
            self._codes.load(conn)
        return [int(c) for c in (self._codes.code(facet, v) for v in values) if c is not None]

    def _hits(self, conn: sqlite3.Connection, rows: list[Any], *, terms: list[QueryTerm]) -> list[SearchHit]:
        if not rows:
            return []
        ids = [row[0] for row in rows]
        payloads = dict(
            conn.execute(f"SELECT id, json FROM payloads WHERE id IN ({', '.join('?' * len(ids))})", ids)
        )
        hits = []
        for row_id, _, score, _, _ in rows:
            record = Record.model_validate_json(payloads[row_id])
            highlight = highlight_record(title=record.title, description=record.description, terms=terms)
            also_on = self._also_on(conn, record) if record.cluster_id else []
            hits.append(SearchHit(record=record, score=-float(score), highlight=highlight, also_on=also_on))
        return hits

    def _also_on(self, conn: sqlite3.Connection, record: Record) -> list[Record]:
        """Records of the same cluster on other platforms."""
        platform = self._codes.code("platform", record.platform)
        rows = conn.execute(
            "SELECT p.json FROM docs d JOIN payloads p ON p.id = d.id "
            "WHERE d.cluster_id = ? AND d.platform_id != ? ORDER BY d.uid LIMIT ?",
            (record.cluster_id, -1 if platform is None else platform, ALSO_ON_LIMIT),
        )
        return [Record.model_validate_json(payload) for (payload,) in rows]

    def titles_containing(self, folded: str, *, scan: int) -> list[str]:
        """Titles containing `folded` (already folded), most popular first, among the first `scan` matches."""
        tokens = chars_text(folded).split()
        if not tokens:
            return []
        match = match_expression([QueryTerm(folded, (Alternative("chars", tuple(tokens), phrase=True),))])
        rows = self._connect().execute(
            "SELECT title FROM (SELECT d.title AS title, d.title_fold AS title_fold, "
            "d.popularity AS popularity "
            "FROM fts JOIN docs d ON d.id = fts.rowid WHERE fts MATCH ? LIMIT ?) "
            "WHERE instr(title_fold, ?) > 0 ORDER BY popularity DESC, title",
            (match, scan, folded),
        )
        return [str(title) for (title,) in rows]


def _page(query: SearchQuery, *, has_text: bool) -> _Page:
    """Validate sort, page, size and cursor; relevance without a query browses newest first."""
    if query.sort not in _ORDER:
        raise QueryError(f"unknown sort {query.sort!r}; use one of {', '.join(_ORDER)}", field="sort")
    if not isinstance(query.size, int) or not 1 <= query.size <= MAX_PAGE_SIZE:
        raise QueryError(f"size must be between 1 and {MAX_PAGE_SIZE}", field="size")
    if not isinstance(query.page, int) or query.page < 1:
        raise QueryError("page must be 1 or more", field="page")
    sort = "newest" if query.sort == "relevance" and not has_text else query.sort
    if query.cursor:
        return _Page(sort=sort, offset=0, after=decode_cursor(query.cursor, sort=sort))
    return _Page(sort=sort, offset=(query.page - 1) * query.size, after=None)


def _bits(mask: int) -> list[int]:
    bits = []
    while mask:
        low = mask & -mask
        bits.append(low.bit_length() - 1)
        mask ^= low
    return bits
