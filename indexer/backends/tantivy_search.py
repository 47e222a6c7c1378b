"""Ranked text search on the derived tantivy index: the match plan as tantivy queries, top-k pages, facets.

A query term becomes the disjunction of its alternatives, each boosted by its weight (EXPANSION_WEIGHT for a
catalogue word's expansions): a token is a term, a phrase a phrase query, in its group's weighted field
(weighted_fields.WEIGHTED_FIELDS, where each scores as FTS5's bm25 scores a phrase); the plan's all-of / any-of
become must / should clauses. Filters are unscored clauses over the facet codes. A page is the top `offset + size`
by score (or, sorted by newest or popular, by that fast field, descending), fetched again with a larger limit while
the last key is shared with rows not yet fetched, so ties order by uid as on the FTS5 path and a cursor (key, uid)
resumes exactly (tantivy pages by offset only); a search that also finds every record of its theme filter
(`EngineRequest.in_theme`) takes the records matching none of its words, all tied at score 0, from a search of their
own ordered by the uid fast field (tantivy_schema.UID_FIELD). Facet counts are terms aggregations over the fast
fields, one per distinct set of filters (each facet ignores its own filter), and the total comes from the is_free
counts when they are taken anyway, so a faceted search visits the matches once per filtered facet. A mask facet
(theme, audience) is counted over its single-valued whole-mask field, each distinct mask's count then added to each
of its bits; the single-valued facets over one field of their codes packed together, each distinct combination's
count then added to each of its codes (tantivy_schema.PACKED_FIELD). A one-token phrase is built as a term query:
tantivy panics on a phrase of one term.

The same index answers what a query's plan needs besides its page (the FTS5 index is not kept with this engine,
sqlite_text): the number of records holding a token in any column (`frequencies`, what fts5vocab counted), the
titles of the first records by rowid a term matches (`titles_of`) and the titles containing a string (suggest's
`titles_containing`).
"""

from __future__ import annotations

import functools
import sqlite3
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
import tantivy

from indexer.analysis import Alternative, QueryTerm, chars_text
from indexer.backends.base import FACET_FIELDS
from indexer.backends.cursor import Cursor
from indexer.backends.sqlite_facets import Filters
from indexer.backends.sqlite_schema import MASK_FACETS, FacetCodes
from indexer.backends.tantivy_index import TantivyIndex
from indexer.backends.tantivy_schema import FACET_FIELDS as FACET_COLUMNS
from indexer.backends.tantivy_schema import (
    ID_FIELD,
    MASK_FIELDS,
    PACK_OVERFLOW,
    PACKED_FACETS,
    PACKED_FIELD,
    UID_FIELD,
    set_bits,
    unpacked,
)
from indexer.backends.weighted_fields import WEIGHTED_FIELDS
from indexer.match_plan import AllOf, Plan

_MUST, _SHOULD = tantivy.Occur.Must, tantivy.Occur.Should
_SORT_FIELDS = {"newest": "sort_date", "popular": "popularity"}
"""A sort other than relevance -> the fast field it orders by, descending (the `docs` column of that name)."""
_DESCENDING, _ASCENDING = tantivy.Order.Desc, tantivy.Order.Asc
_MUST_NOT = tantivy.Occur.MustNot
_TIED = -0.0
"""The order (-score) of a record an in-theme search finds through its filter alone (`_in_theme`)."""
_FIRST_FETCH = 128
"""Rows the first top-k fetch of a page asks for. A page's last score is often shared by dozens of rows (a course
series' equal texts), all of whose uids order the page, and a fetch that stops inside them is run again larger: at
1M records 32 left 6 of bench_engines' 22 typical queries and most common words a second search (~0.2-0.7 ms);
128 costs the rest ~20 us more to read (a page of the same rows either way). 256 was slower for common words."""
_GROWTH = 4
_BUCKETS = 10_000
_FREE = "is_free"
_PACKED = "_packed"
"""The key of the packed facets' aggregation among the facets' own."""
_MATCHES = itemgetter(1)
KNOWN_ROWIDS = 100_000
"""Document rowids kept with the held searcher (`TantivySearch._rowids`: about 100 bytes each, ~10 MB at most)."""


@dataclass
class EnginePage:
    """The rows of one page as (rowid, uid, sort key), ordered; the total; the facets (empty when not asked)."""

    rows: list[tuple[int, str, float]]
    total: int
    facets: dict[str, dict[str, int]]


@dataclass(frozen=True)
class EngineRequest:
    """One ranked pass: the terms under a plan, the active filters, the page wanted."""

    terms: Sequence[QueryTerm]
    plan: Plan
    filters: Filters
    offset: int
    limit: int
    after: Cursor | None
    in_theme: bool = False
    with_facets: bool = True
    sort: str = "relevance"


UidsOf = Callable[[sqlite3.Connection, np.ndarray, int], dict[int, str]]
"""The uids of rowids on the caller's snapshot, whose index generation is the third argument."""


class TantivySearch:
    """Answers EngineRequests from the tantivy index, reading uids from the caller's SQLite snapshot."""

    def __init__(
        self, index: TantivyIndex, *, codes: FacetCodes, uids_of: UidsOf, buckets: int = _BUCKETS,
        known_rowids: int = KNOWN_ROWIDS,
    ) -> None:  # fmt: skip
        self._index = index
        self._known_rowids = known_rowids
        """Document rowids kept with the held searcher at most (`_rowids`)."""
        self._buckets = buckets
        """Distinct masks a mask facet's aggregation returns at most (a facet with more is counted again over its
        bits)."""
        self._schema = index.schema
        self._analyzer = index.analyzer
        self._codes = codes
        self._uids_of = uids_of
        self._held: tuple[int, tantivy.Searcher, dict[int, int]] | None = None
        """The searcher the last search of a snapshot of this generation took, for the next one to reuse, with the
        rowids of its documents read so far (segment ordinal << 32 | document -> rowid: `_rowids`)."""

    def _searcher(self, conn: sqlite3.Connection, generation: int | None = None) -> tantivy.Searcher:
        """A searcher holding at least the generation of `conn`'s snapshot (`generation` when the caller has read
        it): the one taken for that generation before, or a new one from the index (which reads the engine's state
        file and may catch it up)."""
        if generation is None:
            (generation,) = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        held = self._held
        if held is not None and held[0] == int(generation):
            return held[1]
        searcher = self._index.searcher(conn)
        self._held = (int(generation), searcher, {})
        return searcher

    def page(self, conn: sqlite3.Connection, request: EngineRequest, *, generation: int | None = None) -> EnginePage:
        """The request's page on `conn`'s snapshot (of index generation `generation` when the caller has read it)."""
        if generation is None:
            (generation,) = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        generation = int(generation)
        searcher = self._searcher(conn, generation)
        scored = self.text_query(request.terms, request.plan)
        filters = self._filter_queries(request.filters)
        in_theme = request.in_theme and "theme" in filters
        matched = tantivy.Query.boolean_query([(_SHOULD, scored), (_SHOULD, filters["theme"])]) if in_theme else scored
        facets: dict[str, dict[str, int]] = {}
        total: int | None = None
        if request.with_facets:
            facets = self._facets(searcher, matched, filters)
            if _FREE not in filters:
                total = sum(facets[_FREE].values())
        if in_theme and request.sort == "relevance":
            rows, counted = self._in_theme(
                conn, searcher, scored, filters, request, count=total is None, generation=generation
            )
        else:
            full = _all_of([matched, *filters.values()])
            ranked, counted = self._ranked(conn, searcher, full, request, count=total is None, generation=generation)
            relevance = request.sort == "relevance"  # the key a cursor keeps: -score, or the sort field's value
            rows = [(row_id, uid, order if relevance else -order) for order, uid, row_id in ranked[request.offset :]]
        return EnginePage(rows=rows, total=counted if total is None else total, facets=facets)

    # -- queries --------------------------------------------------------------------------------------

    def text_query(self, terms: Sequence[QueryTerm], plan: Plan) -> tantivy.Query:
        """The plan over `terms` as one tantivy query."""
        if isinstance(plan, int):
            return _any_of([self._alternative(alt) for alt in terms[plan].alternatives])
        parts = [self.text_query(terms, part) for part in plan.parts]
        return _all_of(parts) if isinstance(plan, AllOf) else _any_of(parts)

    def _alternative(self, alt: Alternative) -> tantivy.Query:
        if alt.phrase:
            query = self._phrase(alt.field, [t for token in alt.tokens for t in self._analyzer.analyze(token)])
        else:
            query = _all_of([self._phrase(alt.field, self._analyzer.analyze(token)) for token in alt.tokens])
        return query if alt.weight == 1.0 else tantivy.Query.boost_query(query, alt.weight)

    def _phrase(self, group: str, tokens: Sequence[str]) -> tantivy.Query:
        """`tokens` in order and adjacent in the group's weighted field (a term query for one token)."""
        field = WEIGHTED_FIELDS[group]
        if not tokens:
            return tantivy.Query.empty_query()
        if len(tokens) == 1:
            return tantivy.Query.term_query(self._schema, field, tokens[0])
        return tantivy.Query.phrase_query(self._schema, field, list(tokens))

    def _filter_queries(self, filters: Filters) -> dict[str, tantivy.Query]:
        """facet -> an unscored clause keeping the rows that pass its filter."""
        queries = {}
        for facet in filters.facets():
            values = list(set_bits(filters.masks[facet])) if facet in filters.masks else list(filters.codes[facet])
            if not values:
                queries[facet] = tantivy.Query.empty_query()
                continue
            found = tantivy.Query.term_set_query(self._schema, FACET_COLUMNS[facet], values)
            queries[facet] = tantivy.Query.const_score_query(found, 0.0)
        return queries

    # -- results --------------------------------------------------------------------------------------

    def _ranked(
        self,
        conn: sqlite3.Connection,
        searcher: tantivy.Searcher,
        query: tantivy.Query,
        request: EngineRequest,
        *,
        count: bool,
        generation: int,
    ) -> tuple[list[tuple[float, str, int]], int]:
        """The first `offset + limit` rows past the cursor as (order, uid, rowid), ordered, order = -score (or -value
        of the sort's field); and the number of matches when `count`."""
        relevance = request.sort == "relevance"
        need = request.offset + request.limit
        after = request.after
        after_order = None if after is None else (float(after.key) if relevance else -after.key)
        fetch = max(_FIRST_FETCH, 2 * need)
        total = 0
        while True:
            if relevance:
                found = searcher.search(query, limit=fetch, count=count)
            else:
                field = _SORT_FIELDS[request.sort]
                found = searcher.search(query, limit=fetch, count=count, order_by_field=field, order=_DESCENDING)
            if count:
                total, count = int(getattr(found, "count", 0) or 0), False  # `count` is missing from the stubs
            hits = found.hits
            orders = [-float(key) if relevance else -int(key) for key, _ in hits]
            exhausted = len(hits) < fetch
            known = len(orders) if exhausted else bisect_left(orders, orders[-1])  # rows whose order is settled
            beyond = known - (bisect_right(orders, after_order) if after_order is not None else 0)
            if exhausted or beyond >= need:
                break
            fetch *= _GROWTH
        start = bisect_left(orders, after_order) if after_order is not None else 0
        # Only rows up to the page's last key can be on it (with those tied with the cursor's key, which it may
        # pass over): their uids are read first, and the rest only when some row is not in the caller's snapshot.
        reach = need + (bisect_right(orders, after_order) - start if after_order is not None else 0)
        cut = known if known - start <= reach else bisect_right(orders, orders[start + reach - 1], start, known)
        ids, uids = self._ids_and_uids(conn, searcher, hits[start:cut], generation)
        if len(uids) < len(ids) and cut < known:
            ids, uids = self._ids_and_uids(conn, searcher, hits[start:known], generation)
        ranked = sorted(
            (order, uids[row_id], row_id)
            for order, row_id in zip(orders[start:], ids.tolist(), strict=False)
            if row_id in uids  # a row the caller's snapshot does not hold yet is not on the page
        )
        if after is not None:
            ranked = [row for row in ranked if (row[0], row[1]) > (after_order, after.uid)]
        return ranked[:need], total

    def _in_theme(
        self,
        conn: sqlite3.Connection,
        searcher: tantivy.Searcher,
        scored: tantivy.Query,
        filters: dict[str, tantivy.Query],
        request: EngineRequest,
        *,
        count: bool,
        generation: int,
    ) -> tuple[list[tuple[int, str, float]], int]:
        """The page of a search that also finds every record passing the filters (`EngineRequest.in_theme`): those
        `scored` matches by score, then all the others, tied at score 0, by uid; and the number of records passing
        the filters when `count`.

        The records tied at 0 are most of a theme (136,000 at 1M records for a word none of 代际沟通's holds), and
        ordering them by uid as `_ranked` orders ties read every one's rowid and uid and sorted them in Python
        (430-460 ms a search). Here they are a search of their own ordered by the uid fast field, which hands over
        the first of them in uid order."""
        need = request.offset + request.limit
        after = request.after
        after_order = None if after is None else float(after.key)
        passing = list(filters.values())
        total = int(getattr(searcher.search(_all_of(passing), limit=1, count=True), "count", 0) or 0) if count else 0
        ranked: list[tuple[float, str, int]] = []
        if after_order is None or after_order < 0:  # the cursor, if any, is among the scored records
            ranked, _ = self._ranked(
                conn, searcher, _all_of([scored, *passing]), request, count=False, generation=generation
            )
        if len(ranked) < need:
            tied = tantivy.Query.boolean_query([*((_MUST, q) for q in passing), (_MUST_NOT, scored)])
            after_uid = after.uid if after is not None and after_order is not None and after_order >= 0 else None
            ranked += [
                (_TIED, uid, row_id)
                for uid, row_id in self._by_uid(conn, searcher, tied, after_uid, need - len(ranked), generation)
            ]
        return [(row_id, uid, order) for order, uid, row_id in ranked[request.offset : need]], total

    def _by_uid(
        self,
        conn: sqlite3.Connection,
        searcher: tantivy.Searcher,
        query: tantivy.Query,
        after_uid: str | None,
        need: int,
        generation: int,
    ) -> list[tuple[str, int]]:
        """(uid, rowid) of the first `need` records matching `query` by uid, past `after_uid` when given, that the
        caller's snapshot holds."""
        fetch = max(_FIRST_FETCH, 2 * need)
        while True:
            hits = searcher.search(query, limit=fetch, count=False, order_by_field=UID_FIELD, order=_ASCENDING).hits
            start = 0 if after_uid is None else bisect_right([str(uid) for uid, _ in hits], after_uid)
            ids, uids = self._ids_and_uids(conn, searcher, hits[start:], generation)
            found = [(uids[row_id], row_id) for row_id in ids.tolist() if row_id in uids]
            if len(found) >= need or len(hits) < fetch:
                return found[:need]
            fetch *= _GROWTH

    def _ids_and_uids(
        self,
        conn: sqlite3.Connection,
        searcher: tantivy.Searcher,
        hits: Sequence[tuple[object, tantivy.DocAddress]],
        generation: int,
    ) -> tuple[np.ndarray, dict[int, str]]:
        """The rowids of `hits` (each with its order key: a score, a sort field's value or a uid) and the uids the
        caller's snapshot (of index generation `generation`) holds for them."""
        ids = np.asarray(self._rowids(searcher, [address for _, address in hits]), dtype=np.int64)
        return ids, self._uids_of(conn, ids, generation)

    def _rowids(self, searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress]) -> list[int]:
        """The rowids of documents of `searcher`, those met before by a search on the same searcher kept.

        Reading the ID_FIELD fast field costs ~40 us a call whatever the number of documents (at 1M records, four
        segments: it opens the column of each), and the same words, or other pages and filters of them, meet the
        same documents again. A document's address only means something to its searcher, so what is kept goes with
        the searcher held for the generation (a new generation starts afresh)."""
        held = self._held
        kept: dict[int, int] = held[2] if held is not None and held[1] is searcher else {}
        keys = [address.segment_ord << 32 | address.doc for address in addresses]
        found = [kept.get(key) for key in keys]  # other threads may add or clear meanwhile: each looked up once
        asked = [address for address, rowid in zip(addresses, found, strict=True) if rowid is None]
        if not asked:
            return found  # type: ignore[return-value]  # none is None
        # every document holds its rowid: a None here (no column) fails in int() as the array's conversion did
        read = [int(value) for value in searcher.fast_field_values(ID_FIELD, asked)]  # type: ignore[arg-type]
        if len(kept) + len(read) > self._known_rowids:
            kept.clear()
        kept.update(zip([address.segment_ord << 32 | address.doc for address in asked], read, strict=True))
        fresh = iter(read)
        return [next(fresh) if rowid is None else rowid for rowid in found]

    # -- what a query's plan needs -------------------------------------------------------------------

    def frequencies(self, conn: sqlite3.Connection, tokens: Sequence[str]) -> tuple[dict[str, int], int]:
        """Records holding each token in any column, as FTS5's fts5vocab counted them (a token the analyzer would
        cut or lowercase is no single indexed term there either: none), and the number of records."""
        searcher = self._searcher(conn)
        found: dict[str, int] = {}
        for token in tokens:
            if self._analyzer.analyze(token) != [token]:
                continue
            held = _any_of([tantivy.Query.term_query(self._schema, f, token) for f in WEIGHTED_FIELDS.values()])
            n = int(getattr(searcher.search(held, limit=1, count=True), "count", 0) or 0)
            if n:
                found[token] = n
        (total,) = conn.execute("SELECT count(*) FROM docs").fetchone()
        return found, int(total)

    def titles_of(self, conn: sqlite3.Connection, term: QueryTerm, *, limit: int) -> list[str]:
        """Folded titles of at most `limit` records the term matches, the first by rowid (no ranking pass)."""
        ids = self._first_ids(conn, self.text_query([term], 0), limit)
        if not ids:
            return []
        sql = f"SELECT title_fold FROM docs WHERE id IN ({', '.join('?' * len(ids))}) ORDER BY id"
        return [str(title) for (title,) in conn.execute(sql, ids)]

    def titles_containing(self, conn: sqlite3.Connection, folded: str, *, scan: int) -> list[str]:
        """Titles containing `folded` (already folded), most popular first, among the first `scan` records by
        rowid whose title characters hold it in order."""
        tokens = chars_text(folded).split()
        if not tokens:
            return []
        ids = self._first_ids(conn, self._alternative(Alternative("chars", tuple(tokens), phrase=True)), scan)
        if not ids:
            return []
        sql = (
            f"SELECT COALESCE(title, title_fold) FROM docs WHERE id IN ({', '.join('?' * len(ids))}) "
            "AND instr(title_fold, ?) > 0 ORDER BY popularity DESC, COALESCE(title, title_fold)"
        )
        return [str(title) for (title,) in conn.execute(sql, (*ids, folded))]

    def _first_ids(self, conn: sqlite3.Connection, query: tantivy.Query, limit: int) -> list[int]:
        """The lowest `limit` rowids matching `query` in the index."""
        found = self._searcher(conn).search(query, limit=limit, order_by_field=ID_FIELD, order=tantivy.Order.Asc)
        return [int(row_id) for row_id, _ in found.hits]

    def _facets(
        self, searcher: tantivy.Searcher, scored: tantivy.Query, filters: dict[str, tantivy.Query]
    ) -> dict[str, dict[str, int]]:
        """Counts of every facet over the matches, each under every filter but its own."""
        groups: dict[str | None, list[str]] = {}
        for facet in FACET_FIELDS:
            groups.setdefault(facet if facet in filters else None, []).append(facet)
        facets: dict[str, dict[str, int]] = {}
        for left_out, members in groups.items():
            query = _all_of([scored, *(q for f, q in filters.items() if f != left_out)])
            counted = self._counted(searcher, query, members)
            for facet in members:
                facets[facet] = self._named(facet, counted[facet])
        return {facet: facets[facet] for facet in FACET_FIELDS}

    def _counted(
        self, searcher: tantivy.Searcher, query: tantivy.Query, members: list[str]
    ) -> dict[str, dict[int, int]]:
        """facet -> code -> matches of each of `members` over the matches of `query`: a mask facet over its whole
        masks, the packed facets over their packed codes (one alone over its own field), one aggregation for them
        all; a facet of more distinct values than the buckets returned (or a record whose codes did not fit the
        packing) counted again over its own field."""
        packed = [f for f in members if f in PACKED_FACETS]
        fields = {f: (MASK_FIELDS[f], self._buckets) for f in members if f in MASK_FIELDS}
        if len(packed) == 1:  # a facet counted under every filter but its own: its own field has fewer values
            fields[packed[0]], packed = (FACET_COLUMNS[packed[0]], _BUCKETS), []
        if packed:
            fields[_PACKED] = (PACKED_FIELD, self._buckets)
        counted, cut = _terms(searcher, query, fields)
        found = {f: _bit_counts(counted[f]) for f in members if f in MASK_FIELDS and f not in cut}
        found.update((f, counted[f]) for f in members if f in counted and f not in MASK_FIELDS and f not in cut)
        if packed and _PACKED not in cut and (split := _packed_counts(counted[_PACKED], packed)) is not None:
            found.update(split)
        again = [f for f in members if f not in found]
        if again:
            found.update(_terms(searcher, query, {f: (FACET_COLUMNS[f], _BUCKETS) for f in again})[0])
        return found

    def _named(self, facet: str, counts: dict[int, int]) -> dict[str, int]:
        """value -> matches, most matches first, then by value."""
        named: dict[str, int] = {}
        if facet == _FREE:
            for code, n in counts.items():
                if n:
                    name = "true" if code else "false"
                    named[name] = named.get(name, 0) + n
        else:
            value, no_value = self._codes.value, facet not in MASK_FACETS  # code 0: no value (no media type)
            for code, n in counts.items():
                if n and not (no_value and code == 0) and (found := value(facet, code)) is not None:
                    named[found] = named.get(found, 0) + n
        return dict(sorted(sorted(named.items()), key=_MATCHES, reverse=True))  # by value, then (stably) by matches


def _all_of(parts: Sequence[tantivy.Query]) -> tantivy.Query:
    return parts[0] if len(parts) == 1 else tantivy.Query.boolean_query([(_MUST, p) for p in parts])


def _any_of(parts: Sequence[tantivy.Query]) -> tantivy.Query:
    return parts[0] if len(parts) == 1 else tantivy.Query.boolean_query([(_SHOULD, p) for p in parts])


def _terms(
    searcher: tantivy.Searcher, query: tantivy.Query, fields: dict[str, tuple[str, int]]
) -> tuple[dict[str, dict[int, int]], list[str]]:
    """facet -> value -> matches over its (fast field, most values returned) in `fields`, one aggregation for them
    all; and the facets with more values than were returned."""
    aggregations = {f: {"terms": {"field": field, "size": size}} for f, (field, size) in fields.items()}
    answer = searcher.aggregate(query, aggregations)
    counted = {}
    cut = []
    for facet in fields:
        found = answer.get(facet, {})
        counted[facet] = {int(b["key"]): int(b["doc_count"]) for b in found.get("buckets", ())}
        if found.get("sum_other_doc_count"):
            cut.append(facet)
    return counted, cut


def _packed_counts(combinations: dict[int, int], facets: list[str]) -> dict[str, dict[int, int]] | None:
    """facet -> code -> matches of each of `facets` (of PACKED_FACETS) from packed codes -> matches, or None when a
    record's codes did not fit (PACK_OVERFLOW). Each combination's codes are split once per process (`_codes_of`: a
    search meets a few dozen of a catalogue's few thousand, and the next search mostly the same), then added up in
    plain Python: inside real searches at 1M records ~40 us less than numpy's bincount over the combinations (each
    numpy call's overhead is larger there than in a loop replaying the same answers, where numpy is ahead)."""
    if PACK_OVERFLOW in combinations:
        return None
    if len(facets) == 4 and tuple(facets) == PACKED_FACETS:  # a search without a filter on them: the loop unrolled
        first: dict[int, int] = {}
        second: dict[int, int] = {}
        third: dict[int, int] = {}
        fourth: dict[int, int] = {}
        for value, matches in combinations.items():
            a, b, c, d = _codes_of(value)
            first[a] = first.get(a, 0) + matches
            second[b] = second.get(b, 0) + matches
            third[c] = third.get(c, 0) + matches
            fourth[d] = fourth.get(d, 0) + matches
        return dict(zip(facets, (first, second, third, fourth), strict=True))
    at = [PACKED_FACETS.index(facet) for facet in facets]
    counts: list[dict[int, int]] = [{} for _ in facets]
    for value, matches in combinations.items():
        codes = _codes_of(value)
        for position, found in zip(at, counts, strict=True):
            code = codes[position]
            found[code] = found.get(code, 0) + matches
    return dict(zip(facets, counts, strict=True))


@functools.lru_cache(maxsize=8192)
def _codes_of(value: int) -> tuple[int, ...]:
    return unpacked(value)


def _bit_counts(masks: dict[int, int]) -> dict[int, int]:
    """bit -> matches with that bit set, from whole mask -> matches with that mask."""
    counts: dict[int, int] = {}
    for mask, n in masks.items():
        for bit in set_bits(mask):
            counts[bit] = counts.get(bit, 0) + n
    return counts
