"""Search over the SQLite index: FTS5 MATCH from parsed query terms, filters, facets, paging, hits.

A text search runs FTS5 once, fetching every matching rowid (with its bm25 score when ranking by
relevance) into numpy; sqlite_facets filters those rows and counts the total and facets from its in-memory
columns, and the page is picked from the same arrays (`np.partition` on the sort key, uids read only for
the rows near the page boundary, to break ties by uid). Browsing without a query does the same over every
live row. Only the payloads of the records a result shows are read from `payloads` (sqlite_hits).
A text query runs in the steps of `search_in_steps` (the terms match_plan requires, weighted by the document
frequencies of the index's fts5vocab; then Chinese words as title substrings; then any term), ranked by bm25 so
that records holding more, and rarer, terms come first.

With the tantivy engine the file keeps no FTS5 index (sqlite_text.keep_fts_index): every text query, whatever
its sort, is answered by tantivy_search (top-k pages and facet aggregations over the derived index), and so are
its plan's document frequencies and title look-ups, counted on the same tokens; browsing and filter-only queries
stay on the in-memory columns here. When the derived index cannot be used, a text query raises IndexBackendError
(the API answers 503 with Retry-After) until it can again.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from indexer.analysis import Alternative, QueryTerm, QueryVocabulary, chars_text, parse_query
from indexer.backends.base import FILTER_FIELDS, SearchQuery, SearchResult, search_in_steps
from indexer.backends.cursor import Cursor, decode_cursor, encode_cursor
from indexer.backends.sqlite_facets import FacetColumns, Filters, FloatArray, IntArray, Matched
from indexer.backends.sqlite_hits import HitReader
from indexer.backends.sqlite_schema import BM25_WEIGHTS, MASK_FACETS, FacetCodes
from indexer.backends.sqlite_text import fts_index_kept
from indexer.backends.tantivy_index import TantivyIndex
from indexer.backends.tantivy_search import EngineRequest, TantivySearch
from indexer.errors import IndexBackendError, QueryError
from indexer.match_plan import THEME_FEW, AllOf, Plan, every_term, plan_terms

MAX_PAGE_SIZE = 1000
_TEXT_COLUMNS = "{title subtitle tags description people provider}"
_ALT_COLUMNS = {"text": _TEXT_COLUMNS, "chars": "chars", "pinyin": "pinyin"}
_SORTS = ("relevance", "newest", "popular")
"""Every sort orders by its key (bm25 ascending, sort_date or popularity descending), then by uid."""
_Row = tuple[int, str, Any]
_BM25 = f"bm25(fts, {', '.join(str(w) for w in BM25_WEIGHTS)})"


def match_expression(terms: Sequence[QueryTerm], plan: Plan | None = None) -> str:
    """The FTS5 MATCH string for parsed terms as `plan` combines them (default: all of them); every token is
    quoted, so user text is never FTS syntax."""
    return _rendered(terms, every_term(len(terms)) if plan is None else plan)


def weight_expressions(terms: Sequence[QueryTerm], plan: Plan) -> list[tuple[float, str]]:
    """(weight, MATCH string of the alternatives scored at that weight) for every score weight but 1 among the
    terms `plan` uses: the passes that let `_fts_rows` score each alternative at its weight (a synonym below the
    typed word, a word saying little in general Chinese below one saying much: match_plan.weighted_terms)."""
    groups: dict[float, list[Alternative]] = {}
    for index in sorted(plan_terms(plan)):
        for alt in terms[index].alternatives:
            if alt.weight != 1.0:
                groups.setdefault(alt.weight, []).append(alt)
    return [(w, "(" + " OR ".join(map(_alternative, alts)) + ")") for w, alts in sorted(groups.items())]


def _rendered(terms: Sequence[QueryTerm], plan: Plan) -> str:
    if isinstance(plan, int):
        return "(" + " OR ".join(_alternative(a) for a in terms[plan].alternatives) + ")"
    joiner = " AND " if isinstance(plan, AllOf) else " OR "
    return "(" + joiner.join(_rendered(terms, part) for part in plan.parts) + ")"


def _alternative(alt: Alternative) -> str:
    quoted = ['"' + token.replace('"', '""') + '"' for token in alt.tokens]
    if alt.phrase:
        body = '"' + " ".join(alt.tokens).replace('"', '""') + '"'
    else:
        body = quoted[0] if len(quoted) == 1 else "(" + " AND ".join(quoted) + ")"
    return f"{_ALT_COLUMNS[alt.field]} : {body}"


RECENT_RESULTS = 128
"""Results kept for repeated searches: a page of hits each (with their also_on records), a few MB in all."""


class RecentResults:
    """The latest search results by (query, index generation), least recently used dropped first.

    Learners ask the same few words again and again (健康, 老年, 手机), and on a big index such a word costs a
    ranked pass over most of it (about a second at 1M records). Every write transaction makes a new generation,
    so a kept result is only ever returned for the very index state it was computed on.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[SearchQuery, int], SearchResult] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[SearchQuery, int]) -> SearchResult | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[SearchQuery, int], result: SearchResult) -> None:
        with self._lock:
            self._items[key] = result
            self._items.move_to_end(key)
            dropped = [self._items.popitem(last=False) for _ in range(len(self._items) - self._size)]
        # freed here, outside the lock: a page of records takes ~0.1 ms to free, which other searches need not wait for
        del dropped


Counts = tuple[dict[str, int], int]
"""Records holding each token (those held by none left out), and the number of records."""
KNOWN_TOKENS = 50_000
"""Tokens whose document frequencies are kept for the index generation they were read in (a few MB at most)."""


class KnownFrequencies:
    """Document frequencies of tokens (and the number of records) read in one index generation, for the next
    searches of the same generation.

    A query's plan weighs its words by how many records hold each (match_plan), read from fts5vocab, which counts
    a token's records by walking its whole posting list: 5.7 ms for 老年 at 100k records, ten times that at 1M,
    and the common words are in most queries. Every write transaction makes a new generation, so a kept count is
    only ever used on the index state it was read from; a new generation starts afresh.
    """

    def __init__(self, size: int, *, read: Callable[[sqlite3.Connection, Sequence[str]], Counts] | None = None) -> None:
        self._size = size
        self._read = _frequencies if read is None else read
        """Reads the counts of tokens on a snapshot: fts5vocab's (`_frequencies`), or the tantivy engine's."""
        self._generation = -1
        self._counts: dict[str, int] = {}
        """token -> records holding it (0: none) in `_generation`."""
        self._total: int | None = None
        self._lock = threading.Lock()

    def of(self, conn: sqlite3.Connection, tokens: Sequence[str], *, generation: int) -> Counts:
        """What `_frequencies` answers for `tokens` on `conn`'s snapshot, whose generation is `generation`."""
        with self._lock:
            if generation != self._generation:
                self._generation, self._counts, self._total = generation, {}, None
            known = {t: self._counts[t] for t in tokens if t in self._counts}
            total = self._total
        asked = [t for t in tokens if t not in known]
        if asked or total is None:
            found, total = self._read(conn, asked)
            known.update((t, found.get(t, 0)) for t in asked)
            with self._lock:
                if generation == self._generation:
                    if len(self._counts) + len(asked) > self._size:
                        self._counts = {}
                    self._counts.update((t, known[t]) for t in asked)
                    self._total = total
        return {t: n for t, n in known.items() if n}, total


KNOWN_TITLE_LISTS = 256
"""Title lists kept per index generation (a pinyin term's 100 titles each: a few hundred KB at most)."""


class KnownTitles:
    """The titles a term matches (`titles_of`), read in one index generation, for the next searches of the same
    generation.

    A pinyin term becomes the words it spells in the first titles it matches (known_words.spelled_words): at 1M
    records reading those 100 titles takes about 1.4 ms CPU, their rows scattered over the file, for every search
    of the term (another page, filter or sort of the same words). Every write transaction makes a new generation,
    so kept titles are only ever used on the index state they were read from.
    """

    def __init__(self, size: int, *, read: Callable[[sqlite3.Connection, QueryTerm, int], list[str]]) -> None:
        self._size = size
        self._read = read
        self._generation = -1
        self._lists: dict[tuple[QueryTerm, int], tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def of(self, conn: sqlite3.Connection, term: QueryTerm, limit: int, *, generation: int) -> list[str]:
        """What `read` answers for `term` and `limit` on `conn`'s snapshot, whose generation is `generation`."""
        key = (term, limit)
        with self._lock:
            if generation != self._generation:
                self._generation, self._lists = generation, {}
            found = self._lists.get(key)
        if found is None:
            found = tuple(self._read(conn, term, limit))
            with self._lock:
                if generation == self._generation:
                    if len(self._lists) >= self._size:
                        self._lists = {}
                    self._lists[key] = found
        return list(found)


KNOWN_UIDS = 100_000
"""Uids kept for the index generation they were read in (about 150 bytes each with the dict: ~15 MB at most)."""


class KnownUids:
    """The uids of rowids read in one index generation, for the next searches of the same generation.

    A page reads the uids of its rows and of every row tied with its last sort key, to order ties by uid (as the
    cursor resumes): 20 a typical query of the bench corpus at 100k records, 75 at 1M (966 for 茶), each a lookup
    of a row in `docs` (2 us at 100k, ~7 at 1M with the rows scattered over the file). The same words, and other
    pages and filters of them, meet the same rows again. Every write transaction makes a new generation, so a kept
    uid is only ever used on the index state it was read from (a rowid a withdrawn record freed may hold another
    record's next); a rowid the snapshot does not hold is not kept (read again when asked).
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._generation = -1
        self._uids: dict[int, str] = {}
        """rowid -> uid in `_generation`."""
        self._lock = threading.Lock()

    def of(self, conn: sqlite3.Connection, ids: IntArray, generation: int) -> dict[int, str]:
        """What `_uids` answers for `ids` on `conn`'s snapshot (inside its transaction), whose generation is
        `generation`."""
        if not len(ids):
            return {}
        with self._lock:
            if generation != self._generation:
                self._generation, self._uids = generation, {}
            kept = self._uids
        found: dict[int, str] = {}
        asked = []
        for row_id in ids.tolist():
            uid = kept.get(row_id)
            if uid is None:
                asked.append(row_id)
            else:
                found[row_id] = uid
        if asked:
            read = _uids(conn, np.asarray(asked, dtype=np.int64))
            found.update(read)
            with self._lock:
                if generation == self._generation:
                    if len(self._uids) + len(read) > self._size:
                        self._uids = {}
                    self._uids.update(read)
        return found


@dataclass
class _Page:
    sort: str
    offset: int
    after: Cursor | None


class SqliteSearch:
    """Runs SearchQuery objects on the connection `connect()` returns for the calling thread."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        *,
        codes: FacetCodes,
        columns: FacetColumns,
        vocabulary: QueryVocabulary,
        engine: TantivyIndex | None = None,
    ) -> None:
        self._connect = connect
        self._uids = KnownUids(KNOWN_UIDS)
        self._engine = None if engine is None else TantivySearch(engine, codes=codes, uids_of=self._uids.of)
        """Ranks text queries by relevance when set (tantivy_search); browsing and other sorts stay here."""
        self._codes = codes
        self._hit_reader = HitReader(codes)
        self._columns = columns
        self._vocabulary = vocabulary
        self._recent = RecentResults(RECENT_RESULTS)
        self._known = KnownFrequencies(KNOWN_TOKENS, read=None if self._engine is None else self._engine.frequencies)
        self._titles = KnownTitles(KNOWN_TITLE_LISTS, read=self._read_titles)

    def warm(self) -> None:
        """Bring the facet columns up to date now (a full load on a fresh process)."""
        conn = self._connect()
        conn.execute("BEGIN")
        try:
            if self._columns.sync(conn):
                self._codes.load(conn)
        finally:
            conn.execute("COMMIT")

    def search(self, query: SearchQuery) -> SearchResult:
        terms = parse_query(query.q, vocabulary=self._vocabulary) if query.q.strip() else []
        page = _page(query, has_text=bool(terms))
        conn = self._connect()
        conn.execute("BEGIN")  # one snapshot for the page, the total and the facets
        try:
            (generation,) = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            key = (query, int(generation))
            if (known := self._recent.get(key)) is not None:
                return known
            if terms and self._engine is None and not fts_index_kept(conn):
                raise IndexBackendError(
                    "this index file's FTS5 index was dropped by a process of the tantivy engine "
                    "(index.search_engine); open the file with one engine only"
                )
            if self._columns.sync(conn, generation=int(generation)):
                self._codes.load(conn)
            filters = self._filters(conn, query)

            def run(terms: list[QueryTerm], *, plan: Plan, widened: bool, in_theme: bool = False) -> SearchResult:
                return self._run(
                    conn, query, terms=terms, filters=filters, page=page, plan=plan, in_theme=in_theme,
                    generation=int(generation),
                )  # fmt: skip

            def first_page(
                terms: list[QueryTerm], *, plan: Plan, widened: bool, in_theme: bool = False
            ) -> SearchResult:
                """`run` reading the first THEME_FEW records, whatever page is asked (base.search_in_steps)."""
                first = replace(query, page=1, size=THEME_FEW, cursor=None, with_facets=False)
                return self._run(
                    conn, first, terms=terms, filters=filters, page=_page(first, has_text=bool(terms)), plan=plan,
                    in_theme=in_theme, generation=int(generation),
                )  # fmt: skip

            def frequencies(tokens: Sequence[str]) -> tuple[dict[str, int], int]:
                return self._known.of(conn, tokens, generation=int(generation))

            def titles_of(term: QueryTerm, limit: int) -> list[str]:
                return self._titles.of(conn, term, limit, generation=int(generation))

            result = search_in_steps(
                query.q, terms, vocabulary=self._vocabulary, run=run, frequencies=frequencies,
                titles_of=titles_of, themes=query.themes, first_page=first_page,
                from_start=query.cursor is None and query.page == 1, shown=self._hit_reader.built,
            )  # fmt: skip
            self._hit_reader.built(result.hits)  # on this snapshot: the hits of passes are read when shown
        finally:
            conn.execute("COMMIT")
        self._recent.put(key, result)
        return result

    def _read_titles(self, conn: sqlite3.Connection, term: QueryTerm, limit: int) -> list[str]:
        if self._engine is not None:
            return self._engine.titles_of(conn, term, limit=limit)
        return _titles_of(conn, term, limit=limit)

    def _run(
        self,
        conn: sqlite3.Connection,
        query: SearchQuery,
        *,
        terms: list[QueryTerm],
        filters: Filters,
        page: _Page,
        plan: Plan,
        in_theme: bool = False,
        generation: int,
    ) -> SearchResult:
        """One pass of the search on `conn`'s snapshot, whose index generation is `generation`."""
        if terms and self._engine is not None:
            return self._engine_run(
                conn, query, terms=terms, filters=filters, page=page, plan=plan, in_theme=in_theme,
                generation=generation,
            )  # fmt: skip
        rowids, scores = None, None
        if terms:
            match = match_expression(terms, plan)
            rowids, scores = _fts_rows(conn, match, ranked=page.sort == "relevance")
            for weight, expression in weight_expressions(terms, plan) if scores is not None and len(rowids) else ():
                assert scores is not None
                scores = _part_weighted(rowids, scores, _fts_rows(conn, expression, ranked=True), weight)
            if in_theme and "theme" in filters.masks:
                rowids, scores = _with_theme_rows(rowids, scores, self._columns.rows_in(filters, "theme"))
        matched = self._columns.match(
            rowids, scores=scores, filters=filters, codes=self._codes, with_facets=query.with_facets
        )
        rows = _page_rows(conn, matched, page=page, limit=query.size + 1, uids_of=self._uids.of, generation=generation)
        return self._result(
            conn, rows, total=matched.total, facets=matched.facets, query=query, page=page, terms=terms,
            in_theme=in_theme,
        )  # fmt: skip

    def _engine_run(
        self,
        conn: sqlite3.Connection,
        query: SearchQuery,
        *,
        terms: list[QueryTerm],
        filters: Filters,
        page: _Page,
        plan: Plan,
        in_theme: bool,
        generation: int,
    ) -> SearchResult:
        assert self._engine is not None
        request = EngineRequest(
            terms=terms, plan=plan, filters=filters, offset=page.offset, limit=query.size + 1, after=page.after,
            in_theme=in_theme, with_facets=query.with_facets, sort=page.sort,
        )  # fmt: skip
        found = self._engine.page(conn, request, generation=generation)
        return self._result(conn, found.rows, total=found.total, facets=found.facets, query=query, page=page,
                            terms=terms, in_theme=in_theme)  # fmt: skip

    def _result(
        self,
        conn: sqlite3.Connection,
        rows: list[_Row],
        *,
        total: int,
        facets: dict[str, dict[str, int]],
        query: SearchQuery,
        page: _Page,
        terms: list[QueryTerm],
        in_theme: bool = False,
    ) -> SearchResult:
        """The page of `rows` (one more than asked when another page follows) as hits with their cursor."""
        next_cursor = None
        if len(rows) > query.size:
            rows = rows[: query.size]
            _, uid, key = rows[-1]
            next_cursor = encode_cursor(Cursor(sort=page.sort, key=key, uid=uid))
        scored = [(row_id, uid, key if page.sort == "relevance" else 0.0) for row_id, uid, key in rows]
        # search_in_steps works out the words each hit lacks from its analysed text when the query has several
        # terms or also finds a theme's records (`_with_missing`): the hits then carry the analysis stored with them
        hits = self._hit_reader.hits(conn, scored, terms=terms, analysed=len(terms) > 1 or in_theme)
        return SearchResult(total=total, hits=hits, facets=facets, next_cursor=next_cursor)

    def _filters(self, conn: sqlite3.Connection, query: SearchQuery) -> Filters:
        filters = Filters()
        for facet, attribute in FILTER_FIELDS.items():
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

    def titles_containing(self, folded: str, *, scan: int) -> list[str]:
        """Titles containing `folded` (already folded), most popular first, among the first `scan` matches."""
        if self._engine is not None:
            return self._engine.titles_containing(self._connect(), folded, scan=scan)
        tokens = chars_text(folded).split()
        if not tokens:
            return []
        match = match_expression([QueryTerm(folded, (Alternative("chars", tuple(tokens), phrase=True),))])
        rows = self._connect().execute(
            "SELECT title FROM (SELECT COALESCE(d.title, d.title_fold) AS title, d.title_fold AS title_fold, "
            "d.popularity AS popularity "
            "FROM fts JOIN docs d ON d.id = fts.rowid WHERE fts MATCH ? LIMIT ?) "
            "WHERE instr(title_fold, ?) > 0 ORDER BY popularity DESC, title",
            (match, scan, folded),
        )
        return [str(title) for (title,) in rows]


def _frequencies(conn: sqlite3.Connection, tokens: Sequence[str]) -> tuple[dict[str, int], int]:
    """Records holding each token (in any column), through a per-connection fts5vocab table, and the number of
    records: the document frequencies match_plan weighs terms by."""
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_rows USING fts5vocab(main, fts, row)")
    found: dict[str, int] = {}
    for token in tokens:
        row = conn.execute("SELECT doc FROM temp.fts_rows WHERE term = ?", (token,)).fetchone()
        if row is not None:
            found[token] = int(row[0])
    (total,) = conn.execute("SELECT count(*) FROM docs").fetchone()
    return found, int(total)


def _titles_of(conn: sqlite3.Connection, term: QueryTerm, *, limit: int) -> list[str]:
    """Folded titles of at most `limit` records the term matches (the first by rowid: no ranking pass)."""
    sql = "SELECT d.title_fold FROM fts JOIN docs d ON d.id = fts.rowid WHERE fts MATCH ? LIMIT ?"
    return [str(title) for (title,) in conn.execute(sql, (match_expression([term]), limit))]


def _fts_rows(conn: sqlite3.Connection, match: str, *, ranked: bool) -> tuple[IntArray, FloatArray | None]:
    """Every matching rowid, with its bm25 score when `ranked`: one FTS5 pass for the page and the facets.

    The rows come back as one comma-joined string per column, parsed by numpy: stepping through a million
    rows one by one would take the GIL a million times and stall every other search thread. Scores keep
    the 15 significant digits SQLite prints; the page order and cursors all use these same values.
    """
    if not ranked:
        (ids,) = conn.execute("SELECT group_concat(rowid) FROM fts WHERE fts MATCH ?", (match,)).fetchone()
        return _parse(ids, np.int64), None
    sql = (
        f"SELECT group_concat(id), group_concat(score) FROM (SELECT rowid AS id, "
        f"{_BM25} AS score FROM fts WHERE fts MATCH ? LIMIT -1)"  # LIMIT -1: keeps bm25 out of the aggregate
    )
    ids, scores = conn.execute(sql, (match,)).fetchone()
    return _parse(ids, np.int64), _parse(scores, np.float64)


def _part_weighted(
    ids: IntArray, scores: FloatArray, part_rows: tuple[IntArray, FloatArray | None], weight: float
) -> FloatArray:
    """Scores with one part of them (a pass over some alternatives of the MATCH expression) scaled to `weight`.

    FTS5's bm25 is a sum over the phrases of the MATCH expression, each phrase's part independent of the others,
    so a pass over some of the phrases gives exactly what they added to each row's score.
    """
    part_ids, part_scores = part_rows
    assert part_scores is not None
    part = np.zeros(len(ids), dtype=np.float64)
    if len(part_ids):
        order = np.argsort(part_ids)
        sorted_ids, sorted_scores = part_ids[order], part_scores[order]
        at = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
        found = sorted_ids[at] == ids
        part[found] = sorted_scores[at[found]]
    result: FloatArray = scores + (weight - 1.0) * part
    return result


def _with_theme_rows(
    ids: IntArray, scores: FloatArray | None, theme_rows: IntArray
) -> tuple[IntArray, FloatArray | None]:
    """The matched rows and every row of the filtered themes they lack, those scored 0: bm25 scores are
    negative, so a row holding the words always ranks first."""
    extra = np.setdiff1d(theme_rows, ids, assume_unique=True)
    if not len(extra):
        return ids, scores
    joined = np.concatenate([ids, extra])
    return joined, None if scores is None else np.concatenate([scores, np.zeros(len(extra), dtype=np.float64)])


def _parse(joined: str | None, dtype: type[np.generic]) -> npt.NDArray[Any]:
    if not joined:
        return np.zeros(0, dtype=dtype)
    return np.fromstring(joined, dtype=dtype, sep=",")


def _page_rows(
    conn: sqlite3.Connection,
    matched: Matched,
    *,
    page: _Page,
    limit: int,
    uids_of: Callable[[sqlite3.Connection, IntArray, int], dict[int, str]],
    generation: int,
) -> list[_Row]:
    """(rowid, uid, sort key) of the page, ordered by key then uid; uids are read only near the boundary (`uids_of`
    the snapshot's, of index generation `generation`), and of a large group of rows tied at one key (a theme's
    records lacking every word, all at score 0) only as many as the page takes, walking the uid index
    (`_first_by_uid`)."""
    ids, keys = matched.ids, _sort_key(matched, page.sort)
    ascending = keys if page.sort == "relevance" else -keys
    need = page.offset + limit
    rows: list[_Row] = []
    if page.after is not None:
        after = page.after.key if page.sort == "relevance" else -page.after.key
        tied = ascending == after
        if tied.any():  # the rows tied with the cursor's and past its uid come first
            rows = _ties_in_uid_order(
                conn, ids[tied], keys[tied][:1].tolist()[0], take=need, after_uid=page.after.uid, uids_of=uids_of,
                generation=generation,
            )  # fmt: skip
        keep = ascending > after
        ids, keys, ascending = ids[keep], keys[keep], ascending[keep]
    wanted = need - len(rows)
    if wanted > 0 and len(ids):
        rows += _first_rows(conn, ids, keys, ascending, take=wanted, uids_of=uids_of, generation=generation)
    return rows[page.offset : need]


def _first_rows(
    conn: sqlite3.Connection,
    ids: IntArray,
    keys: npt.NDArray[Any],
    ascending: npt.NDArray[Any],
    *,
    take: int,
    uids_of: Callable[[sqlite3.Connection, IntArray, int], dict[int, str]],
    generation: int,
) -> list[_Row]:
    """The first `take` rows by (ascending key, uid)."""
    if len(ids) > take:
        bound = kth_smallest(ascending, take)
        at = ascending == bound
        if np.count_nonzero(at) > TIES_READ:  # the rows before the bound, then the first of the tie by uid
            before = ascending < bound
            head = _ranked(conn, ids[before], keys[before], ascending[before], uids_of=uids_of, generation=generation)
            return head + _ties_in_uid_order(
                conn, ids[at], keys[at][:1].tolist()[0], take=take - len(head), after_uid=None, uids_of=uids_of,
                generation=generation,
            )  # fmt: skip
        near = ascending <= bound  # keeps every tie at the boundary
        ids, keys, ascending = ids[near], keys[near], ascending[near]
    return _ranked(conn, ids, keys, ascending, uids_of=uids_of, generation=generation)[:take]


def _ranked(
    conn: sqlite3.Connection,
    ids: IntArray,
    keys: npt.NDArray[Any],
    ascending: npt.NDArray[Any],
    *,
    uids_of: Callable[[sqlite3.Connection, IntArray, int], dict[int, str]],
    generation: int,
) -> list[_Row]:
    """Rows `ids` by (ascending key, uid), those of `conn`'s snapshot only."""
    uids = uids_of(conn, ids, generation)
    ranked = sorted(
        (order, uids[row_id], row_id, key)
        for order, row_id, key in zip(ascending.tolist(), ids.tolist(), keys.tolist(), strict=True)
        if row_id in uids  # a row written after this snapshot began is not on the page
    )
    return [(row_id, uid, key) for _, uid, row_id, key in ranked]


TIES_READ = 2048
"""Rows tied at one sort key whose uids a page reads all to order them (from memory once read: KnownUids); more
are ordered by walking `docs`' uid index from the first uid (`_first_by_uid`), reading about take / share rows
where `share` is the tie's share of the file: a theme of 136,000 records at 1M, 13.6 %, ~80 rows for a page of 11."""


def _ties_in_uid_order(
    conn: sqlite3.Connection,
    ids: IntArray,
    key: Any,
    *,
    take: int,
    after_uid: str | None,
    uids_of: Callable[[sqlite3.Connection, IntArray, int], dict[int, str]],
    generation: int,
) -> list[_Row]:
    """The first `take` of rows `ids`, all at sort key `key`, in uid order past `after_uid` (None: from the first)."""
    if len(ids) > TIES_READ and (walked := _first_by_uid(conn, ids, take=take, after_uid=after_uid)) is not None:
        return [(row_id, uid, key) for row_id, uid in walked]
    uids = uids_of(conn, ids, generation)
    ordered = sorted((uid, row_id) for row_id, uid in uids.items() if after_uid is None or uid > after_uid)
    return [(row_id, uid, key) for uid, row_id in ordered[:take]]


def _first_by_uid(
    conn: sqlite3.Connection, ids: IntArray, *, take: int, after_uid: str | None
) -> list[tuple[int, str]] | None:
    """The first `take` of rows `ids` in uid order past `after_uid`, walking `docs`' uid index on `conn`'s snapshot
    in batches; None when that read as many rows as `ids` holds without finding them (a tie spread too thinly over
    the file), so reading the tie's uids costs no more."""
    wanted = np.zeros(int(ids.max()) + 1, dtype=np.bool_)
    wanted[ids] = True
    found: list[tuple[int, str]] = []
    read, batch, last = 0, max(4 * take, 256), after_uid
    while len(found) < take and read < len(ids):
        sql = "SELECT id, uid FROM docs" + (" WHERE uid > ?" if last is not None else "") + " ORDER BY uid LIMIT ?"
        rows = conn.execute(sql, (last, batch) if last is not None else (batch,)).fetchall()
        read += len(rows)
        found += [(row_id, uid) for row_id, uid in rows if row_id < len(wanted) and wanted[row_id]]
        if len(rows) < batch:
            return found[:take]
        last, batch = rows[-1][1], batch * 2
    return found[:take] if len(found) >= take else None


_BLOCK = 1024


def kth_smallest(values: npt.NDArray[Any], k: int) -> Any:
    """The k-th smallest of `values` (1 <= k <= len), as `np.partition(values, k - 1)[k - 1]` gives it, found among
    the values no greater than the k-th smallest of the minima of blocks of _BLOCK values: each minimum is another
    value, so that bound is never below the answer, and a page's few rows leave few values under it. A page of
    11 rows browsed from 1M: 11-13 ms for np.partition over every row, 0.5 ms this way."""
    if len(values) >= k * _BLOCK:
        minima = np.fmin.reduceat(values, np.arange(0, len(values), _BLOCK))
        bound = np.partition(minima, k - 1)[k - 1]
        under = values[values <= bound]
        if len(under) >= k:  # else a NaN bound: every value is searched
            values = under
    return np.partition(values, k - 1)[k - 1]


def _sort_key(matched: Matched, sort: str) -> npt.NDArray[Any]:
    if sort == "newest":
        return matched.sort_date
    if sort == "popular":
        return matched.popularity
    assert matched.scores is not None, "relevance needs scores"
    return matched.scores


_BOUND_IDS = 100
"""Up to this many rowids are bound one by one (`IN (?, ...)`, a page's worth: 0.02-0.03 ms less than through
json_each for 32 rows); more are passed as one JSON array."""


def _uids(conn: sqlite3.Connection, ids: IntArray) -> dict[int, str]:
    if not len(ids):
        return {}
    if len(ids) <= _BOUND_IDS:
        return dict(conn.execute(f"SELECT id, uid FROM docs WHERE id IN ({', '.join('?' * len(ids))})", ids.tolist()))
    sql = "SELECT id, uid FROM docs WHERE id IN (SELECT value FROM json_each(?))"
    return dict(conn.execute(sql, (json.dumps(ids.tolist()),)))


def _page(query: SearchQuery, *, has_text: bool) -> _Page:
    """Validate sort, page, size and cursor; relevance without a query browses newest first."""
    if query.sort not in _SORTS:
        raise QueryError(f"unknown sort {query.sort!r}; use one of {', '.join(_SORTS)}", field="sort")
    if not isinstance(query.size, int) or not 1 <= query.size <= MAX_PAGE_SIZE:
        raise QueryError(f"size must be between 1 and {MAX_PAGE_SIZE}", field="size")
    if not isinstance(query.page, int) or query.page < 1:
        raise QueryError("page must be 1 or more", field="page")
    sort = "newest" if query.sort == "relevance" and not has_text else query.sort
    if query.cursor:
        return _Page(sort=sort, offset=0, after=decode_cursor(query.cursor, sort=sort))
    return _Page(sort=sort, offset=(query.page - 1) * query.size, after=None)
