"""A bare tantivy index of the very tokens a SQLite index holds: the yardstick of bench_engines (issue 17).

`build` reads every row of the SQLite index's `fts` table (the segmented text indexer.analysis made) and of
`docs` (the facet codes, sort date and popularity), and writes one tantivy document per record: the eight FTS5
columns as text fields split on whitespace, the five facets as raw string fast fields, `sort_date` and
`popularity` as integer fast fields, and the theme and audience bit masks as two more (`theme_mask`,
`aud_mask`, with the code of each bit in `facet-codes.json` beside the index). Tokens are cut the way FTS5's
unicode61 tokenizer cuts the same column text (lower case, letters and digits only), so both engines index
identical tokens.

`BareTantivy.answer` runs one query of the benchmark mix: the backend's parsed query terms combined by the
backend's own plan (`bench.search_mix.Plans`: which terms a record must hold) as tantivy term and phrase
queries with the FTS5 column weights as boosts, the filters as term-set queries, top 10 by score (or by a
fast field for browse and the other sorts), and with facets one terms aggregation per facet, each over the
result set filtered by every *other* filter as the backend counts them. With `masks=True` the two multi-valued
facets (theme, audience) are counted as the backend counts them: one terms aggregation over the record's whole
mask, each distinct mask's count then added to each of its bits; the same counts, the work an application on
tantivy would do to count a set of flags (the yardstick without it counts each flag as a value of a
multi-valued field, which costs several times more over many hits).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import tantivy

from bench.search_mix import Params, Plans
from indexer.analysis import Alternative, QueryTerm
from indexer.backends.sqlite_schema import BM25_WEIGHTS, FTS_COLUMNS, MASK_FACETS
from indexer.match_plan import AllOf, Plan

FACETS = ("theme", "platform", "audience", "media_type", "is_free")
"""The five facets of every search (indexer.backends.base.FACET_FIELDS), as tantivy fast fields."""
_PARAM_FACETS = {"theme": "theme", "platform": "platform", "audience": "audience", "media_type": "media_type",
                 "free": "is_free"}  # fmt: skip
_TEXT_FIELDS = FTS_COLUMNS[:6]
_ALT_FIELDS = {"text": _TEXT_FIELDS, "chars": ("chars",), "pinyin": ("pinyin",)}
_BOOSTS = dict(zip(FTS_COLUMNS, BM25_WEIGHTS, strict=True))
_MASK_FIELDS = {"theme": "theme_mask", "audience": "aud_mask"}
_LAYOUT = 2
"""Bumped when the documents change (2: the mask fields), so an index of an older layout is rebuilt."""
_CODES_FILE = "facet-codes.json"
_MASK_BUCKETS = 10_000
_UNICODE61 = re.compile(r"[^\W_]+")
_BATCH = 10_000
_PAGE = 10


def unicode61(text: str) -> list[str]:
    """The tokens FTS5's unicode61 tokenizer (remove_diacritics 0) finds in `text`."""
    return _UNICODE61.findall(text.lower())


def schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    for column in FTS_COLUMNS:
        builder.add_text_field(column, tokenizer_name="whitespace", index_option="position")
    for facet in FACETS:
        builder.add_text_field(facet, fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("sort_date", fast=True)
    builder.add_integer_field("popularity", fast=True)
    for field in _MASK_FIELDS.values():
        builder.add_unsigned_field(field, fast=True)
    builder.add_unsigned_field("rowid", fast=True)
    return builder.build()


def build(sqlite_path: Path, directory: Path, *, heap_mb: int = 512) -> dict[str, Any]:
    """A fresh tantivy index in `directory` of every record of the SQLite index; returns its document count."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    fields = schema()
    index = tantivy.Index(fields, path=str(directory))
    writer = index.writer(heap_size=heap_mb * 1_000_000)
    count = 0
    for doc in _documents(sqlite_path):
        writer.add_document(tantivy.Document.from_dict(doc, fields))
        count += 1
    writer.commit()
    writer.wait_merging_threads()
    (directory / _CODES_FILE).write_text(json.dumps(_bit_values(sqlite_path), ensure_ascii=False))
    return {"documents": count}


def _bit_values(sqlite_path: Path) -> dict[str, dict[str, str]]:
    """Mask facet -> {bit: value} of the SQLite index's codes table."""
    conn = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT facet, value, code FROM codes").fetchall()
    finally:
        conn.close()
    return {facet: {str(code): value for f, value, code in rows if f == facet} for facet in _MASK_FIELDS}


def _documents(sqlite_path: Path) -> Iterator[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        values = {(f, c): v for f, v, c in conn.execute("SELECT facet, value, code FROM codes")}
        facets = "d.theme_mask, d.platform_id, d.aud_mask, d.media_id, d.free, d.sort_date, d.popularity"
        for rowid, texts, (theme, platform, audience, media, free, sort_date, popularity) in _rows(conn, facets):
            doc: dict[str, Any] = {c: " ".join(unicode61(t or "")) for c, t in zip(FTS_COLUMNS, texts, strict=True)}
            doc.update(
                theme=_mask_values(values, "theme", theme), audience=_mask_values(values, "audience", audience),
                platform=[values[("platform", platform)]] if platform else [],
                media_type=[values[("media_type", media)]] if media else [],
                is_free=["true" if free else "false"], sort_date=sort_date, popularity=popularity, rowid=rowid,
                theme_mask=theme or 0, aud_mask=audience or 0,
            )  # fmt: skip
            yield doc
    finally:
        conn.close()


def _rows(conn: sqlite3.Connection, facets: str) -> Iterator[tuple[int, Sequence[str], tuple[Any, ...]]]:
    """(rowid, the FTS_COLUMNS texts, the `facets` columns) of every record: the texts from `texts` (zstd, beside
    a contentless FTS5 table: indexer.backends.sqlite_text), or from the FTS5 table of a file written before."""
    has_texts = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'texts'").fetchone()
    if has_texts:
        from indexer.backends.sqlite_text import decode_fields

        sql = f"SELECT t.id, t.fields, {facets} FROM texts t JOIN docs d ON d.id = t.id"
        for row in conn.execute(sql):
            yield row[0], decode_fields(row[1], conn), row[2:]
        return
    columns = ", ".join(f"f.{c}" for c in FTS_COLUMNS)
    for row in conn.execute(f"SELECT f.rowid, {columns}, {facets} FROM fts f JOIN docs d ON d.id = f.rowid"):
        yield row[0], row[1 : 1 + len(FTS_COLUMNS)], row[1 + len(FTS_COLUMNS) :]


def _mask_values(values: dict[tuple[str, int], str], facet: str, mask: int) -> list[str]:
    assert facet in MASK_FACETS
    return [values[(facet, bit)] for bit in range(mask.bit_length()) if mask >> bit & 1 and (facet, bit) in values]


def directory_stamp(sqlite_path: Path) -> dict[str, Any]:
    """What a built index must match to be reused: the SQLite file's record count and write generation."""
    conn = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        (count,) = conn.execute("SELECT count(*) FROM docs").fetchone()
        (generation,) = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    finally:
        conn.close()
    return {"records": int(count), "generation": int(generation), "tantivy": tantivy.__version__, "layout": _LAYOUT}


def ensure_built(sqlite_path: Path, directory: Path) -> dict[str, Any]:
    """Build the index unless `directory` holds one stamped for this SQLite file; what was done."""
    stamp = directory_stamp(sqlite_path)
    stamp_file = directory / "bench-stamp.json"
    if stamp_file.exists() and json.loads(stamp_file.read_text()) == stamp:
        return {"built": False, **stamp}
    result = build(sqlite_path, directory)
    stamp_file.write_text(json.dumps(stamp))
    return {"built": True, **stamp, **result}


class BareTantivy:
    """Searches of the benchmark mix on a bare tantivy index (one instance per thread)."""

    def __init__(self, directory: Path, *, plans: Plans, masks: bool = False) -> None:
        self.plans = plans
        self.index = tantivy.Index.open(str(directory))
        self.schema = self.index.schema
        self.searcher = self.index.searcher()
        self.bit_values: dict[str, dict[int, str]] | None = None
        if masks:
            codes = json.loads((directory / _CODES_FILE).read_text())
            self.bit_values = {facet: {int(bit): value for bit, value in codes[facet].items()} for facet in codes}

    def answer(self, params: Params, *, with_facets: bool = True) -> dict[str, Any]:
        """Top 10 of the query, its total and (`with_facets`) the five facets' counts."""
        args = _params(params)
        text = self._text(args["q"])
        filters = {facet: self._filter(facet, values) for facet, values in args["filters"].items()}
        query = _all_of([text, *filters.values()])
        sort = args["sort"] if args["sort"] != "relevance" or text is not None else "newest"
        order_by = {"newest": "sort_date", "popular": "popularity"}.get(sort)
        offset = (args["page"] - 1) * _PAGE
        found = self.searcher.search(query, limit=_PAGE, count=True, order_by_field=order_by, offset=offset)
        result: dict[str, Any] = {"total": found.count, "top": len(found.hits)}
        if with_facets:
            result["facets"] = self._facets(text, filters)
        return result

    def _facets(self, text: tantivy.Query | None, filters: dict[str, tantivy.Query]) -> dict[str, dict[str, int]]:
        """Each facet over the results filtered by every other filter: one aggregation for the unfiltered facets,
        one more per filtered facet."""
        groups: dict[str | None, list[str]] = {None: [f for f in FACETS if f not in filters]}
        groups.update({facet: [facet] for facet in filters})
        counts: dict[str, dict[str, int]] = {}
        for left_out, facets in groups.items():
            if not facets:
                continue
            query = _all_of([text, *(q for f, q in filters.items() if f != left_out)])
            by_mask = {f for f in facets if self.bit_values is not None and f in _MASK_FIELDS}
            aggs = {f: {"terms": {"field": _MASK_FIELDS[f], "size": _MASK_BUCKETS}} for f in by_mask}
            aggs.update({f: {"terms": {"field": f, "size": 1000}} for f in facets if f not in by_mask})
            found = self.searcher.aggregate(query, aggs)
            for facet in facets:
                buckets = found.get(facet, {}).get("buckets", [])
                if facet in by_mask:
                    counts[facet] = self._mask_counts(facet, buckets)
                else:
                    counts[facet] = {str(b["key"]): int(b["doc_count"]) for b in buckets if b["doc_count"]}
        return counts

    def _mask_counts(self, facet: str, buckets: Sequence[dict[str, Any]]) -> dict[str, int]:
        """Each bit's value counted from the counts of the distinct masks holding it."""
        assert self.bit_values is not None
        values = self.bit_values[facet]
        counts: dict[str, int] = {}
        for bucket in buckets:
            mask, count = int(bucket["key"]), int(bucket["doc_count"])
            for bit in range(mask.bit_length()):
                if mask >> bit & 1 and bit in values:
                    counts[values[bit]] = counts.get(values[bit], 0) + count
        return counts

    def _text(self, q: str) -> tantivy.Query | None:
        if not q.strip():
            return None
        terms, plan = self.plans(q)
        return self._planned(terms, plan) if terms else None

    def _planned(self, terms: Sequence[QueryTerm], plan: Plan) -> tantivy.Query:
        """The plan's tree as boolean queries: all-of must match, any-of should (one at least), a leaf a term."""
        if isinstance(plan, int):
            return self._term(terms[plan])
        parts = [self._planned(terms, part) for part in plan.parts]
        return _all_of(parts) if isinstance(plan, AllOf) else _any_of(parts)

    def _term(self, term: QueryTerm) -> tantivy.Query:
        return _any_of([self._alternative(a) for a in term.alternatives])

    def _alternative(self, alt: Alternative) -> tantivy.Query:
        tokens = [piece for token in alt.tokens for piece in unicode61(token)]
        fields = _ALT_FIELDS[alt.field]
        if alt.phrase and len(tokens) > 1:  # a one-token phrase query panics in tantivy-py: a term query instead
            return _any_of([self._boosted(f, tantivy.Query.phrase_query(self.schema, f, tokens), alt) for f in fields])
        return _all_of([_any_of([self._boosted(f, self._token(f, t), alt) for f in fields]) for t in tokens])

    def _token(self, field: str, token: str) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, field, token)

    def _boosted(self, field: str, query: tantivy.Query, alt: Alternative) -> tantivy.Query:
        return tantivy.Query.boost_query(query, _BOOSTS[field] * alt.weight)

    def _filter(self, facet: str, values: Sequence[str]) -> tantivy.Query:
        return tantivy.Query.term_set_query(self.schema, facet, list(values))


def _all_of(queries: Sequence[tantivy.Query | None]) -> tantivy.Query:
    present = [q for q in queries if q is not None]
    if not present:
        return tantivy.Query.all_query()
    if len(present) == 1:
        return present[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in present])


def _any_of(queries: Sequence[tantivy.Query]) -> tantivy.Query:
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])


def _params(params: Params) -> dict[str, Any]:
    """q, filters (facet -> values), sort and page of the API parameters of a mix query."""
    found: dict[str, Any] = {"q": "", "filters": {}, "sort": "relevance", "page": 1}
    for name, value in params:
        if name in _PARAM_FACETS:
            found["filters"].setdefault(_PARAM_FACETS[name], []).append(value)
        elif name == "page":
            found["page"] = int(value)
        elif name in ("q", "sort"):
            found[name] = value
        else:
            raise ValueError(f"the bare tantivy index has no parameter {name!r}")
    return found
