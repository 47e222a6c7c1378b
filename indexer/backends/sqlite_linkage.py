"""The record linkage a SQLite index file was linked by (`meta.linkage`), and linking every record again.

`meta.linkage` is the version (indexer.linkage.version) of the rules that made the file's blocking key codes
(link_key_ids) and clusters: a new file gets this edufed's; a file that records none was linked before versions
were recorded (1). An older file is linked again by `relink_stored`: every stored record's codes computed again
(sqlite_link_keys.convert_link_keys, in one write transaction), then every record clustered group by group as the
end of a rebuild does (sqlite_bulk_links.link_stored: the admins' split and join decisions of the linker kept),
then the version set. Stopped part-way, the file keeps its older version and the next run starts again; the
records' text, payloads and OAI-PMH datestamps are not touched.

As with the text analysis (sqlite_analysis), an older edufed opening a file of a newer linkage lowers
`meta.linkage` to its own, since the records it writes are keyed and clustered its way: the newer edufed then
links the whole file again.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager

from indexer.backends.sqlite_link_keys import convert_link_keys
from indexer.linkage.version import LINKAGE_VERSION, UNRECORDED, LinkageState, linkage_state, newer_notice

logger = logging.getLogger(__name__)

_VERSION = "linkage"

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


def recode_link_keys(transaction: Transaction, *, on_page: Callable[[int], None] | None = None) -> int:
    """Every stored record's blocking key codes computed again under this edufed's rules (one transaction);
    returns how many records were coded."""
    with transaction() as conn:
        return convert_link_keys(conn, force=True, on_page=on_page) or 0


def mark_linked(transaction: Transaction) -> None:
    """Record that every record was linked by this edufed's rules."""
    with transaction() as conn:
        set_linkage(conn)
