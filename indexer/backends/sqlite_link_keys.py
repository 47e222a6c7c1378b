"""The linkage blocking keys of a SQLite index, each stored as one signed 64-bit integer (issue 17, disk).

A stored key (indexer.linkage.incremental.stored_link_keys) is text: a kind letter and a blocking key (`a`: a
taught record's own key, `n`: untaught, `p`: joined with a teacher's name; a key without a letter (`t...`,
`b...`) is a plain key of an index written before teacher keys). Its code keeps the kind in the top two bits
and the first 62 bits of blake2b of the key after the letter below them, so one key is the same integer in
every process and Python version, the four kinds are four ranges (a < n < p < plain), and `a`, `n` and plain
of one blocking key share their low 62 bits (sqlite_bulk_links joins them by that).

Two tables hold them:

* `link_key_ids (key, id)`, WITHOUT ROWID, primary key (key, id): candidate look-up by key and the rebuild's
  union-find read it in key order, in place of a text table and its two indexes (2,698 bytes a record at 1M).
* `link_key_sets (id, keys)`: each row id's codes, packed (8 bytes each), so removing a record deletes exactly
  the (key, id) rows it wrote, without an (id, key) index. Only `insert_link_keys` writes both, in one
  transaction, and only `delete_link_keys` removes them, so each set lists exactly its id's rows.

A hash collision (two keys, one code: at 26M distinct keys, 1M records, some collision is a 1 in 14,000 chance)
only adds a candidate to a look-up or joins two groups of the rebuild's union-find: the matcher then judges every
candidate by its own blocking keys and titles (Linker._matches, cluster), so clusters stay what they would be.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import struct
import time
from collections.abc import Collection, Iterable, Sequence

logger = logging.getLogger(__name__)

DDL = """
CREATE TABLE IF NOT EXISTS link_key_ids (key INTEGER NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (key, id))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS link_key_sets (id INTEGER PRIMARY KEY, keys BLOB NOT NULL);
"""

_KIND_BITS = 62
_BASE = (1 << _KIND_BITS) - 1
_OFFSET = 1 << 63
_KINDS = {"a": 0, "n": 1, "p": 2}
_PLAIN = 3
A_END = (1 << _KIND_BITS) - _OFFSET
"""Codes below this are `a` keys (taught records' own keys); `n` keys start here."""
P_START = (2 << _KIND_BITS) - _OFFSET
"""`p` keys (teacher-joined) start here."""
PLAIN_START = (3 << _KIND_BITS) - _OFFSET
"""Plain keys (an index written before teacher keys) start here, up to the largest 64-bit integer."""
_PAGE = 500


def link_key_code(key: str) -> int:
    """The signed 64-bit code of one stored key (not Python's hash(), which differs between processes)."""
    kind = _KINDS.get(key[:1], _PLAIN)
    base = key if kind == _PLAIN else key[1:]
    digest = int.from_bytes(hashlib.blake2b(base.encode(), digest_size=8).digest(), "big")
    return ((kind << _KIND_BITS) | (digest >> (64 - _KIND_BITS))) - _OFFSET


def link_key_codes(keys: Iterable[str]) -> tuple[int, ...]:
    """The distinct codes of a record's stored keys, in order."""
    return tuple(sorted({link_key_code(key) for key in keys}))


def base_of(code: int) -> int:
    """The blocking key part of a code: equal for the `a`, `n` and plain code of one blocking key."""
    return code & _BASE


def is_untaught_or_plain(code: int) -> bool:
    """An `n` or plain code: a look-up of an untaught record asks for both, and for the `a` code."""
    return A_END <= code < P_START or code >= PLAIN_START


def insert_link_keys(conn: sqlite3.Connection, rows: Sequence[tuple[int, Collection[int]]]) -> None:
    """Store the codes of these (row id, codes) rows, which hold none now (inside the caller's transaction)."""
    conn.executemany(
        "INSERT INTO link_key_sets (id, keys) VALUES (?, ?)",
        [(row_id, _pack(sorted(set(codes)))) for row_id, codes in rows],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO link_key_ids (key, id) VALUES (?, ?)",
        [(code, row_id) for row_id, codes in rows for code in codes],
    )


def delete_link_keys(conn: sqlite3.Connection, row_ids: Sequence[int]) -> None:
    """Remove every code these row ids stored (inside the caller's transaction)."""
    for start in range(0, len(row_ids), _PAGE):
        chunk = list(row_ids[start : start + _PAGE])
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(f"SELECT id, keys FROM link_key_sets WHERE id IN ({marks})", chunk).fetchall()
        conn.executemany(
            "DELETE FROM link_key_ids WHERE key = ? AND id = ?",
            [(code, row_id) for row_id, packed in rows for code in _unpack(packed)],
        )
        conn.execute(f"DELETE FROM link_key_sets WHERE id IN ({marks})", chunk)


def codes_of(conn: sqlite3.Connection, row_id: int) -> tuple[int, ...]:
    """The codes one row id stored (empty when none)."""
    row = conn.execute("SELECT keys FROM link_key_sets WHERE id = ?", (row_id,)).fetchone()
    return _unpack(row[0]) if row else ()


def convert_text_link_keys(conn: sqlite3.Connection) -> int | None:
    """An index written with the text table `link_keys` (and its indexes) brought to the coded tables, inside
    the caller's write transaction: every key coded, the text table dropped; returns how many keys were
    converted, None when the file has no text table. The freed pages are reused by later writes (VACUUM
    gives them back to the file system)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'link_keys'").fetchone():
        return None
    started = time.perf_counter()
    conn.create_function("edufed_link_key_code", 1, link_key_code, deterministic=True)
    try:
        # in key order, so the new table's pages are filled once, full
        conn.execute(
            "INSERT OR IGNORE INTO link_key_ids (key, id) "
            "SELECT edufed_link_key_code(key), id FROM link_keys ORDER BY 1, 2"
        )
        records = 0
        pending: list[tuple[int, bytes]] = []
        current: int | None = None
        codes: set[int] = set()
        for row_id, code in conn.execute("SELECT id, key FROM link_key_ids ORDER BY id"):
            if row_id != current:
                if current is not None:
                    pending.append((current, _pack(sorted(codes))))
                current, codes = row_id, set()
            codes.add(code)
            if len(pending) >= 5000:
                records += _write_sets(conn, pending)
        if current is not None:
            pending.append((current, _pack(sorted(codes))))
        records += _write_sets(conn, pending)
        keys = int(conn.execute("SELECT COUNT(*) FROM link_keys").fetchone()[0])
        conn.execute("DROP TABLE link_keys")  # and its indexes
    finally:
        conn.create_function("edufed_link_key_code", 1, None)
    logger.info(
        "link keys converted to 64-bit codes in %.1f s: %d text keys of %d records now in link_key_ids and "
        "link_key_sets; the text table link_keys and its indexes were dropped (their pages are reused by later "
        "writes; VACUUM returns them to the file system)", time.perf_counter() - started, keys, records,
    )  # fmt: skip
    return keys


def _write_sets(conn: sqlite3.Connection, pending: list[tuple[int, bytes]]) -> int:
    conn.executemany("INSERT OR REPLACE INTO link_key_sets (id, keys) VALUES (?, ?)", pending)
    done = len(pending)
    pending.clear()
    return done


def _pack(codes: Sequence[int]) -> bytes:
    return struct.pack(f">{len(codes)}q", *codes)


def _unpack(packed: bytes) -> tuple[int, ...]:
    return struct.unpack(f">{len(packed) // 8}q", packed)
