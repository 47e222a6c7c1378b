"""The SQLite index's change log for OAI-PMH: a datestamp and sets per uid, kept after a withdrawal.

Tables (beside `docs`, sqlite_schema):

* `oai_items` — one row per uid the index ever held: `stamp` (epoch microseconds, UTC) of the write that last
  changed the record or withdrew it, `deleted`, the `content_hash` it was stamped for and its `doc_id`.
* `oai_sets` — (kind, value, stamp, uid): the record's platform, themes, programmes and region (province short
  form), with its stamp, so a set is listed in datestamp order straight from one index range. Entries stamped
  before the region came have no region row; a reindex gives every record with a region a new stamp and one.

The log is written by `stamp_changes` at the end of every write transaction, just before COMMIT: records of
this write generation (`docs.gen`) whose content changed get the commit time, rows the write removed
(`removed.gen`) whose uid is gone become deleted entries. Stamping at the end rather than row by row keeps
the time a reader may see a stamp that is already in its past as short as the COMMIT itself, and the
records and their entries change in one transaction, so a listing never sees one without the other.
A relink that only moves cluster ids changes no content hash and stamps nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from indexer.backends.changes import SET_KINDS, Change, ChangeQuery, ChangeSets, now_stamp
from indexer.backends.sqlite_payload import payload_text
from indexer.errors import IndexBackendError
from indexer.record import Record

OAI_DDL = """
CREATE TABLE IF NOT EXISTS oai_items (
    uid TEXT PRIMARY KEY, doc_id INTEGER, stamp INTEGER NOT NULL, deleted INTEGER NOT NULL,
    content_hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS oai_items_stamp ON oai_items (stamp, uid);
CREATE INDEX IF NOT EXISTS oai_items_doc ON oai_items (doc_id);
CREATE TABLE IF NOT EXISTS oai_sets (
    kind TEXT NOT NULL, value TEXT NOT NULL, stamp INTEGER NOT NULL, uid TEXT NOT NULL,
    PRIMARY KEY (kind, value, uid));
CREATE INDEX IF NOT EXISTS oai_sets_order ON oai_sets (kind, value, stamp, uid);
CREATE INDEX IF NOT EXISTS oai_sets_uid ON oai_sets (uid);
"""
_FIELDS = {
    "platform": ("platform",), "theme": ("themes",), "programme": ("programmes",), "region": ("region", "province"),
}  # fmt: skip
"""Set kind -> where its values sit in the record JSON (a value or a list of them)."""
_CHUNK = 500


def create_oai_tables(conn: sqlite3.Connection) -> None:
    """Create the log's tables (inside the caller's transaction) and give every unlogged record an entry."""
    for statement in OAI_DDL.split(";"):
        if statement.strip():
            conn.execute(statement)
    _stamp_fresh(conn, "d.uid NOT IN (SELECT uid FROM oai_items)", (), stamp=now_stamp())


def stamp_changes(conn: sqlite3.Connection, generation: int) -> None:
    """Log the records write `generation` changed and the uids it removed, at the current time."""
    stamp = now_stamp()
    changed = (
        "d.gen = ? AND NOT EXISTS (SELECT 1 FROM oai_items i WHERE i.uid = d.uid AND i.deleted = 0 "
        "AND i.content_hash = d.content_hash AND i.doc_id = d.id)"
    )
    _stamp_fresh(conn, changed, (generation,), stamp=stamp)
    gone = [
        uid
        for (uid,) in conn.execute(
            "SELECT i.uid FROM oai_items i JOIN removed r ON r.id = i.doc_id WHERE r.gen = ? AND i.deleted = 0 "
            "AND NOT EXISTS (SELECT 1 FROM docs d WHERE d.uid = i.uid)",
            (generation,),
        )
    ]
    for start in range(0, len(gone), _CHUNK):
        params = [(stamp, uid) for uid in gone[start : start + _CHUNK]]
        conn.executemany("UPDATE oai_items SET deleted = 1, stamp = ? WHERE uid = ?", params)
        conn.executemany("UPDATE oai_sets SET stamp = ? WHERE uid = ?", params)


def _set_values(data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, value) of each set the record JSON belongs to (empty values left out)."""
    for kind, path in _FIELDS.items():
        found: Any = data
        for key in path:
            found = found.get(key) if isinstance(found, dict) else None
        for value in found if isinstance(found, list) else [found]:
            if value is not None and value != "":
                yield kind, value


def _stamp_fresh(conn: sqlite3.Connection, where: str, params: tuple[object, ...], *, stamp: int) -> None:
    """Give the live records matching `where` (over `docs d`) a new entry and set rows at `stamp`."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS oai_fresh (uid TEXT PRIMARY KEY)")  # per connection
    conn.execute("DELETE FROM temp.oai_fresh")
    conn.execute(f"INSERT INTO temp.oai_fresh (uid) SELECT d.uid FROM docs d WHERE {where}", params)
    if not conn.execute("SELECT 1 FROM temp.oai_fresh LIMIT 1").fetchone():
        return
    conn.execute(
        "INSERT OR REPLACE INTO oai_items (uid, doc_id, stamp, deleted, content_hash) "
        "SELECT d.uid, d.id, ?, 0, d.content_hash FROM temp.oai_fresh f JOIN docs d ON d.uid = f.uid",
        (stamp,),
    )
    conn.execute("DELETE FROM oai_sets WHERE uid IN (SELECT uid FROM temp.oai_fresh)")
    rows = conn.execute(
        "SELECT d.uid, p.json FROM temp.oai_fresh f JOIN docs d ON d.uid = f.uid JOIN payloads p ON p.id = d.id"
    ).fetchmany
    while batch := rows(_CHUNK):
        sets = [
            (kind, value, stamp, uid)
            for uid, payload in batch
            for kind, value in _set_values(json.loads(payload_text(payload, conn)))
        ]
        conn.executemany("INSERT OR IGNORE INTO oai_sets (kind, value, stamp, uid) VALUES (?, ?, ?, ?)", sets)
    conn.execute("DELETE FROM temp.oai_fresh")


class SqliteChangeReads:
    """The IndexBackend change-log methods of SqliteBackend (mixed in: it provides `_conn`, `_writing`, `path`)."""

    path: Path
    _conn: Callable[[], sqlite3.Connection]
    _writing: Callable[[], AbstractContextManager[tuple[sqlite3.Connection, int]]]

    def keep_deleted(self, entries: Iterable[Change]) -> int:
        """Add the deleted entries (stamps and sets as given) of uids the log has no entry for; how many."""
        added = 0
        try:
            with self._writing() as (conn, _generation):
                for chunk in _chunks((e for e in entries if e.deleted), _CHUNK):
                    known = set(_column(conn, "SELECT uid, 1 FROM oai_items WHERE uid IN ({})", [e.uid for e in chunk]))
                    fresh = [e for e in dict((e.uid, e) for e in chunk).values() if e.uid not in known]
                    conn.executemany("INSERT INTO oai_items (uid, doc_id, stamp, deleted, content_hash) "
                                     "VALUES (?, NULL, ?, 1, '')", [(e.uid, e.stamp) for e in fresh])  # fmt: skip
                    conn.executemany(
                        "INSERT OR IGNORE INTO oai_sets (kind, value, stamp, uid) VALUES (?, ?, ?, ?)",
                        [(kind, value, e.stamp, e.uid) for e in fresh for kind, values in e.sets.items()
                         for value in values],
                    )  # fmt: skip
                    added += len(fresh)
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot write index {self.path}: {exc}") from exc
        return added

    @contextmanager
    def _snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read transaction, so a page's entries, sets and records come from the same committed state."""
        conn = self._conn()
        try:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot read index {self.path}: {exc}") from exc

    def changes(self, query: ChangeQuery) -> list[Change]:
        """One page of change entries in (stamp, uid) order (see ChangeQuery)."""
        with self._snapshot() as conn:
            found = conn.execute(*_page_sql(query)).fetchall()
            uids = [str(uid) for uid, _ in found]
            deleted = _column(conn, "SELECT uid, deleted FROM oai_items WHERE uid IN ({})", uids)
            sets: dict[str, dict[str, list[str]]] = {}
            for uid, kind, value in _rows(conn, "SELECT uid, kind, value FROM oai_sets WHERE uid IN ({})", uids):
                sets.setdefault(uid, {}).setdefault(kind, []).append(value)
            live = [u for u in uids if not deleted.get(u)]
            payloads = (
                _column(conn, "SELECT d.uid, p.json FROM docs d JOIN payloads p ON p.id = d.id WHERE d.uid IN ({})",
                        live) if query.records else {}
            )  # fmt: skip
            texts = {uid: payload_text(value, conn) for uid, value in payloads.items()}
        return [
            Change(
                uid=uid,
                stamp=int(stamp),
                deleted=bool(deleted.get(uid)) or (query.records and uid not in payloads),
                sets={k: tuple(sorted(v)) for k, v in sorted(sets.get(uid, {}).items())},
                record=Record.model_validate_json(texts[uid]) if uid in texts else None,
            )
            for uid, stamp in found
        ]

    def count_changes(self, query: ChangeQuery) -> int:
        """How many entries the whole list of `query` holds (its `after` and `limit` ignored)."""
        whole = ChangeQuery(until=query.until, since=query.since, set_kind=query.set_kind, set_values=query.set_values,
                            uid=query.uid)  # fmt: skip
        sql, params = _page_sql(whole, count=True)
        with self._snapshot() as conn:
            return int(conn.execute(sql, params).fetchone()[0])

    def change_sets(self) -> ChangeSets:
        """Every set value an entry holds, by kind, and the earliest stamp."""
        with self._snapshot() as conn:
            values: dict[str, list[str]] = {kind: [] for kind in SET_KINDS}
            for kind, value in conn.execute("SELECT DISTINCT kind, value FROM oai_sets ORDER BY kind, value"):
                values.setdefault(str(kind), []).append(str(value))
            earliest = conn.execute("SELECT MIN(stamp) FROM oai_items").fetchone()[0]
        return ChangeSets(values=values, earliest=None if earliest is None else int(earliest))


def _page_sql(query: ChangeQuery, *, count: bool = False) -> tuple[str, list[Any]]:
    """The SQL of one page (or of the list's count): from `oai_sets` for a set, else from `oai_items`."""
    everything = query.set_kind is None or query.set_kind == "platform" and query.set_values is None
    table = "oai_items" if everything or query.uid is not None else "oai_sets"
    where = ["stamp >= ?", "stamp <= ?"]
    params: list[Any] = [query.since, query.until]
    if query.uid is not None:
        where.append("uid = ?")
        params.append(query.uid)
    if table == "oai_sets":
        where.append("kind = ?")
        params.append(query.set_kind)
        if query.set_values is not None:
            where.append(f"value IN ({', '.join('?' * len(query.set_values))})")
            params.extend(query.set_values)
    if count:
        what = "COUNT(*)" if table == "oai_items" else "COUNT(DISTINCT uid)"
        return f"SELECT {what} FROM {table} WHERE {' AND '.join(where)}", params
    if query.after is not None:
        where.append("(stamp, uid) > (?, ?)")
        params.extend(query.after)
    distinct = "DISTINCT " if table == "oai_sets" else ""
    sql = f"SELECT {distinct}uid, stamp FROM {table} WHERE {' AND '.join(where)} ORDER BY stamp, uid LIMIT ?"
    return sql, [*params, query.limit]


def _chunks(entries: Iterable[Change], size: int) -> Iterator[list[Change]]:
    chunk: list[Change] = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def deleted_entries(conn: sqlite3.Connection, *, page: int = _CHUNK) -> Iterator[Change]:
    """Every deleted entry of a file's change log with its sets, by uid (nothing for a file without a log)."""
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"oai_items", "oai_sets"} <= tables:
        return
    last = ""
    sql = "SELECT uid, stamp FROM oai_items WHERE deleted = 1 AND uid > ? ORDER BY uid LIMIT ?"
    while rows := conn.execute(sql, (last, page)).fetchall():
        sets: dict[str, dict[str, list[str]]] = {}
        for uid, kind, value in _rows(conn, "SELECT uid, kind, value FROM oai_sets WHERE uid IN ({})",
                                      [str(u) for u, _ in rows]):  # fmt: skip
            sets.setdefault(str(uid), {}).setdefault(str(kind), []).append(str(value))
        for uid, stamp in rows:
            kinds = sets.get(str(uid), {})
            yield Change(uid=str(uid), stamp=int(stamp), deleted=True,
                         sets={k: tuple(sorted(v)) for k, v in sorted(kinds.items())})  # fmt: skip
        last = str(rows[-1][0])


def _rows(conn: sqlite3.Connection, sql: str, uids: Sequence[str]) -> list[Any]:
    found: list[Any] = []
    for start in range(0, len(uids), _CHUNK):
        chunk = uids[start : start + _CHUNK]
        found.extend(conn.execute(sql.format(", ".join("?" * len(chunk))), chunk))
    return found


def _column(conn: sqlite3.Connection, sql: str, uids: Sequence[str]) -> dict[str, Any]:
    return {str(uid): value for uid, value in _rows(conn, sql, uids)}
