"""The record linkage a SQLite index file was linked by (`meta.linkage`), and linking every record again.

`meta.linkage` is the version (indexer.linkage.version) of the rules that made the file's blocking key codes
(link_key_ids) and clusters: a new file gets this edufed's; a file that records none was linked before versions
were recorded (1). An older file is linked again (SqliteBackend.relink_all): every stored record's codes
computed again (`recode_link_keys`, a page of records a write transaction, into a new table put in place at the
end), then every record clustered group by group as the end of a rebuild does (sqlite_bulk_links.link_stored, the
admins' split and join decisions of the linker kept), then the version set. Stopped part-way, the file keeps its
older version and the next run starts again. The records' text and OAI-PMH datestamps are not touched; a record
whose cluster changes has its stored JSON's cluster id rewritten, as any relink does.

As with the text analysis (sqlite_analysis), an older edufed opening a file of a newer linkage lowers
`meta.linkage` to its own, since the records it writes are keyed and clustered its way: the newer edufed then
links the whole file again.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager

from indexer.backends.sqlite_link_keys import TABLE_DDL, stored_codes
from indexer.linkage.version import LINKAGE_VERSION, UNRECORDED, LinkageState, linkage_state, newer_notice

logger = logging.getLogger(__name__)

_VERSION = "linkage"
_NEXT = "link_key_ids_next"
PAGE = 2000
"""Records coded a write transaction (~0.7 s)."""
_PAGE_SQL = "SELECT id FROM docs WHERE id > ? AND id <= ? ORDER BY id LIMIT ?"

Transaction = Callable[[], AbstractContextManager[sqlite3.Connection]]


def record_linkage(conn: sqlite3.Connection, *, new_file: bool) -> None:
    """Say in `meta` which linkage the file holds, inside the opening write transaction: a new file this edufed's,
    a file recording none UNRECORDED, a newer one this edufed's (see the module's docstring)."""
    if new_file:
        set_linkage(conn)
        return
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (_VERSION, UNRECORDED))
    version = file_linkage(conn)
    if version > LINKAGE_VERSION:
        logger.warning("index: %s", newer_notice(version))
        set_linkage(conn)


def file_linkage(conn: sqlite3.Connection) -> int:
    """The version `meta` records (UNRECORDED when none)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (_VERSION,)).fetchone()
    return UNRECORDED if row is None else int(row[0])


def set_linkage(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (_VERSION, LINKAGE_VERSION))


def file_linkage_state(conn: sqlite3.Connection) -> LinkageState:
    """The file's linkage against this edufed's (the records are counted only when they are to be linked again)."""
    version = file_linkage(conn)
    records = 0
    if version < LINKAGE_VERSION:
        records = int(conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0])
    return linkage_state(version, records=records)


def recode_link_keys(
    transaction: Transaction, *, page: int = PAGE, on_page: Callable[[int], None] | None = None
) -> int:
    """Every stored record's blocking key codes computed again under this edufed's rules; returns how many records
    the file holds at the end. The codes go into a new table, `page` records a write transaction (writers wait for
    one page, not for the whole file: ~0.35 ms a record); the last transaction codes again the rows written or
    removed meanwhile (their write generation is past the one read at the start: `docs.gen`, `removed`) and puts
    the new table in place of `link_key_ids`. `on_page` is told the records coded so far."""
    with transaction() as conn:
        started = _meta(conn, "generation")
        top = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM docs").fetchone()[0])
        conn.execute(f"DROP TABLE IF EXISTS {_NEXT}")
        conn.execute(TABLE_DDL.replace("link_key_ids", _NEXT))
    coded = last = 0
    while last < top:
        with transaction() as conn:
            ids = [int(i) for (i,) in conn.execute(_PAGE_SQL, (last, top, page))]
            if not ids:
                break
            coded += _code(conn, ids)
            last = ids[-1]
        if on_page is not None:
            on_page(coded)
    with transaction() as conn:
        if _meta(conn, "pruned") > started:  # the removals since the start are no longer all listed: code them all
            conn.execute(f"DELETE FROM {_NEXT}")
            _code(conn, [int(i) for (i,) in conn.execute("SELECT id FROM docs ORDER BY id")])
        else:
            since = conn.execute("SELECT id FROM docs WHERE gen > ? OR id > ?", (started, top)).fetchall()
            gone = conn.execute("SELECT id FROM removed WHERE gen > ?", (started,)).fetchall()
            again = sorted({int(i) for (i,) in since} | {int(i) for (i,) in gone})
            if again:  # one scan of the new table, as a removal of many rows does (sqlite_link_keys.SCAN_SHARE)
                conn.execute(f"DELETE FROM {_NEXT} WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(again),))
                _code(conn, [int(i) for (i,) in since])
        conn.execute("DROP TABLE link_key_ids")
        conn.execute(f"ALTER TABLE {_NEXT} RENAME TO link_key_ids")
        return int(conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0])


def _code(conn: sqlite3.Connection, ids: list[int]) -> int:
    """Code these rows' stored records into the new table; how many could be read (one that cannot stores none,
    as when a file's codes are converted: sqlite_link_keys)."""
    coded = 0
    for start in range(0, len(ids), 500):
        readable = [(i, codes) for i, codes in stored_codes(conn, ids[start : start + 500]) if codes is not None]
        conn.executemany(
            f"INSERT OR IGNORE INTO {_NEXT} (key, id) VALUES (?, ?)",
            sorted((code, row_id) for row_id, codes in readable for code in codes),
        )
        coded += len(readable)
    return coded


def _meta(conn: sqlite3.Connection, key: str) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return 0 if row is None else int(row[0])


def mark_linked(transaction: Transaction) -> None:
    """Record that every record was linked by this edufed's rules."""
    with transaction() as conn:
        set_linkage(conn)
