"""The embedded index backend: one SQLite file (WAL) with an FTS5 index of jieba-segmented Chinese text.

Threads: every thread gets its own connection (sqlite_connections: on first use, kept for the next thread
when one ends, all closed by `close`), so FastAPI's worker threads search in parallel while a harvest writes;
WAL lets readers see the last committed state without waiting. Writes are serialized by a lock in this process
and by `BEGIN IMMEDIATE` (with a busy timeout) across processes; one `upsert` or `withdraw` call is one
transaction. Opening starts a short-lived thread that loads the in-memory search columns (sqlite_facets) and the
query tables, so the first search need not; `close` joins it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from pydantic_core import PydanticSerializationError

from indexer.analysis import QueryVocabulary, fold
from indexer.analysis_version import AnalysisState, CatchUpBatch
from indexer.backends.base import SearchQuery, SearchResult, UpsertResult
from indexer.backends.sqlite_analysis import BATCH, analysis_state, catch_up, record_analysis
from indexer.backends.sqlite_bulk_links import link_stored
from indexer.backends.sqlite_connections import SqliteConnections
from indexer.backends.sqlite_facets import FacetColumns
from indexer.backends.sqlite_link_keys import convert_link_keys, delete_link_keys, insert_link_keys
from indexer.backends.sqlite_linkage import (
    file_linkage,
    file_linkage_state,
    mark_linked,
    recode_link_keys,
    record_linkage,
)
from indexer.backends.sqlite_links import SqliteLinkStore, cluster_view
from indexer.backends.sqlite_oai import SqliteChangeReads, create_oai_tables, stamp_changes
from indexer.backends.sqlite_payload import PayloadWriter, payload_text
from indexer.backends.sqlite_schema import (
    CONVERTED_VERSIONS,
    DDL,
    DOC_COLUMNS,
    SCHEMA_VERSION,
    FacetCodes,
    PreparedRows,
    RecordRows,
    add_missing_columns,
    convert_docs,
    hash_text,
    record_rows,
)
from indexer.backends.sqlite_search import SqliteSearch
from indexer.backends.sqlite_text import convert_fts_content, delete_texts, insert_texts, keep_fts_index
from indexer.backends.sqlite_themes import PAGE as THEMES_PAGE
from indexer.backends.sqlite_themes import file_themes, record_themes, set_themes, stored_page
from indexer.backends.sqlite_warm import sync_when_free
from indexer.backends.tantivy_index import LOCK_TIMEOUT_SECONDS, TantivyIndex
from indexer.errors import IndexBackendError
from indexer.linkage import ClusterView
from indexer.linkage.bulk import GroupClusterer
from indexer.linkage.incremental import Linker
from indexer.linkage.version import LINKAGE_VERSION, LinkageState
from indexer.match_plan import load_query_tables
from indexer.query_vocabulary import bundled_vocabulary
from indexer.record import Record
from indexer.themes_version import Reclassify, ThemesPass, bundled_themes_version

logger = logging.getLogger(__name__)

SearchEngine = Literal["tantivy", "fts5"]

_CHUNK = 500
_REBUILD_CHUNK = 5000
_SUGGEST_SCAN = 2000
_WRITE_CACHE = "PRAGMA cache_size = -262144"
"""A writing connection caches 256 MiB of pages: index b-trees of a million records stay in memory."""
_KEEP_REMOVED = 1000
"""Write generations the `removed` log keeps; a reader that has not searched for longer reloads its columns."""


class SqliteBackend(SqliteChangeReads):
    """IndexBackend on a SQLite file at `path` (created with its tables when missing)."""

    def __init__(
        self,
        path: Path,
        *,
        vocabulary: QueryVocabulary | None = None,
        linker: Linker | None = None,
        search_engine: SearchEngine = "tantivy",
        themes_version: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.themes_version = themes_version or bundled_themes_version()
        """The themes version (indexer.themes_version) of the rule table records are classified by here, which a
        new file records; default the bundled table's."""
        self.search_engine = search_engine
        """"tantivy": text queries ranked by the derived tantivy index (tantivy_index); "fts5": by FTS5 alone."""
        self.linker = linker or Linker()
        """Keeps clusters (the same course on several platforms) up to date on every write."""
        # No text query scans FTS5 with the tantivy engine: reads through SQLite's page cache keep the file's
        # mapped pages out of the serving process (RSS at 100k after the query mix: 269 MB, 362 MB mapped).
        self._pool = SqliteConnections(self.path, mmap=search_engine != "tantivy")
        self._write_lock = threading.Lock()
        self._closed = False
        self._stopping = threading.Event()
        """Set by `close`: the warm thread stops waiting behind another sync (sqlite_warm)."""
        self.codes = FacetCodes()
        self._write_codes = FacetCodes()
        """Codes as the current write transaction sees them; readers reload `codes` from their snapshots,
        so the writer keeps its own copy, which a reader's older snapshot can never overwrite."""
        try:
            conn = self._conn()
            with self._write_lock:
                self._create_schema(conn)
            self.codes.load(conn)
            instance = str(conn.execute("SELECT value FROM meta WHERE key = 'instance'").fetchone()[0])
        except BaseException:
            self.close()
            raise
        self.engine = TantivyIndex(self.path, instance=instance) if search_engine == "tantivy" else None
        self._search = SqliteSearch(
            self._conn,
            codes=self.codes,
            columns=FacetColumns(),
            vocabulary=bundled_vocabulary() if vocabulary is None else vocabulary,
            engine=self.engine,
        )
        self._warming = threading.Thread(target=self._warm, name=f"edufed-warm-{self.path.name}", daemon=True)
        self._warming.start()

    def _warm(self) -> None:
        """Load the in-memory facet columns and the query tables in the background, so the first search does
        not wait long."""
        load_query_tables()
        try:
            self._search.warm()
        except (sqlite3.Error, IndexBackendError) as exc:
            logger.warning("could not preload the facet columns of %s: %s", self.path, exc)
        if self.engine is not None:  # behind another process's rebuild: said once, waited for (sqlite_warm)
            sync_when_free(lambda wait: self.sync_engine(wait=wait), directory=self.engine.directory,
                           index_path=self.path, stopping=self._stopping)  # fmt: skip

    def sync_engine(self, *, wait: float = LOCK_TIMEOUT_SECONDS) -> None:
        """Bring the derived tantivy index up to the file's last committed write (built when missing, stale
        or of another version), as searches would on their own; nothing to do on the fts5 engine. Waits at most
        `wait` seconds for another sync, then raises EngineBusyError."""
        if self.engine is None:
            return
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            self.engine.sync(conn, wait=wait)
        finally:
            conn.execute("COMMIT")

    # -- connections --------------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use; see sqlite_connections)."""
        if self._closed:
            raise IndexBackendError(f"index {self.path} is closed")
        return self._pool.this_thread()

    def _connect(self) -> sqlite3.Connection:
        """A new connection of this backend's, closed by `close`."""
        return self._pool.open()

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
            version = None
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
                version = None if row is None else str(row[0])
                if version not in (SCHEMA_VERSION, *CONVERTED_VERSIONS):
                    raise IndexBackendError(
                        f"index {self.path} has layout version {row and row[0]}, this edufed needs "
                        f"{SCHEMA_VERSION}: move the file away and load a new one from it with "
                        "`edufed reindex --from-sqlite MOVED_FILE`"
                    )
            for statement in DDL.split(";"):
                if statement.strip():
                    conn.execute(statement)
            add_missing_columns(conn)
            convert_link_keys(conn)
            convert_fts_content(conn)
            convert_docs(conn, version)
            keep_fts_index(conn, keep=self.search_engine == "fts5")
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (SCHEMA_VERSION,))
            create_oai_tables(conn, older=version in CONVERTED_VERSIONS and int(version) <= 4)
            new_file = conn.execute("SELECT 1 FROM docs LIMIT 1").fetchone() is None
            record_analysis(conn, new_file=new_file)
            record_linkage(conn, new_file=new_file)
            record_themes(conn, new_file=new_file, ours=self.themes_version)
            # Names this file, so a derived search engine index knows which file it was built from.
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('instance', ?)", (uuid.uuid4().hex,))
            conn.execute("COMMIT")
        except (sqlite3.Error, IndexBackendError) as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, IndexBackendError):
                raise
            raise IndexBackendError(f"cannot open index {self.path}: {exc}") from exc

    @contextmanager
    def _writing(self) -> Iterator[tuple[sqlite3.Connection, int]]:
        """One write transaction with its generation number, serialized with every other writer."""
        conn = self._conn()
        with self._write_lock:
            try:
                conn.execute(_WRITE_CACHE)
                conn.execute("BEGIN IMMEDIATE")
                self._write_codes.load(conn)
                conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
                generation = int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
                yield conn, generation
                stamp_changes(conn, generation)  # the OAI-PMH change log, at commit time (sqlite_oai)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self._write_codes.load(conn)
                raise
            self._after_write()

    @contextmanager
    def _plain_write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that keeps the generation (nothing searchable changes in it)."""
        conn = self._conn()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def analysis_state(self) -> AnalysisState:
        """Which text analysis the file holds, against this edufed's, with a catch-up's progress."""
        try:
            return analysis_state(self._conn())
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot read index {self.path}: {exc}") from exc

    def catch_up_analysis(
        self,
        *,
        batch: int = BATCH,
        stop: Callable[[], bool] = lambda: False,
        on_batch: Callable[[CatchUpBatch], None] | None = None,
    ) -> tuple[int, int]:
        """Analyse records written by an older text analysis again, batch by batch, until the file is current
        or `stop()` (sqlite_analysis); (records read, records rewritten). Nothing to do on a current file."""
        try:
            return catch_up(self._conn(), writing=self._writing, plain=self._plain_write, size=batch, stop=stop,
                            on_batch=on_batch)  # fmt: skip
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot write index {self.path}: {exc}") from exc

    def linkage_state(self) -> LinkageState:
        """Which record linkage the file's keys and clusters were made by, against this edufed's (sqlite_linkage)."""
        try:
            return file_linkage_state(self._conn())
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot read index {self.path}: {exc}") from exc

    def relink_all(
        self, *, clusterer: GroupClusterer | None = None, on_coded: Callable[[int], None] | None = None
    ) -> int:
        """Link every record again by this edufed's linkage rules (an index linked by older ones): every stored
        record's blocking key codes computed again (`on_coded` told the records coded so far), every record
        clustered under the linker's decisions (`link_all`), then the version recorded (sqlite_linkage); returns
        how many records are in clusters."""
        try:
            recode_link_keys(self._plain_write, on_page=on_coded)
            linked = self.link_all(clusterer=clusterer)
            mark_linked(self._plain_write)
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot write index {self.path}: {exc}") from exc
        return linked

    def themes_recorded(self) -> str:
        """The themes version every record of the file was classified by (sqlite_themes; "": none recorded)."""
        try:
            return file_themes(self._conn())
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot read index {self.path}: {exc}") from exc

    def mark_themes(self, version: str) -> None:
        """Record that every record of the file was classified by themes version `version`."""
        try:
            with self._plain_write() as conn:
                set_themes(conn, version)
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot write index {self.path}: {exc}") from exc

    def reclassify_all(
        self, reclassify: Reclassify, *, version: str, page: int = THEMES_PAGE,
        on_page: Callable[[ThemesPass], None] | None = None,
    ) -> ThemesPass:  # fmt: skip
        """Classify every stored record again (`reclassify`), `page` records at a time, rewriting those whose
        themes or evidence changed, then record `version` (sqlite_themes). A record written meanwhile (its content
        hash no longer the one read) is left as its writer classified it. `on_page` is told the totals so far."""
        done, last = ThemesPass(), 0
        try:
            while stored := stored_page(self._conn(), after=last, size=page):
                last = stored[-1][0]
                done.read += len(stored)
                changed = {again.uid: (record.content_hash, again) for _, record in stored
                           if (again := reclassify(record)) is not None}  # fmt: skip
                if changed:
                    done.written += self._rewrite_unchanged(changed)
                if on_page is not None:
                    on_page(done)
            self.mark_themes(version)
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot write index {self.path}: {exc}") from exc
        return done

    def _rewrite_unchanged(self, changed: dict[str, tuple[str, Record]]) -> int:
        """Write the new records of `changed` (uid -> (content hash read, new record)) whose stored hash is still
        the one read; how many were written."""
        result = UpsertResult()
        with self._writing() as (conn, generation):
            stored = _existing(conn, list(changed))
            again = [new for uid, (read, new) in changed.items() if uid in stored and stored[uid][1] == read]
            if again:
                self._upsert_chunk(conn, again, result=result, generation=generation, link=False)
        return result.written

    def _after_write(self) -> None:
        """Carry a committed write into the search engine index; a failure is left for readers to catch up
        (the write itself is committed and stays so)."""
        try:
            self.sync_engine()
        except (sqlite3.Error, IndexBackendError, OSError) as exc:
            logger.warning("search engine index of %s not updated after a write: %s", self.path, exc)

    def close(self) -> None:
        """Close every connection this backend opened, in any thread."""
        warming = getattr(self, "_warming", None)
        self._stopping.set()
        if warming is not None and warming is not threading.current_thread():
            warming.join()
        self._closed = True
        engine: TantivyIndex | None = getattr(self, "engine", None)
        if engine is not None:
            engine.close()
        self._pool.close()

    # -- writes -------------------------------------------------------------------------------------

    def upsert(self, records: Iterable[Record]) -> UpsertResult:
        """Insert or replace records by uid in one transaction; an unchanged content_hash is skipped."""
        return self._write(records, link=True)

    def _write(self, records: Iterable[Record | PreparedRows], *, link: bool) -> UpsertResult:
        """`upsert`; without `link` the clusters are left as stored (a rebuild links once at its end)."""
        result = UpsertResult()
        iterator = iter(records)
        try:
            with self._writing() as (conn, generation):
                while chunk := list(islice(iterator, _CHUNK)):
                    self._upsert_chunk(conn, chunk, result=result, generation=generation, link=link)
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot write index {self.path}: {exc}") from exc
        return result

    def _upsert_chunk(
        self,
        conn: sqlite3.Connection,
        chunk: Sequence[Record | PreparedRows],
        *,
        result: UpsertResult,
        generation: int,
        link: bool = True,
    ) -> None:
        latest = {r.uid: r for r in chunk}
        existing = _existing(conn, list(latest))
        arrived: list[Record] = []
        next_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM docs").fetchone()[0]
        inserts: list[tuple[int, RecordRows]] = []
        replaced: list[int] = []
        for uid, record in latest.items():
            if isinstance(record, Record) and not record.content_hash:
                record = record.model_copy(update={"content_hash": record.compute_hash()})
            old = existing.get(uid)
            if old is not None and old[1] == record.content_hash:
                result.unchanged += 1
                continue
            rows = _rows(record, codes=self._write_codes, conn=conn)
            if isinstance(record, Record):  # rows made ahead come only in a rebuild, which links at its end
                arrived.append(record)
            if old is not None:
                replaced.append(old[0])
                inserts.append((old[0], rows))
            else:
                inserts.append((next_id, rows))
                next_id += 1
            result.written += 1
        old_clusters = _clusters_of(conn, replaced) if link else set()
        _delete_rows(conn, replaced)
        _insert_rows(conn, inserts, generation=generation)
        if link and (arrived or old_clusters):
            self.linker.relink(SqliteLinkStore(conn), arrived=arrived, old_clusters=old_clusters)

    def withdraw(self, uids: Iterable[str]) -> int:
        """Remove records by uid; returns how many were present."""
        removed = 0
        iterator = iter(uids)
        try:
            with self._writing() as (conn, generation):
                while chunk := list(dict.fromkeys(islice(iterator, _CHUNK))):
                    row_ids = [row_id for row_id, _ in _existing(conn, chunk).values()]
                    old_clusters = _clusters_of(conn, row_ids)
                    _delete_rows(conn, row_ids)
                    if old_clusters:
                        self.linker.relink(SqliteLinkStore(conn), arrived=[], old_clusters=old_clusters)
                    conn.executemany(
                        "INSERT OR REPLACE INTO removed (id, gen) VALUES (?, ?)",
                        [(i, generation) for i in row_ids],
                    )
                    removed += len(row_ids)
                _prune_removed(conn, generation=generation)
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot write index {self.path}: {exc}") from exc
        return removed

    def relink(self, uids: Iterable[str]) -> int:
        """Re-cluster these records and all they may link to under the linker's current decisions (an admin's
        split or join applies at once); returns how many records were re-linked."""
        wanted = list(dict.fromkeys(uids))
        try:
            with self._writing() as (conn, _generation):
                store = SqliteLinkStore(conn)
                records = store.records_of(wanted)
                old_clusters = {r.cluster_id for r in records if r.cluster_id}
                return self.linker.relink(store, arrived=records, old_clusters=old_clusters) if records else 0
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot write index {self.path}: {exc}") from exc

    def link_all(self, *, clusterer: GroupClusterer | None = None) -> int:
        """Cluster every stored record under the linker's decisions (an index written before linkage, or the
        end of a rebuild), group by group in bounded memory (sqlite_bulk_links); returns how many records are
        in clusters. `clusterer` clusters the groups elsewhere (a rebuild's worker processes)."""
        try:
            return link_stored(self._link_transaction, linker=self.linker, clusterer=clusterer).linked
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot write index {self.path}: {exc}") from exc

    @contextmanager
    def _link_transaction(self) -> Iterator[sqlite3.Connection]:
        with self._writing() as (conn, _generation):
            yield conn

    def withdraw_source(self, source: str) -> int:
        """Remove every record of one source; returns how many."""
        rows = self._read("SELECT uid FROM docs WHERE source = ?", (source,))
        return self.withdraw(uid for (uid,) in rows)

    def rebuild(
        self, records: Iterable[Record | PreparedRows], *, clusterer: GroupClusterer | None = None
    ) -> UpsertResult:
        """Make the index hold exactly `records`, rewritten in place one chunk per transaction, then clustered.

        In place, not copy-and-swap: a running service keeps its connections to this file, so a new file
        would go unseen until a restart; WAL readers meanwhile search the last committed chunk. Unchanged
        records are skipped by content hash. Records missing from the stream are withdrawn only after every
        chunk was written, so a rebuild that fails part-way has removed nothing. Records are written without
        re-linking (each keeps the cluster id it had, so a rebuild stopped part-way leaves the old clusters),
        and every record is clustered once at the end (`link_all`, with `clusterer` when given).
        """
        result = UpsertResult()
        seen: set[str] = set()
        iterator = iter(records)
        while chunk := list(islice(iterator, _REBUILD_CHUNK)):
            seen.update(r.uid for r in chunk)
            done = self._write(chunk, link=False)
            result.written += done.written
            result.unchanged += done.unchanged
        absent = [uid for (uid,) in self._read("SELECT uid FROM docs") if uid not in seen]
        if absent:
            logger.info("rebuild of %s withdrew %d record(s) it was not given", self.path, len(absent))
            self.withdraw(absent)
        if self._linked_by() < LINKAGE_VERSION:  # unchanged records kept the keys older rules made: code them again
            self.relink_all(clusterer=clusterer)
        else:
            self.link_all(clusterer=clusterer)
        self.catch_up_analysis()  # records whose content did not change were skipped above, their text as well
        return result

    def _linked_by(self) -> int:
        try:
            return file_linkage(self._conn())
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot read index {self.path}: {exc}") from exc

    # -- reads --------------------------------------------------------------------------------------

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot read index {self.path}: {exc}") from exc

    def get(self, uid: str) -> Record | None:
        """One record with its raw payload, or None."""
        rows = self._read("SELECT p.json FROM docs d JOIN payloads p ON p.id = d.id WHERE d.uid = ?", (uid,))
        return Record.model_validate_json(payload_text(rows[0][0], self._conn())) if rows else None

    def cluster_of(self, uid: str) -> ClusterView | None:
        """The record's cluster: every member and the evidence that merged them (None: a course on its own)."""
        try:
            return cluster_view(self._conn(), uid)
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot read index {self.path}: {exc}") from exc

    def search(self, query: SearchQuery) -> SearchResult:
        """Ranked, filtered, faceted, highlighted results (see sqlite_search)."""
        try:
            return self._search.search(query)
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot search index {self.path}: {exc}") from exc

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """Titles starting with the folded prefix (or its pinyin), then containing it, popular first."""
        folded = fold(prefix).strip()
        if not folded or limit <= 0:
            return []
        end = folded + "\U0010ffff"
        sql = (
            "SELECT title FROM (SELECT COALESCE(title, title_fold) AS title, popularity FROM docs "
            "WHERE {0} >= ? AND {0} < ? LIMIT ?) "
            "ORDER BY popularity DESC, title"
        )
        titles = [t for (t,) in self._read(sql.format("title_fold"), (folded, end, _SUGGEST_SCAN))]
        compact = folded.replace(" ", "")
        if compact.isascii() and compact.isalpha():
            pinyin = self._read(sql.format("title_pinyin"), (compact, compact + "~", _SUGGEST_SCAN))
            titles += [t for (t,) in pinyin]
        if len(dict.fromkeys(titles)) < limit:
            try:
                titles += self._search.titles_containing(folded, scan=_SUGGEST_SCAN)
            except sqlite3.Error as exc:
                raise IndexBackendError(f"cannot read index {self.path}: {exc}") from exc
        return [str(t) for t in dict.fromkeys(titles)][:limit]

    def count(self, source: str | None = None) -> int:
        """Records in the index, for one source or all."""
        if source is None:
            return int(self._read("SELECT COUNT(*) FROM docs")[0][0])
        return int(self._read("SELECT COUNT(*) FROM docs WHERE source = ?", (source,))[0][0])

    def content_hashes(self, source: str) -> dict[str, str]:
        """uid -> content_hash of every record of a source."""
        rows = self._read("SELECT uid, content_hash FROM docs WHERE source = ?", (source,))
        return {str(uid): hash_text(h) for uid, h in rows}

    def iter_records(self, source: str | None = None) -> Iterator[Record]:
        """Every stored record (with raw), in pages, so the caller may write to the index meanwhile."""
        last = 0
        where = "d.id > ?" + (" AND d.source = ?" if source is not None else "")
        sql = "SELECT d.id, p.json FROM docs d JOIN payloads p ON p.id = d.id "
        sql += f"WHERE {where} ORDER BY d.id LIMIT ?"
        while True:
            params: list[object] = [last, *([source] if source is not None else []), _CHUNK]
            rows = self._read(sql, params)
            if not rows:
                return
            conn = self._conn()
            for row_id, payload in rows:
                yield Record.model_validate_json(payload_text(payload, conn))
                last = int(row_id)


def _rows(record: Record | PreparedRows, *, codes: FacetCodes, conn: sqlite3.Connection) -> RecordRows:
    try:
        return record_rows(record, codes=codes, conn=conn)
    except PydanticSerializationError as exc:
        raise IndexBackendError(f"record {record.uid} cannot be stored (nothing was written): {exc}") from exc


def _existing(conn: sqlite3.Connection, uids: Sequence[str]) -> dict[str, tuple[int, str]]:
    """uid -> (rowid, content_hash) of the stored records among `uids`."""
    sql = f"SELECT id, uid, content_hash FROM docs WHERE uid IN ({', '.join('?' * len(uids))})"
    return {uid: (row_id, hash_text(h)) for row_id, uid, h in conn.execute(sql, uids)}


def _prune_removed(conn: sqlite3.Connection, *, generation: int) -> None:
    """Forget removals older than _KEEP_REMOVED generations; readers further behind reload (sqlite_facets)."""
    horizon = generation - _KEEP_REMOVED
    if horizon > 0 and conn.execute("SELECT 1 FROM removed WHERE gen <= ? LIMIT 1", (horizon,)).fetchone():
        conn.execute("DELETE FROM removed WHERE gen <= ?", (horizon,))
        conn.execute("UPDATE meta SET value = MAX(value, ?) WHERE key = 'pruned'", (horizon,))


def _clusters_of(conn: sqlite3.Connection, row_ids: Sequence[int]) -> set[str]:
    """The cluster ids the rows belong to now (read before they are replaced or removed)."""
    found: set[str] = set()
    for start in range(0, len(row_ids), _CHUNK):
        chunk = row_ids[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT DISTINCT cluster_id FROM docs WHERE cluster_id IS NOT NULL AND id IN ({marks})"
        found.update(str(c) for (c,) in conn.execute(sql, chunk))
    return found


def _delete_rows(conn: sqlite3.Connection, row_ids: Sequence[int]) -> None:
    params = [(i,) for i in row_ids]
    delete_link_keys(conn, row_ids)
    delete_texts(conn, row_ids)
    conn.executemany("DELETE FROM docs WHERE id = ?", params)
    conn.executemany("DELETE FROM payloads WHERE id = ?", params)


def _insert_rows(conn: sqlite3.Connection, inserts: Sequence[tuple[int, RecordRows]], *, generation: int) -> None:
    doc_sql = f"INSERT INTO docs ({', '.join(DOC_COLUMNS)}) VALUES ({', '.join('?' * len(DOC_COLUMNS))})"
    conn.executemany(doc_sql, [(i, generation, *r.doc) for i, r in inserts])
    insert_texts(conn, [(i, r.fts) for i, r in inserts])
    packed = PayloadWriter(conn).encode([r.payload for _, r in inserts])
    payload_rows = [(i, p) for (i, _), p in zip(inserts, packed, strict=True)]
    conn.executemany("INSERT INTO payloads (id, json) VALUES (?, ?)", payload_rows)
    insert_link_keys(conn, [(i, r.link_keys) for i, r in inserts])
