"""The SQLite index layout: tables, facet value codes and the rows one record becomes.

Layout (one row per record in each of `docs`, `fts`, `texts` and `payloads`, sharing the rowid):

* `docs` — narrow columns for filtering, facets, sorting and paging: facet values as small integers
  (`platform_id`, `media_id`, `rtype_id`, `free`, `region_id`: 0 when the record has no region) or bit masks
  (`theme_mask`, `aud_mask`: one bit per theme or audience value), `sort_date` (published, else updated, else
  fetched, in epoch microseconds), `popularity` (learner count, -1 when unknown), and the folded title and title
  pinyin for suggestions. `title` is NULL when it is its folded title (read as COALESCE(title, title_fold));
  `content_hash` is the raw bytes of a lowercase hex digest (half its length), else the hash's text as given.
* `fts` — the contentless FTS5 index of the segmented text (indexer.analysis); unicode61 leaves our
  space-separated Chinese tokens whole. `texts` keeps that text, compressed (sqlite_text). Only the fts5 engine
  keeps the index filled (`meta.fts_index`); with the tantivy engine the table is empty.
* `payloads` — the full Record JSON (with raw), read only for the returned page: a zstd frame compressed with
  the dictionary `meta` keeps, or JSON text in files written before compression (sqlite_payload).
* `codes` — facet value <-> integer code.
* `link_key_ids` — the linkage blocking keys of each record (indexer.linkage) as 64-bit codes, by code for
  look-ups (sqlite_link_keys; a removal codes the stored record again); `clusters` — each cluster's evidence
  (JSON list of links), by cluster id.
* `meta` — layout version, the text analysis the records hold (`analysis`, with a catch-up's `analysis_to` and
  `analysis_after`: sqlite_analysis), the link keys' coding (`link_keys`), the write `generation` and `pruned`;
  `docs.gen` and `removed` (rowid, gen) let readers bring their in-memory columns up to date incrementally
  (sqlite_facets). `removed` keeps the last 1000 generations; `pruned` says up to which generation it was cut,
  and a reader older than that reloads.

Sorting and filtering happen in memory (sqlite_facets), so `docs` carries only the indexes that lookups
need: uid, source, gen, cluster (with uid, for "also on") and the two suggestion keys.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from indexer.backends.sqlite_link_keys import DDL as LINK_KEY_DDL
from indexer.backends.sqlite_link_keys import record_codes
from indexer.backends.sqlite_text import DDL as TEXT_DDL
from indexer.backends.sqlite_text import FTS_COLUMNS
from indexer.linkage import profile_of
from indexer.record import Record
from indexer.record_text import record_text

logger = logging.getLogger(__name__)

SCHEMA_VERSION = "6"
CONVERTED_VERSIONS = ("1", "2", "3", "4", "5")
"""Older layout versions an open converts in place: 1 kept the search text in FTS5's own table (sqlite_text), 2
kept each record's link key codes in `link_key_sets` and a taught record's keys twice (sqlite_link_keys), 3 kept
every `docs` title and content hashes as hex text (convert_docs), 4 kept whole digests in the OAI-PMH change
log (sqlite_oai_layout.shorten_hashes), 5 always kept an FTS5 index (sqlite_text.keep_fts_index). A converted file
says 6, so an older edufed refuses it: one of layout 1 rather than read a contentless FTS5 table's empty columns as
the text of the records it indexes into tantivy, one of layout 2 rather than write codes another way beside these
(and look up the ones it would not find), one of layout 3 rather than take a left-out title for none and compare a
hash's bytes with hex text (and rewrite every record as changed), one of layout 4 rather than compare whole digests
with the log's prefixes, one of layout 5 rather than plan queries on, and sort by, an FTS5 index the tantivy
engine dropped (finding nothing)."""
MASK_FACETS = ("theme", "audience")
"""Multi-valued facets stored as bit masks (at most 63 distinct values each)."""
CODE_FACETS = ("platform", "media_type", "record_type", "region")
FACET_COLUMNS = {
    "theme": "theme_mask",
    "platform": "platform_id",
    "audience": "aud_mask",
    "media_type": "media_id",
    "is_free": "free",
    "record_type": "rtype_id",
    "region": "region_id",
}
DOC_COLUMNS = (
    "id", "gen", "uid", "source", "content_hash", "platform_id", "media_id", "rtype_id", "theme_mask",
    "aud_mask", "free", "sort_date", "popularity", "cluster_id", "title", "title_fold", "title_pinyin",
    "region_id",
)  # fmt: skip
ADDED_COLUMNS = {"region_id": "INTEGER NOT NULL DEFAULT 0"}
"""`docs` columns newer than the layout version: added in place to an older file (add_missing_columns)."""
BM25_WEIGHTS = (10.0, 5.0, 5.0, 2.0, 2.0, 1.0, 6.0, 4.0)
"""Column weights, in FTS_COLUMNS order: title first, then subtitle/tags, description, people, provider."""
_MAX_MASK_BITS = 63
_CHINA = timezone(timedelta(hours=8))

DOCS_TABLE = """
CREATE TABLE IF NOT EXISTS {0} (
    id INTEGER PRIMARY KEY, gen INTEGER NOT NULL, uid TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
    content_hash BLOB NOT NULL,
    platform_id INTEGER NOT NULL, media_id INTEGER NOT NULL, rtype_id INTEGER NOT NULL,
    theme_mask INTEGER NOT NULL, aud_mask INTEGER NOT NULL, free INTEGER NOT NULL,
    sort_date INTEGER NOT NULL, popularity INTEGER NOT NULL, cluster_id TEXT,
    title TEXT, title_fold TEXT NOT NULL, title_pinyin TEXT NOT NULL,
    region_id INTEGER NOT NULL DEFAULT 0)"""
"""The `docs` table, named {0}: `title` NULL when it equals `title_fold`, `content_hash` as stored_hash gives it."""
DOCS_INDEXES = """
CREATE INDEX IF NOT EXISTS docs_gen ON docs (gen);
CREATE INDEX IF NOT EXISTS docs_source ON docs (source);
DROP INDEX IF EXISTS docs_newest;
DROP INDEX IF EXISTS docs_popular;
DROP INDEX IF EXISTS docs_cluster;
CREATE INDEX IF NOT EXISTS docs_cluster_uid ON docs (cluster_id, uid) WHERE cluster_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS docs_title_fold ON docs (title_fold);
CREATE INDEX IF NOT EXISTS docs_title_pinyin ON docs (title_pinyin);
"""
DDL = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', '{SCHEMA_VERSION}'), ('generation', 0), ('pruned', 0);
{DOCS_TABLE.format("docs").strip()};
{DOCS_INDEXES.strip()}
CREATE TABLE IF NOT EXISTS payloads (id INTEGER PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS codes (
    facet TEXT NOT NULL, value TEXT NOT NULL, code INTEGER NOT NULL, PRIMARY KEY (facet, value));
CREATE TABLE IF NOT EXISTS removed (id INTEGER PRIMARY KEY, gen INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS removed_gen ON removed (gen);
{LINK_KEY_DDL.strip()}
CREATE TABLE IF NOT EXISTS clusters (cluster_id TEXT PRIMARY KEY, evidence TEXT NOT NULL);
{TEXT_DDL.strip()}
"""


class FacetCodes:
    """Facet value <-> integer code, cached from the `codes` table.

    Codes are only assigned inside a write transaction; `load` re-reads the table (at the start of every
    write, after a rollback, and when a reader meets a code or value it does not know, which happens when
    another process added it).
    """

    def __init__(self) -> None:
        self._codes: dict[tuple[str, str], int] = {}
        self._values: dict[tuple[str, int], str] = {}
        self._lock = threading.Lock()

    def load(self, conn: sqlite3.Connection) -> None:
        rows = conn.execute("SELECT facet, value, code FROM codes").fetchall()
        with self._lock:
            self._codes = {(f, v): c for f, v, c in rows}
            self._values = {(f, c): v for f, v, c in rows}

    def code(self, facet: str, value: str) -> int | None:
        return self._codes.get((facet, value))

    def value(self, facet: str, code: int) -> str | None:
        return self._values.get((facet, code))

    def known(self, facet: str) -> list[tuple[str, int]]:
        return [(v, c) for (f, v), c in self._codes.items() if f == facet]

    def assign(self, conn: sqlite3.Connection, facet: str, value: str) -> int | None:
        """The code of a value, creating it; None when a mask facet has no free bit left."""
        found = self._codes.get((facet, value))
        if found is not None:
            return found
        used = [c for (f, _), c in self._codes.items() if f == facet]
        code = max(used, default=-1 if facet in MASK_FACETS else 0) + 1
        if facet in MASK_FACETS and code >= _MAX_MASK_BITS:
            logger.warning("facet %s has more than %d values; %r is left out of filters", facet, code, value)
            return None
        conn.execute("INSERT INTO codes (facet, value, code) VALUES (?, ?, ?)", (facet, value, code))
        with self._lock:
            self._codes[(facet, value)] = code
            self._values[(facet, code)] = value
        return code


@dataclass
class RecordRows:
    """What one record writes: the `docs` values (without id and gen), the `fts` values and the JSON."""

    doc: tuple[object, ...]
    fts: tuple[str, ...]
    payload: str
    link_keys: tuple[int, ...] = ()
    """The codes of its stored link keys (sqlite_link_keys)."""


@dataclass
class PreparedRows:
    """A record's rows before its facet values are coded (codes are given in the writer's transaction): made
    where the record was rebuilt, so that a rebuild's writer only codes facets and inserts (rebuild_pool)."""

    uid: str
    source: str
    content_hash: str
    facets: tuple[list[str], list[str], str, str | None, str, str | None]
    """themes, audiences, platform, media type, record type, province."""
    rest: tuple[object, ...]
    """The `docs` values after the facet codes: free .. title_pinyin (title None when it is the folded title)."""
    fts: tuple[str, ...]
    payload: str
    link_keys: tuple[int, ...]


def prepare_rows(record: Record) -> PreparedRows:
    """Analyse one record into its rows, its facet values not yet coded (no index needed)."""
    if not record.content_hash:
        record = record.model_copy(update={"content_hash": record.compute_hash()})
    text = record_text(record)
    sort_date = record.published_at or record.updated_at or record.fetched_at
    return PreparedRows(
        uid=record.uid, source=record.source, content_hash=record.content_hash,
        facets=(record.themes, record.audience, record.platform, record.media_type, record.record_type,
                record.region.get("province")),
        rest=(int(record.is_free), epoch_micros(sort_date),
              record.learner_count if record.learner_count is not None else -1, record.cluster_id,
              None if record.title == text.folded_title else record.title, text.folded_title, text.title_pinyin),
        fts=tuple(text.fields[c] for c in FTS_COLUMNS), payload=record.model_dump_json(),
        link_keys=record_codes(profile_of(record)),
    )  # fmt: skip


def record_rows(record: Record | PreparedRows, *, codes: FacetCodes, conn: sqlite3.Connection) -> RecordRows:
    """Analyze one record into its rows (codes for new facet values are created in `conn`)."""
    prepared = record if isinstance(record, PreparedRows) else prepare_rows(record)
    themes, audiences, platform, media_type, record_type, region = prepared.facets
    theme_mask, aud_mask = _mask(codes, conn, "theme", themes), _mask(codes, conn, "audience", audiences)
    coded = (
        codes.assign(conn, "platform", platform) or 0,
        (codes.assign(conn, "media_type", media_type) or 0) if media_type else 0,
        codes.assign(conn, "record_type", record_type) or 0,
        theme_mask,
        aud_mask,
    )
    doc = (
        prepared.uid, prepared.source, stored_hash(prepared.content_hash), *coded, *prepared.rest,
        (codes.assign(conn, "region", region) or 0) if region else 0,
    )  # fmt: skip
    return RecordRows(doc=doc, fts=prepared.fts, payload=prepared.payload, link_keys=prepared.link_keys)


def stored_hash(content_hash: str | bytes) -> str | bytes:
    """A content hash as `docs` keeps it: the raw bytes of a lowercase hex digest (half its length), else the
    text as given (a hash a caller set by hand), so hash_text gives back exactly the hash that was stored."""
    if isinstance(content_hash, bytes):
        return content_hash
    try:
        raw = bytes.fromhex(content_hash)
    except ValueError:
        return content_hash
    return raw if raw and raw.hex() == content_hash else content_hash


def hash_text(stored: str | bytes) -> str:
    """The content hash a `docs` value stands for (stored_hash's inverse)."""
    return stored.hex() if isinstance(stored, bytes) else str(stored)


def convert_docs(conn: sqlite3.Connection, version: str | None) -> None:
    """Rewrite the `docs` of a file of layout 3 or older (inside the caller's write transaction): titles equal
    to their folded title left out, hex content hashes as their bytes. Row ids, every other value and the
    indexes stay as they were; the old table's pages go to the free list, reused by later writes."""
    if version is None or version not in CONVERTED_VERSIONS or int(version) > 3:
        return
    started = time.monotonic()
    try:
        conn.execute("SELECT docs_hash('')").fetchone()
    except sqlite3.OperationalError:
        conn.create_function("docs_hash", 1, stored_hash, deterministic=True)
    conn.execute("DROP TABLE IF EXISTS docs_converted")
    conn.execute(DOCS_TABLE.format("docs_converted"))
    values = ", ".join(
        {"content_hash": "docs_hash(content_hash)", "title": "CASE WHEN title = title_fold THEN NULL ELSE title END"}
        .get(column, column) for column in DOC_COLUMNS
    )  # fmt: skip
    conn.execute(f"INSERT INTO docs_converted ({', '.join(DOC_COLUMNS)}) SELECT {values} FROM docs ORDER BY id")
    conn.execute("DROP TABLE docs")
    conn.execute("ALTER TABLE docs_converted RENAME TO docs")
    for statement in DOCS_INDEXES.split(";"):
        if statement.strip():
            conn.execute(statement)
    logger.info("converted the docs of layout %s: titles and content hashes kept compactly, in %.1f s",
                version, time.monotonic() - started)  # fmt: skip


def add_missing_columns(conn: sqlite3.Connection) -> None:
    """Give a file made before a column was added that column (inside the caller's write transaction).

    `region_id` came with the region facet: an older file gets it as 0 (no region) on every row, so it keeps
    serving; `edufed reindex` then fills it from each record's region (rebuilt records change their hash).
    """
    present = {str(row[1]) for row in conn.execute("PRAGMA table_info(docs)")}
    for column, ddl in ADDED_COLUMNS.items():
        if column not in present:
            conn.execute(f"ALTER TABLE docs ADD COLUMN {column} {ddl}")


def _mask(codes: FacetCodes, conn: sqlite3.Connection, facet: str, values: list[str]) -> int:
    mask = 0
    for value in values:
        code = codes.assign(conn, facet, value)
        if code is not None:
            mask |= 1 << code
    return mask


def epoch_micros(moment: datetime) -> int:
    """Microseconds since the epoch; a naive time is taken as China time (UTC+8), where the platforms are."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_CHINA)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
