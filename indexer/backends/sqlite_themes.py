"""The theme rules a SQLite index file's records were classified by (`meta.themes`), and classifying every stored
record again.

`meta.themes` is the themes version (indexer.themes_version) every record of the file was classified by: a new
file gets its opener's; a file recording none was written before versions were recorded (UNRECORDED), and so is
older. `edufed reindex --themes-only` (SqliteBackend.reclassify_all) reads the stored records a page at a time, each
page in its own write transaction (a harvest writes between two pages, and a record it wrote is read in its new
form, never overwritten with the old), classifies each again from what it holds and rewrites those whose themes or
evidence changed, as an upsert does (a new write generation: the search engine, the facet columns and the OAI-PMH
change log see them; their clusters are kept); the version is set at the end. Stopped part-way, the file keeps its
older version and the next run starts again, finding the records already done unchanged.

As with the record linkage (sqlite_linkage), an older edufed opening a file of newer rules lowers `meta.themes` to
its own, since the records it writes are classified its way.
"""

from __future__ import annotations

import logging
import sqlite3

from indexer.backends.sqlite_payload import payload_text
from indexer.record import Record
from indexer.themes_version import UNRECORDED, newer_notice, status_of

logger = logging.getLogger(__name__)

_VERSION = "themes"
PAGE = 1000
"""Records read, classified again and (where changed) rewritten a write transaction."""
_PAGE_SQL = "SELECT d.id, p.json FROM docs d JOIN payloads p ON p.id = d.id WHERE d.id > ? ORDER BY d.id LIMIT ?"


def record_themes(conn: sqlite3.Connection, *, new_file: bool, ours: str) -> None:
    """Say in `meta` which themes version the file's records hold, inside the opening write transaction: a new
    file `ours`, a file recording none UNRECORDED, a newer one `ours` (see the module's docstring)."""
    if new_file:
        set_themes(conn, ours)
        return
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (_VERSION, UNRECORDED))
    version = file_themes(conn)
    if status_of(version, ours) == "newer":
        logger.warning("index: %s", newer_notice(version, ours))
        set_themes(conn, ours)


def file_themes(conn: sqlite3.Connection) -> str:
    """The themes version `meta` records (UNRECORDED when none)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (_VERSION,)).fetchone()
    return UNRECORDED if row is None else str(row[0])


def set_themes(conn: sqlite3.Connection, version: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (_VERSION, version))


def stored_page(conn: sqlite3.Connection, *, after: int, size: int = PAGE) -> list[tuple[int, Record]]:
    """The stored records of the next `size` rows past row id `after`, in row id order."""
    rows = conn.execute(_PAGE_SQL, (after, size)).fetchall()
    return [(int(row_id), Record.model_validate_json(payload_text(payload, conn))) for row_id, payload in rows]
