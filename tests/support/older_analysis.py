"""Make a SQLite index file look as an edufed of an older text analysis wrote it, for the catch-up tests.

The file is written by this edufed, then each record's stored text is rewritten as the edufed before analysis
version 1 wrote it (its pinyin field without the initials of the title's long words: 八段锦 without `bdj`),
`meta` loses the analysis version (that edufed recorded none), and the derived tantivy index is deleted, so
that it is built again from the old text, as it was on that deployment.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from indexer.analysis import CHARS_BOUNDARY, pinyin_splits
from indexer.backends.sqlite_text import FTS_COLUMNS, decode_fields, delete_texts, insert_texts
from indexer.pinyin_query import is_initials

_PINYIN = FTS_COLUMNS.index("pinyin")


def without_initials(pinyin: str) -> str:
    """The pinyin field as version 0 wrote it: the syllables, without the initials that end it now."""
    head, separator, tail = pinyin.rpartition(f" {CHARS_BOUNDARY} ")
    if separator and tail and all(is_initials(token, pinyin_splits) for token in tail.split()):
        return head
    return pinyin


def to_older_analysis(path: Path) -> int:
    """Rewrite the file at `path` as version 0 left it; returns how many records' text changed."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        rows = [(int(i), decode_fields(v, conn)) for i, v in conn.execute("SELECT id, fields FROM texts")]
        older = [(i, f[:_PINYIN] + (without_initials(f[_PINYIN]),) + f[_PINYIN + 1 :]) for i, f in rows]
        changed = [(i, f) for (i, f), (_, new) in zip(older, rows, strict=True) if f != new]
        delete_texts(conn, [i for i, _ in changed])
        insert_texts(conn, changed)
        conn.execute("DELETE FROM meta WHERE key LIKE 'analysis%'")
        conn.execute("COMMIT")
    finally:
        conn.close()
    shutil.rmtree(f"{path}.tantivy", ignore_errors=True)
    return len(changed)
