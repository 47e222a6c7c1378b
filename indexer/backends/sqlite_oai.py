"""The SQLite index's change log for OAI-PMH: a datestamp and sets per uid, kept after a withdrawal.

The tables (sqlite_oai_layout) key each entry by (stamp, seq), `seq` its place in uid order among the entries
of one stamp, so a listing and its resumption follow (stamp, uid) from one key range without the uid text in
every key; a resumption token still names (stamp, uid), found again by the uid (or, when that entry has moved
on, by a binary search of its old stamp's entries).

The log is written by `stamp_changes` at the end of every write transaction, just before COMMIT: records of
this write generation (`docs.gen`) whose content changed get the commit time, rows the write removed
(`removed.gen`) whose uid is gone become deleted entries. Stamping at the end rather than row by row keeps
the time a reader may see a stamp that is already in its past as short as the COMMIT itself, and the
records and their entries change in one transaction, so a listing never sees one without the other.
A relink that only moves cluster ids changes no content hash and stamps nothing.
"""

from __future__ import annotations

import heapq
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from indexer.backends.changes import SET_KINDS, Change, ChangeQuery, ChangeSets, now_stamp
from indexer.backends.sqlite_oai_layout import (
    OAI_INDEXES,
    OAI_TABLES,
    SETS_OF,
    SetCodes,
    convert_uid_keyed,
    decode_codes,
    encode_codes,
    layout_of,
    named_sets,
    register_functions,
    run_script,
    set_names,
    shorten_hashes,
    uid_keyed_deleted,
)
from indexer.backends.sqlite_payload import payload_text
from indexer.errors import IndexBackendError
from indexer.record import Record

_FIELDS = {
    "platform": ("platform",), "theme": ("themes",), "programme": ("programmes",), "region": ("region", "province"),
}  # fmt: skip
"""Set kind -> where its values sit in the record JSON (a value or a list of them)."""
_CHUNK = 500
_ITEM = "stamp, seq, uid, deleted, sets"
"""The columns a listing reads of an entry."""


def create_oai_tables(conn: sqlite3.Connection, *, older: bool = False) -> None:
    """Create the log's tables (inside the caller's transaction), converting a first-layout log once (or, in a
    file of an `older` layout, the whole hashes of a compact one), and give every unlogged record an entry."""
    layout = layout_of(conn)
    if layout == "uid-keyed":
        convert_uid_keyed(conn)
    elif layout == "compact" and older:
        shorten_hashes(conn)
    run_script(conn, OAI_TABLES + OAI_INDEXES)
    register_functions(conn)
    _restamp(conn, now_stamp(), fresh="d.uid NOT IN (SELECT uid FROM oai_items)", params=())


def stamp_changes(conn: sqlite3.Connection, generation: int) -> None:
    """Log the records write `generation` changed and the uids it removed, at the current time."""
    register_functions(conn)
    changed = (
        "d.gen = ? AND NOT EXISTS (SELECT 1 FROM oai_items i WHERE i.uid = d.uid AND i.deleted = 0 "
        "AND i.content_hash = oai_hash(d.content_hash) AND i.doc_id = d.id)"
    )
    _restamp(conn, now_stamp(), fresh=changed, params=(generation,), gone_generation=generation)


def _set_values(data: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, value) of each set the record JSON belongs to (empty values left out)."""
    for kind, path in _FIELDS.items():
        found: Any = data
        for key in path:
            found = found.get(key) if isinstance(found, dict) else None
        for value in found if isinstance(found, list) else [found]:
            if value is not None and value != "":
                yield kind, value


def _restamp(
    conn: sqlite3.Connection, stamp: int, *, fresh: str, params: tuple[object, ...], gone_generation: int | None = None
) -> None:
    """Give the live records matching `fresh` (over `docs d`) new entries at `stamp`, and the entries of the
    records write `gone_generation` removed (their uid gone) deleted ones at `stamp`, with their sets."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS oai_fresh (uid TEXT PRIMARY KEY, gone INTEGER NOT NULL)")
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS oai_gone (uid TEXT PRIMARY KEY, content_hash BLOB, sets TEXT)")
    conn.execute("DELETE FROM temp.oai_fresh")
    conn.execute(f"INSERT INTO temp.oai_fresh (uid, gone) SELECT d.uid, 0 FROM docs d WHERE {fresh}", params)
    if gone_generation is not None:
        conn.execute(
            "INSERT OR IGNORE INTO temp.oai_fresh (uid, gone) SELECT i.uid, 1 FROM oai_items i JOIN removed r "
            "ON r.id = i.doc_id WHERE r.gen = ? AND i.deleted = 0 AND NOT EXISTS (SELECT 1 FROM docs d "
            "WHERE d.uid = i.uid)",
            (gone_generation,),
        )
    if not conn.execute("SELECT 1 FROM temp.oai_fresh LIMIT 1").fetchone():
        return
    # Entries already at this stamp (another write in the same microsecond): the new ones go after them,
    # then the stamp's entries are put back in uid order.
    start = int(conn.execute("SELECT COALESCE(MAX(seq) + 1, 0) FROM oai_items WHERE stamp = ?", (stamp,)).fetchone()[0])
    conn.execute("DELETE FROM temp.oai_gone")
    conn.execute("INSERT INTO temp.oai_gone SELECT i.uid, i.content_hash, i.sets FROM temp.oai_fresh f "
                 "CROSS JOIN oai_items i ON i.uid = f.uid WHERE f.gone = 1")  # fmt: skip
    _drop_entries(conn, "SELECT i.stamp, i.seq, i.sets FROM temp.oai_fresh f CROSS JOIN oai_items i ON i.uid = f.uid")
    _enter_fresh(conn, stamp, start=start)
    conn.execute("DELETE FROM temp.oai_fresh")
    if start:
        _renumber(conn, stamp)


def _enter_fresh(conn: sqlite3.Connection, stamp: int, *, start: int) -> None:
    """Insert the entries of `temp.oai_fresh` at `stamp`, seq from `start` in uid order: a live record's with
    its sets read from its JSON, a removed one's deleted with the sets it had (`temp.oai_gone`)."""
    codes = SetCodes(conn)
    rows = conn.execute(
        "SELECT f.uid, f.gone, d.id, oai_hash(d.content_hash), p.json, g.content_hash, g.sets FROM temp.oai_fresh f "
        "LEFT JOIN docs d ON f.gone = 0 AND d.uid = f.uid LEFT JOIN payloads p ON p.id = d.id "
        "LEFT JOIN temp.oai_gone g ON g.uid = f.uid ORDER BY f.uid"
    ).fetchmany
    seq = start
    while batch := rows(_CHUNK):
        entries = []
        for uid, gone, doc_id, content_hash, payload, gone_hash, gone_sets in batch:
            if gone:
                entries.append((stamp, seq, uid, None, 1, gone_hash, gone_sets))
            else:
                data = json.loads(payload_text(payload, conn)) if payload is not None else {}
                sets = encode_codes(codes.code(kind, value) for kind, value in _set_values(data))
                entries.append((stamp, seq, uid, doc_id, 0, content_hash, sets))
            seq += 1
        _add_entries(conn, entries)


def _add_entries(conn: sqlite3.Connection, entries: Sequence[tuple[Any, ...]]) -> None:
    """Insert entries (stamp, seq, uid, doc_id, deleted, content_hash, sets) and their set rows."""
    conn.executemany("INSERT INTO oai_items (stamp, seq, uid, doc_id, deleted, content_hash, sets) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", entries)  # fmt: skip
    conn.executemany(
        "INSERT INTO oai_sets (code, stamp, seq) VALUES (?, ?, ?)",
        [(code, e[0], e[1]) for e in entries for code in decode_codes(e[6])],
    )


def _drop_entries(conn: sqlite3.Connection, which: str, params: Sequence[object] = ()) -> None:
    """Delete the entries `which` selects (stamp, seq, sets) and their set rows."""
    conn.execute(f"DELETE FROM oai_sets WHERE (code, stamp, seq) IN (SELECT j.value, w.stamp, w.seq FROM ({which}) w, "
                 f"{SETS_OF.format('w.sets')} j)", params)  # fmt: skip
    conn.execute(f"DELETE FROM oai_items WHERE (stamp, seq) IN (SELECT w.stamp, w.seq FROM ({which}) w)", params)


def _renumber(conn: sqlite3.Connection, stamp: int) -> None:
    """Give the entries of one stamp seq numbers in uid order again (after entries joined an existing stamp)."""
    moved = conn.execute("SELECT uid, doc_id, deleted, content_hash, sets FROM oai_items WHERE stamp = ? "
                         "ORDER BY uid", (stamp,)).fetchall()  # fmt: skip
    _drop_entries(conn, "SELECT stamp, seq, sets FROM oai_items WHERE stamp = ?", (stamp,))
    _add_entries(conn, [(stamp, seq, *row) for seq, row in enumerate(moved)])


class SqliteChangeReads:
    """The IndexBackend change-log methods of SqliteBackend (mixed in: it provides `_conn`, `_writing`, `path`)."""

    path: Path
    _conn: Callable[[], sqlite3.Connection]
    _writing: Callable[[], AbstractContextManager[tuple[sqlite3.Connection, int]]]

    def keep_deleted(self, entries: Iterable[Change]) -> int:
        """Add the deleted entries (stamps and sets as given) of uids the log has no entry for; how many."""
        try:
            with self._writing() as (conn, _generation):
                return _keep_deleted(conn, entries)
        except sqlite3.Error as exc:
            raise IndexBackendError(f"cannot write index {self.path}: {exc}") from exc

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
            found = _page(conn, query)
            names = set_names(conn, (code for row in found for code in decode_codes(row[4])))
            live = [str(row[2]) for row in found if not row[3]]
            payloads = (
                _column(conn, "SELECT d.uid, p.json FROM docs d JOIN payloads p ON p.id = d.id WHERE d.uid IN ({})",
                        live) if query.records else {}
            )  # fmt: skip
            texts = {uid: payload_text(value, conn) for uid, value in payloads.items()}
        return [
            Change(
                uid=str(uid),
                stamp=int(stamp),
                deleted=bool(deleted) or (query.records and uid not in payloads),
                sets=named_sets(decode_codes(sets), names),
                record=Record.model_validate_json(texts[uid]) if uid in texts else None,
            )
            for stamp, _seq, uid, deleted, sets in found
        ]

    def count_changes(self, query: ChangeQuery) -> int:
        """How many entries the whole list of `query` holds (its `after` and `limit` ignored)."""
        bounds = [query.since, query.until]
        with self._snapshot() as conn:
            if query.uid is not None:
                sql = "SELECT COUNT(*) FROM oai_items WHERE uid = ? AND stamp >= ? AND stamp <= ?"
                return int(conn.execute(sql, [query.uid, *bounds]).fetchone()[0])
            codes = _codes(conn, query)
            if codes is None:
                return _count_entries(conn, query.since, query.until)
            marks = ", ".join("?" * len(codes))
            sql = f"SELECT COUNT(*) FROM oai_sets WHERE code IN ({marks}) AND stamp >= ? AND stamp <= ?"
            if len(codes) > 1:  # an entry holding two of the values counts once
                sql = f"SELECT COUNT(*) FROM (SELECT DISTINCT stamp, seq {sql.removeprefix('SELECT COUNT(*)')})"
            return int(conn.execute(sql, [*codes, *bounds]).fetchone()[0]) if codes else 0

    def change_sets(self) -> ChangeSets:
        """Every set value an entry holds, by kind, and the earliest stamp."""
        with self._snapshot() as conn:
            values: dict[str, list[str]] = {kind: [] for kind in SET_KINDS}
            held = conn.execute("SELECT kind, value FROM oai_set_values v WHERE EXISTS (SELECT 1 FROM oai_sets s "
                                "WHERE s.code = v.code) ORDER BY kind, value")  # fmt: skip
            for kind, value in held:
                values.setdefault(str(kind), []).append(str(value))
            earliest = conn.execute("SELECT MIN(stamp) FROM oai_items").fetchone()[0]
        return ChangeSets(values=values, earliest=None if earliest is None else int(earliest))


def _count_entries(conn: sqlite3.Connection, since: int, until: int) -> int:
    """Entries stamped from `since` to `until`: the whole log (a list without dates) is counted on the uid
    index, a third of the table's pages."""
    first, last = conn.execute(
        "SELECT (SELECT MIN(stamp) FROM oai_items), (SELECT MAX(stamp) FROM oai_items)"
    ).fetchone()
    if first is None or since <= first and until >= last:
        return int(conn.execute("SELECT COUNT(*) FROM oai_items INDEXED BY oai_item_uid").fetchone()[0])
    return int(conn.execute("SELECT COUNT(*) FROM oai_items WHERE stamp >= ? AND stamp <= ?",
                            (since, until)).fetchone()[0])  # fmt: skip


def _codes(conn: sqlite3.Connection, query: ChangeQuery) -> list[int] | None:
    """The set value codes `query` selects (None: no set, or every platform, which every entry has)."""
    if query.set_kind is None or query.set_kind == "platform" and query.set_values is None:
        return None
    sql, params = "SELECT code FROM oai_set_values WHERE kind = ?", [query.set_kind]
    if query.set_values is not None:
        sql += f" AND value IN ({', '.join('?' * len(query.set_values))})"
        params.extend(query.set_values)
    return sorted(int(code) for (code,) in conn.execute(sql, params))


def _page(conn: sqlite3.Connection, query: ChangeQuery) -> list[Any]:
    """The entries (stamp, seq, uid, deleted, sets) of one page, in (stamp, uid) order."""
    bounds = (query.since, query.until)
    if query.uid is not None:
        rows = conn.execute(f"SELECT {_ITEM} FROM oai_items WHERE uid = ? AND stamp >= ? AND stamp <= ?",
                            (query.uid, *bounds)).fetchall()  # fmt: skip
        return [r for r in rows if query.after is None or (r[0], r[2]) > query.after][: query.limit]
    # `since` and `after` as one lower bound (seq >= 0), so the key range starts at the token, not its stamp.
    after = max((query.since, -1), (-1, -1) if query.after is None else _resume_key(conn, query.after))
    codes = _codes(conn, query)
    if codes is None:
        sql = f"SELECT {_ITEM} FROM oai_items WHERE (stamp, seq) > (?, ?) AND stamp <= ? ORDER BY stamp, seq LIMIT ?"
        return conn.execute(sql, (*after, query.until, query.limit)).fetchall()
    sql = ("SELECT stamp, seq FROM oai_sets WHERE code = ? AND (stamp, seq) > (?, ?) AND stamp <= ? "
           "ORDER BY stamp, seq LIMIT ?")  # fmt: skip
    # One key range per value, merged: a page reads `limit` keys of each, never the whole set.
    ranges = [conn.execute(sql, (code, *after, query.until, query.limit)).fetchall() for code in codes]
    keys: list[tuple[int, int]] = []
    for key in heapq.merge(*ranges):
        if not keys or keys[-1] != key:
            keys.append(key)
            if len(keys) == query.limit:
                break
    item = f"SELECT {_ITEM} FROM oai_items WHERE stamp = ? AND seq = ?"
    return [conn.execute(item, key).fetchone() for key in keys]


def _resume_key(conn: sqlite3.Connection, after: tuple[int, str]) -> tuple[int, int]:
    """The (stamp, seq) key a list resumes after, from the (stamp, uid) of its token: the entry itself while it
    is still at that stamp, else the last entry of that stamp whose uid sorts at or before it."""
    stamp, uid = after
    row = conn.execute("SELECT stamp, seq FROM oai_items WHERE uid = ?", (uid,)).fetchone()
    if row is not None and int(row[0]) == stamp:
        return stamp, int(row[1])
    top = conn.execute("SELECT MAX(seq) FROM oai_items WHERE stamp = ?", (stamp,)).fetchone()[0]
    if top is None:
        return stamp, -1
    low, high = 0, int(top) + 1  # the first seq from which every entry of the stamp sorts after `uid`
    first = "SELECT uid FROM oai_items WHERE stamp = ? AND seq >= ? ORDER BY seq LIMIT 1"
    while low < high:
        middle = (low + high) // 2
        found = conn.execute(first, (stamp, middle)).fetchone()
        if found is None or str(found[0]) > uid:
            high = middle
        else:
            low = middle + 1
    return stamp, low - 1


def _keep_deleted(conn: sqlite3.Connection, entries: Iterable[Change]) -> int:
    """Add deleted entries for uids the log lacks (the first of a uid wins), each stamp's in uid order."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS oai_kept (uid TEXT PRIMARY KEY, stamp INTEGER, sets TEXT)")
    conn.execute("DELETE FROM temp.oai_kept")
    codes = SetCodes(conn)
    for chunk in _chunks((e for e in entries if e.deleted), _CHUNK):
        known = set(_column(conn, "SELECT uid, 1 FROM oai_items WHERE uid IN ({})", [e.uid for e in chunk]))
        fresh = [e for e in dict((e.uid, e) for e in chunk).values() if e.uid not in known]
        conn.executemany("INSERT OR IGNORE INTO temp.oai_kept (uid, stamp, sets) VALUES (?, ?, ?)", [
            (e.uid, e.stamp, encode_codes(codes.code(k, v) for k, values in e.sets.items() for v in values))
            for e in fresh])  # fmt: skip
    shared = [int(s) for (s,) in conn.execute("SELECT DISTINCT k.stamp FROM temp.oai_kept k WHERE EXISTS "
                                              "(SELECT 1 FROM oai_items i WHERE i.stamp = k.stamp)")]  # fmt: skip
    conn.execute(
        "INSERT INTO oai_items (stamp, seq, uid, doc_id, deleted, content_hash, sets) SELECT k.stamp, "
        "ROW_NUMBER() OVER (PARTITION BY k.stamp ORDER BY k.uid) + COALESCE((SELECT MAX(i.seq) FROM oai_items i "
        "WHERE i.stamp = k.stamp), -1), k.uid, NULL, 1, x'', k.sets FROM temp.oai_kept k ORDER BY 1, 2"
    )
    conn.execute(f"INSERT INTO oai_sets (code, stamp, seq) SELECT j.value, i.stamp, i.seq FROM temp.oai_kept k "
                 f"CROSS JOIN oai_items i ON i.uid = k.uid CROSS JOIN {SETS_OF.format('i.sets')} j")  # fmt: skip
    for stamp in shared:
        _renumber(conn, stamp)
    added = int(conn.execute("SELECT COUNT(*) FROM temp.oai_kept").fetchone()[0])
    conn.execute("DELETE FROM temp.oai_kept")
    return added


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
    """Every deleted entry of a file's change log with its sets, by uid (nothing for a file without a log);
    a file of the first layout is read as it is."""
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"oai_items", "oai_sets"} <= tables:
        return
    if layout_of(conn) == "uid-keyed":
        for uid, stamp, kinds in uid_keyed_deleted(conn, page=page):
            yield Change(uid=uid, stamp=stamp, deleted=True,
                         sets={k: tuple(sorted(v)) for k, v in sorted(kinds.items())})  # fmt: skip
        return
    last = ""
    sql = "SELECT uid, stamp, sets FROM oai_items WHERE deleted = 1 AND uid > ? ORDER BY uid LIMIT ?"
    while rows := conn.execute(sql, (last, page)).fetchall():
        names = set_names(conn, (code for row in rows for code in decode_codes(row[2])))
        for uid, stamp, sets in rows:
            yield Change(uid=str(uid), stamp=int(stamp), deleted=True, sets=named_sets(decode_codes(sets), names))
        last = str(rows[-1][0])


def _column(conn: sqlite3.Connection, sql: str, uids: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for start in range(0, len(uids), _CHUNK):
        chunk = uids[start : start + _CHUNK]
        found.update({str(uid): value for uid, value in conn.execute(sql.format(", ".join("?" * len(chunk))), chunk)})
    return found
