"""The tables of the SQLite index's OAI-PMH change log, their set value codes, and the one-time conversion of a
file written in the first, uid-keyed layout.

Layout (sqlite_oai writes and reads it):

* `oai_items` — one row per uid the index ever held, keyed (WITHOUT ROWID) by `(stamp, seq)`: `stamp` (epoch
  microseconds, UTC) of the write that last changed or withdrew the record, `seq` its place among the entries
  of that stamp in uid order, so (stamp, seq) sorts exactly as (stamp, uid), the order OAI-PMH lists and
  resumes in; `uid`, `doc_id` (NULL once withdrawn), `deleted`, the `content_hash` it was stamped for
  (hash_bytes: the first 8 bytes of a hex digest), and `sets`, its set value codes ("3,17,40"). One index on
  uid (GetRecord, stamping), one on doc_id of live entries (withdrawals, which `removed` names by rowid).
* `oai_sets` — (code, stamp, seq), WITHOUT ROWID: a set is listed in datestamp order from one key range.
* `oai_set_values` — set value code <-> (kind, value); codes are never reused.

The first layout kept the uid (about 30 bytes) in six places and the hash as 64 hex characters: 695 bytes an
entry at 100k records against 200 now (bench/bench_oai_log.py, bench/RESULTS.md).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator
from typing import Any

logger = logging.getLogger(__name__)

OAI_TABLES = """
CREATE TABLE IF NOT EXISTS oai_items (
    stamp INTEGER NOT NULL, seq INTEGER NOT NULL, uid TEXT NOT NULL, doc_id INTEGER, deleted INTEGER NOT NULL,
    content_hash BLOB NOT NULL, sets TEXT NOT NULL, PRIMARY KEY (stamp, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS oai_sets (
    code INTEGER NOT NULL, stamp INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (code, stamp, seq))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS oai_set_values (
    code INTEGER PRIMARY KEY, kind TEXT NOT NULL, value TEXT NOT NULL, UNIQUE (kind, value));
"""
OAI_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS oai_item_uid ON oai_items (uid);
CREATE INDEX IF NOT EXISTS oai_item_doc ON oai_items (doc_id) WHERE doc_id IS NOT NULL;
"""
SETS_OF = "json_each('[' || {} || ']')"
"""The set codes of an entry's `sets` column as rows (`value`), in SQL."""


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Each statement of `script` inside the caller's transaction (executescript would COMMIT first)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


HASH_PREFIX = 8
"""Bytes of a digest the log keeps: a live entry's hash is only compared with its record's, to tell whether a
write changed it (a changed record passing for unchanged needs the first 64 bits of two SHA-256 digests equal)."""


def full_hash_bytes(content_hash: str | bytes | None) -> bytes:
    """A content hash as the log kept it up to layout 4: the raw bytes of a hex digest (half its length), else
    the text's own bytes (a hash a caller set by hand); bytes as they are (`docs` keeps a hex digest's bytes)."""
    if isinstance(content_hash, bytes):
        return content_hash
    if not content_hash:
        return b""
    try:
        return bytes.fromhex(content_hash)
    except ValueError:
        return content_hash.encode("utf-8")


def hash_bytes(content_hash: str | bytes | None) -> bytes:
    """A record's content hash as stored in the log: the first HASH_PREFIX bytes of a hex digest of at least
    16 bytes (`docs` keeps a lowercase one as its bytes), else as full_hash_bytes gives it: a hash a caller
    set by hand stays whole, so two that share a beginning still differ."""
    raw = full_hash_bytes(content_hash)
    digest = isinstance(content_hash, bytes) or raw != str(content_hash or "").encode("utf-8")
    return raw[:HASH_PREFIX] if digest and len(raw) >= 2 * HASH_PREFIX else raw


def register_functions(conn: sqlite3.Connection) -> None:
    """`oai_hash(text)` on this connection (SQLite before 3.41 has no unhex), once: SQLite refuses to replace
    a function while another statement of the connection is open."""
    try:
        conn.execute("SELECT oai_hash('')").fetchone()
    except sqlite3.OperationalError:
        conn.create_function("oai_hash", 1, hash_bytes, deterministic=True)
        conn.create_function("oai_full_hash", 1, full_hash_bytes, deterministic=True)


def decode_codes(sets: str | None) -> list[int]:
    return [int(code) for code in sets.split(",")] if sets else []


def encode_codes(codes: Iterable[int]) -> str:
    return ",".join(str(code) for code in dict.fromkeys(codes))


class SetCodes:
    """The codes of set values, read at the start of one write transaction and extended inside it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._codes = {
            (str(k), str(v)): int(c) for c, k, v in conn.execute("SELECT code, kind, value FROM oai_set_values")
        }

    def code(self, kind: str, value: str) -> int:
        found = self._codes.get((kind, value))
        if found is None:
            cursor = self._conn.execute("INSERT INTO oai_set_values (kind, value) VALUES (?, ?)", (kind, value))
            found = self._codes[(kind, value)] = int(cursor.lastrowid or 0)
        return found


def set_names(conn: sqlite3.Connection, codes: Iterable[int]) -> dict[int, tuple[str, str]]:
    """code -> (kind, value) of these codes."""
    wanted = sorted(set(codes))
    found: dict[int, tuple[str, str]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        sql = f"SELECT code, kind, value FROM oai_set_values WHERE code IN ({', '.join('?' * len(chunk))})"
        found.update({int(c): (str(k), str(v)) for c, k, v in conn.execute(sql, chunk)})
    return found


def named_sets(codes: Iterable[int], names: dict[int, tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """An entry's sets by kind (kinds and values sorted), from its codes."""
    sets: dict[str, list[str]] = {}
    for code in codes:
        kind, value = names[code]
        sets.setdefault(kind, []).append(value)
    return {kind: tuple(sorted(values)) for kind, values in sorted(sets.items())}


def layout_of(conn: sqlite3.Connection) -> str | None:
    """'compact', 'uid-keyed' (the first layout) or None (a file without a change log)."""
    columns = {str(row[1]) for row in conn.execute("PRAGMA table_info(oai_items)")}
    if not columns:
        return None
    return "compact" if "seq" in columns else "uid-keyed"


def convert_uid_keyed(conn: sqlite3.Connection) -> None:
    """Rewrite a first-layout change log in the compact one, inside the caller's transaction: the same uids,
    stamps, deleted flags, hashes and set memberships, and the same (stamp, uid) order."""
    started = time.monotonic()
    register_functions(conn)
    conn.execute("ALTER TABLE oai_items RENAME TO oai_items_uid_keyed")
    conn.execute("ALTER TABLE oai_sets RENAME TO oai_sets_uid_keyed")
    run_script(conn, OAI_TABLES)
    conn.execute("INSERT INTO oai_set_values (kind, value) SELECT DISTINCT kind, value FROM oai_sets_uid_keyed "
                 "ORDER BY kind, value")  # fmt: skip
    conn.execute(
        "INSERT INTO oai_items (stamp, seq, uid, doc_id, deleted, content_hash, sets) "
        "SELECT i.stamp, ROW_NUMBER() OVER (PARTITION BY i.stamp ORDER BY i.uid) - 1, i.uid, "
        "CASE WHEN i.deleted THEN NULL ELSE i.doc_id END, i.deleted, oai_hash(i.content_hash), "
        "COALESCE((SELECT group_concat(v.code, ',') FROM oai_sets_uid_keyed s JOIN oai_set_values v "
        "ON v.kind = s.kind AND v.value = s.value WHERE s.uid = i.uid), '') "
        "FROM oai_items_uid_keyed i ORDER BY i.stamp, i.uid"
    )
    run_script(conn, OAI_INDEXES)
    conn.execute(
        f"INSERT INTO oai_sets (code, stamp, seq) SELECT j.value, i.stamp, i.seq FROM oai_items i, "
        f"{SETS_OF.format('i.sets')} j ORDER BY 1, 2, 3"
    )
    entries = int(conn.execute("SELECT COUNT(*) FROM oai_items").fetchone()[0])
    conn.execute("DROP TABLE oai_sets_uid_keyed")
    conn.execute("DROP TABLE oai_items_uid_keyed")
    logger.info(
        "converted the OAI-PMH change log to the compact layout: %d entries in %.1f s (the freed pages are "
        "reused by later writes; VACUUM returns them to the file system)",
        entries,
        time.monotonic() - started,
    )


def shorten_hashes(conn: sqlite3.Connection) -> None:
    """Rewrite a compact log of layout 4 or older with hash_bytes's digest prefixes (inside the caller's
    transaction): a live entry stamped for its record's current hash gets that hash's prefix, any other entry
    (a deleted one's hash is never compared) its first HASH_PREFIX bytes when a digest's 16 or more. The table is
    rebuilt in (stamp, seq) order; the old one's pages go to the free list."""
    started = time.monotonic()
    register_functions(conn)
    conn.execute("DROP INDEX IF EXISTS oai_item_uid")
    conn.execute("DROP INDEX IF EXISTS oai_item_doc")
    conn.execute("ALTER TABLE oai_items RENAME TO oai_items_long_hashes")
    run_script(conn, OAI_TABLES)
    conn.execute(
        "INSERT INTO oai_items (stamp, seq, uid, doc_id, deleted, content_hash, sets) "
        "SELECT o.stamp, o.seq, o.uid, o.doc_id, o.deleted, CASE "
        "WHEN d.id IS NOT NULL AND o.content_hash = oai_full_hash(d.content_hash) THEN oai_hash(d.content_hash) "
        f"WHEN length(o.content_hash) >= {2 * HASH_PREFIX} THEN substr(o.content_hash, 1, {HASH_PREFIX}) "
        "ELSE o.content_hash END, o.sets "
        "FROM oai_items_long_hashes o LEFT JOIN docs d ON o.deleted = 0 AND d.id = o.doc_id ORDER BY o.stamp, o.seq"
    )
    conn.execute("DROP TABLE oai_items_long_hashes")
    run_script(conn, OAI_INDEXES)
    logger.info("the OAI-PMH change log keeps %d-byte hash prefixes: rewritten in %.1f s", HASH_PREFIX,
                time.monotonic() - started)  # fmt: skip


def uid_keyed_deleted(conn: sqlite3.Connection, *, page: int) -> Iterator[tuple[str, int, dict[str, list[str]]]]:
    """(uid, stamp, sets) of every deleted entry of a first-layout log, by uid (a read-only file is read as
    it is)."""
    last = ""
    sql = "SELECT uid, stamp FROM oai_items WHERE deleted = 1 AND uid > ? ORDER BY uid LIMIT ?"
    while rows := conn.execute(sql, (last, page)).fetchall():
        sets: dict[str, dict[str, list[str]]] = {}
        uids = [str(u) for u, _ in rows]
        found: list[Any] = conn.execute(
            f"SELECT uid, kind, value FROM oai_sets WHERE uid IN ({', '.join('?' * len(uids))})", uids
        ).fetchall()
        for uid, kind, value in found:
            sets.setdefault(str(uid), {}).setdefault(str(kind), []).append(str(value))
        for uid, stamp in rows:
            yield str(uid), int(stamp), sets.get(str(uid), {})
        last = str(rows[-1][0])
