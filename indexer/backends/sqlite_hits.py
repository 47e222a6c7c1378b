"""The hits of a SQLite search page: each row's stored record (its payload), highlights and also_on records.

A pass of the search (one page of rowids, or the first records another step reads to place a page) gives hits
that know only their uid and score: the stored record, its highlights and its also_on records are read when first
asked for, and the stored analysis of its text when a step asks for the words it holds (`SearchHit.text_fields`).
A step that only orders records, as ranking the words a query typed apart does over its first 50 records, reads
no payload; the hits a result shows are built before the search's snapshot ends (`HitReader.built`), those of a
pass's page together in one query, as they are shown. Reading the payloads of 50 records and validating them was
most of what that ranking cost (~2.5 of 3.6 ms at 1M records, bench/RESULTS.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence

from indexer.analysis import DocumentText, QueryTerm
from indexer.backends.base import SearchHit
from indexer.backends.sqlite_payload import payload_json
from indexer.backends.sqlite_schema import FacetCodes
from indexer.backends.sqlite_text import FTS_COLUMNS, decode_fields
from indexer.errors import IndexBackendError
from indexer.highlight import Highlighter
from indexer.record import Record
from indexer.record_text import record_text, remember_analysis

ALSO_ON_LIMIT = 5


class StoredHit(SearchHit):
    """A hit of a stored row whose record, highlight and also_on are read when first asked for (with those of the
    other unbuilt hits of its pass's page, in one query), on the snapshot of the search that found it."""

    def __init__(self, page: _PageRead, row_id: int, uid: str, score: float) -> None:
        # SearchHit's own fields are set by the build; only score and missing are known (or given) before it
        self._page: _PageRead | None = page
        self._row_id = row_id
        self._uid = uid
        self.score = score
        self.missing = ()
        self._record: Record | None = None
        self._highlight: dict[str, str] = {}
        self._also_on: list[Record] = []
        self._text: DocumentText | None = None

    @property
    def record(self) -> Record:
        if self._record is None:
            self._built_page().build()
        assert self._record is not None
        return self._record

    @record.setter
    def record(self, value: Record) -> None:
        self._record = value

    @property
    def highlight(self) -> dict[str, str]:
        if self._record is None:
            self._built_page().build()
        return self._highlight

    @highlight.setter
    def highlight(self, value: dict[str, str]) -> None:
        self._highlight = value

    @property
    def also_on(self) -> list[Record]:
        if self._record is None:
            self._built_page().build()
        return self._also_on

    @also_on.setter
    def also_on(self, value: list[Record]) -> None:
        self._also_on = value

    @property
    def uid(self) -> str:
        return self._uid

    @property
    def built(self) -> bool:
        return self._record is not None

    def text_fields(self) -> Mapping[str, str]:
        if self._record is None and self._text is None and self._page is not None:
            self._page.read_texts()
        if self._record is None and self._text is not None:
            return self._text.fields
        if self._record is None:  # no stored analysis: the record's own, as any backend's
            self._built_page().build([self])
        return record_text(self.record).fields

    def _built_page(self) -> _PageRead:
        if self._page is None:
            raise IndexBackendError("a search hit was read after its search ended")  # never: `built` reads them
        return self._page


class _PageRead:
    """The hits of one pass's page and what building them needs: the search's connection (its snapshot) and the
    query's terms; `analysed`: the records carry the analysis of their text the index stored."""

    def __init__(self, reader: HitReader, conn: sqlite3.Connection, *, terms: list[QueryTerm], analysed: bool) -> None:
        self.reader, self.conn, self.terms, self.analysed = reader, conn, terms, analysed
        self.hits: list[StoredHit] = []

    def read_texts(self) -> None:
        """The stored analysis of every hit of the page not built nor read yet (none without `analysed`)."""
        if not self.analysed:
            return
        waiting = [hit for hit in self.hits if hit._record is None and hit._text is None]
        if waiting:
            texts = _texts(self.conn, [hit._row_id for hit in waiting])
            for hit in waiting:
                hit._text = texts.get(hit._row_id)

    def build(self, only: Iterable[StoredHit] | None = None) -> None:
        """Build the page's hits not built yet (of them those in `only`), in the page's order: the records, their
        highlights, then also_on, phase by phase rather than hit by hit (4-10% less CPU a hit inside real searches,
        bench/bench_hits.py: each phase's code stays in the caches)."""
        wanted = None if only is None else {id(hit) for hit in only}
        hits = [hit for hit in self.hits if hit._record is None and (wanted is None or id(hit) in wanted)]
        if not hits:
            return
        conn = self.conn
        ids = [hit._row_id for hit in hits]
        stored = _stored(conn, ids, analysed=self.analysed and any(hit._text is None for hit in hits))
        records = []
        for row_id in ids:
            if row_id not in stored:
                raise IndexBackendError(f"the stored record of row {row_id} is missing from its search's snapshot")
            records.append(Record.model_validate_json(payload_json(stored[row_id][0], conn)))
        highlighter = Highlighter(self.terms)
        for hit, record in zip(hits, records, strict=True):
            text = hit._text if hit._text is not None else stored[hit._row_id][1]
            if text is not None:
                remember_analysis(record, text)
            hit._record, hit._text = record, None
            hit._highlight = highlighter.record(title=record.title, description=record.description)
        for hit in hits:
            if hit._record is not None and hit._record.cluster_id:
                hit._also_on = self.reader.also_on(conn, hit._record)


class HitReader:
    """Builds the hits of a page of rowids on the caller's connection (its open snapshot)."""

    def __init__(self, codes: FacetCodes) -> None:
        self._codes = codes

    def hits(
        self,
        conn: sqlite3.Connection,
        rows: list[tuple[int, str, float]],
        *,
        terms: list[QueryTerm],
        analysed: bool,
    ) -> list[SearchHit]:
        """The hits of `rows` (rowid, uid, score as the engine gave it), unbuilt (`StoredHit`); with `analysed`,
        each record carries the analysis of its text the index stored (indexer.record_text reuses it instead of
        segmenting the text again). `built` must be given every hit a result shows before `conn`'s snapshot
        ends."""
        page = _PageRead(self, conn, terms=terms, analysed=analysed)
        page.hits = [StoredHit(page, row_id, uid, -float(score)) for row_id, uid, score in rows]
        return list(page.hits)

    def built(self, hits: Sequence[SearchHit]) -> None:
        """Build every unbuilt hit of `hits`, those of one page together, and let go of what they were read with."""
        pages: dict[int, tuple[_PageRead, list[StoredHit]]] = {}
        for hit in hits:
            if isinstance(hit, StoredHit) and hit._page is not None:
                pages.setdefault(id(hit._page), (hit._page, []))[1].append(hit)
        for page, shown in pages.values():
            page.build(shown)
        for _, shown in pages.values():
            for hit in shown:
                hit._page = None

    def also_on(self, conn: sqlite3.Connection, record: Record) -> list[Record]:
        """Records of the same cluster on other platforms."""
        platform = self._codes.code("platform", record.platform)
        rows = conn.execute(
            "SELECT p.json FROM docs d JOIN payloads p ON p.id = d.id "
            "WHERE d.cluster_id = ? AND d.platform_id != ? ORDER BY d.uid LIMIT ?",
            (record.cluster_id, -1 if platform is None else platform, ALSO_ON_LIMIT),
        )
        return [Record.model_validate_json(payload_json(payload, conn)) for (payload,) in rows]


def _stored(
    conn: sqlite3.Connection, ids: list[int], *, analysed: bool
) -> dict[int, tuple[object, DocumentText | None]]:
    """rowid -> its stored payload and, with `analysed`, the analysis of the record's text as it was indexed (None
    without, or when the row has no stored text). One query either way: the texts come with the payloads (left
    joins, so a payload without them is still read)."""
    marks = ", ".join("?" * len(ids))
    if not analysed:
        return {row_id: (payload, None) for row_id, payload in conn.execute(_PAYLOADS.format(marks), ids)}
    found: dict[int, tuple[object, DocumentText | None]] = {}
    for row_id, payload, text_id, title_fold, title_pinyin, fields in conn.execute(_ANALYSED.format(marks), ids):
        text = None if text_id is None else _text(conn, title_fold, title_pinyin, fields)
        found[int(row_id)] = (payload, text)
    return found


def _texts(conn: sqlite3.Connection, ids: list[int]) -> dict[int, DocumentText]:
    """rowid -> the analysis of the record's text as it was indexed, for the rows of `ids` that have one stored:
    the FTS_COLUMNS strings kept in `texts`, the folded title and title pinyin in `docs` (what
    analysis.analyze_document gave when the record was written)."""
    sql = _TEXTS.format(", ".join("?" * len(ids)))
    return {
        int(row_id): _text(conn, title_fold, title_pinyin, fields)
        for row_id, title_fold, title_pinyin, fields in conn.execute(sql, ids)
    }


def _text(conn: sqlite3.Connection, title_fold: object, title_pinyin: object, fields: object) -> DocumentText:
    return DocumentText(
        fields=dict(zip(FTS_COLUMNS, decode_fields(fields, conn), strict=True)),
        folded_title=str(title_fold),
        title_pinyin=str(title_pinyin),
    )


_PAYLOADS = "SELECT id, json FROM payloads WHERE id IN ({})"
_ANALYSED = (
    "SELECT p.id, p.json, t.id, d.title_fold, d.title_pinyin, t.fields FROM payloads p "
    "LEFT JOIN docs d ON d.id = p.id LEFT JOIN texts t ON t.id = d.id WHERE p.id IN ({})"
)
_TEXTS = (
    "SELECT d.id, d.title_fold, d.title_pinyin, t.fields FROM docs d JOIN texts t ON t.id = d.id WHERE d.id IN ({})"
)
