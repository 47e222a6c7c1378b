"""The hits of a SQLite search page: each row's stored record (its payload), highlights and also_on records.

Only the page's rows reach here: their payloads are read in one query, parsed into `Record`s, highlighted for the
query's terms, and each clustered record is given the records of its cluster on other platforms (`also_on`).
"""

from __future__ import annotations

import sqlite3

from indexer.analysis import DocumentText, QueryTerm
from indexer.backends.base import SearchHit
from indexer.backends.sqlite_payload import payload_json
from indexer.backends.sqlite_schema import FacetCodes
from indexer.backends.sqlite_text import FTS_COLUMNS, decode_fields
from indexer.highlight import Highlighter
from indexer.record import Record
from indexer.record_text import remember_analysis

ALSO_ON_LIMIT = 5


class HitReader:
    """Builds the hits of a page of rowids on the caller's connection (its open snapshot)."""

    def __init__(self, codes: FacetCodes) -> None:
        self._codes = codes

    def hits(
        self, conn: sqlite3.Connection, rows: list[tuple[int, float]], *, terms: list[QueryTerm], analysed: bool
    ) -> list[SearchHit]:
        """The hits of `rows`; with `analysed`, each record carries the analysis of its text the index stored
        (indexer.record_text reuses it instead of segmenting the text again)."""
        if not rows:
            return []
        ids = [row[0] for row in rows]
        stored = _stored(conn, ids, analysed=analysed)
        # phase by phase over the page (the records, their highlights, then also_on) rather than hit by hit: 4-10%
        # less CPU a hit inside real searches (bench/bench_hits.py), each phase's code staying in the caches
        records = [Record.model_validate_json(payload_json(stored[row_id][0], conn)) for row_id in ids]
        highlighter = Highlighter(terms)
        hits = []
        for record, (row_id, score) in zip(records, rows, strict=True):
            text = stored[row_id][1]
            if text is not None:
                remember_analysis(record, text)
            highlight = highlighter.record(title=record.title, description=record.description)
            hits.append(SearchHit(record=record, score=-float(score), highlight=highlight))
        for hit in hits:
            if hit.record.cluster_id:
                hit.also_on = self.also_on(conn, hit.record)
        return hits

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
    without, or when the row has no stored text): the FTS_COLUMNS strings kept in `texts`, the folded title and
    title pinyin in `docs` (what analysis.analyze_document gave when the record was written). One query either way:
    the texts come with the payloads (left joins, so a payload without them is still read)."""
    marks = ", ".join("?" * len(ids))
    if not analysed:
        return {row_id: (payload, None) for row_id, payload in conn.execute(_PAYLOADS.format(marks), ids)}
    found: dict[int, tuple[object, DocumentText | None]] = {}
    for row_id, payload, text_id, title_fold, title_pinyin, fields in conn.execute(_ANALYSED.format(marks), ids):
        text = None
        if text_id is not None:
            text = DocumentText(
                fields=dict(zip(FTS_COLUMNS, decode_fields(fields, conn), strict=True)),
                folded_title=str(title_fold),
                title_pinyin=str(title_pinyin),
            )
        found[int(row_id)] = (payload, text)
    return found


_PAYLOADS = "SELECT id, json FROM payloads WHERE id IN ({})"
_ANALYSED = (
    "SELECT p.id, p.json, t.id, d.title_fold, d.title_pinyin, t.fields FROM payloads p "
    "LEFT JOIN docs d ON d.id = p.id LEFT JOIN texts t ON t.id = d.id WHERE p.id IN ({})"
)
