"""The segmented text of each record in `texts`, zstd-compressed, beside a contentless FTS5 index (issue 17).

The FTS5 table `fts` is contentless (`content = ''`): it holds the inverted index and the column sizes, all that
MATCH, bm25 and fts5vocab read, and no copy of the text. The text it was given (the FTS_COLUMNS values of
indexer.analysis) lives in `texts`, one row per record under the same rowid: a JSON array of the column strings
as one zstd frame, compressed with a dictionary trained on the file's own texts. Two readers need it: the
tantivy engine, which builds and catches up from it (tantivy_index), and removing a record from a contentless
FTS5 table, which takes the exact values it was given (the 'delete' command; SQLite 3.40 has no
contentless_delete), so `delete_texts` reads them back first. Only `insert_texts` and `delete_texts` write
either table, in the caller's transaction, so the two always hold the same records.

Compressed as the payloads are (sqlite_zstd), with dictionaries of their own in `meta` as `text_dict:<id>`,
`text_dict` naming the one new texts use.

A file written while FTS5 kept its own copy of the text (the shadow table `fts_content`) is converted once, when
opened (`convert_fts_content`, in the opening write transaction).

The FTS5 index is kept only for the fts5 engine, which searches it. With the tantivy engine nothing reads it (the
derived tantivy index answers every text query, its document frequencies and title look-ups), so the file does not
keep one: 405 B a record at 1M records, a third of the file. `meta.fts_index` says which ('kept', the default of
older files, or 'dropped'); `keep_fts_index` switches it when a file is opened by the other engine, in the opening
write transaction (dropping empties the index; keeping it again indexes every stored text), and the writes here
maintain the FTS5 index only while the file keeps it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator, Sequence

import orjson

from indexer.backends.sqlite_zstd import SAMPLE_SIZE, TRAIN_AFTER, DictionaryColumn, DictionaryWriter
from indexer.errors import IndexBackendError

logger = logging.getLogger(__name__)

FTS_COLUMNS = ("title", "subtitle", "tags", "description", "people", "provider", "pinyin", "chars")
_TOKENIZE = "tokenize = 'unicode61 remove_diacritics 0'"
DDL = f"""
CREATE TABLE IF NOT EXISTS texts (id INTEGER PRIMARY KEY, fields BLOB NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5 ({", ".join(FTS_COLUMNS)}, content = '', {_TOKENIZE});
"""
TEXTS = DictionaryColumn(what="text", table="texts", column="fields", meta_prefix="text_dict")
__all__ = [
    "TRAIN_AFTER", "convert_fts_content", "decode_fields", "delete_texts", "fts_index_kept", "insert_texts",
    "keep_fts_index", "texts_of",
]  # fmt: skip
_CHUNK = 5000
_KEPT, _DROPPED = "kept", "dropped"
_INSERT_FTS = f"INSERT INTO fts (rowid, {', '.join(FTS_COLUMNS)}) VALUES (?{', ?' * len(FTS_COLUMNS)})"
_DELETE_FTS = f"INSERT INTO fts (fts, rowid, {', '.join(FTS_COLUMNS)}) VALUES ('delete', ?{', ?' * len(FTS_COLUMNS)})"


def encode_fields(fields: Sequence[str]) -> bytes:
    """The uncompressed form of one record's column strings."""
    return json.dumps(list(fields), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_fields(value: object, conn: sqlite3.Connection) -> tuple[str, ...]:
    """One stored `texts.fields` value back as the FTS_COLUMNS strings (parsed by orjson: 1.1 us a bench text where
    json.loads took 3.1; a search's page of several words decodes the text of every hit)."""
    fields = orjson.loads(TEXTS.decode(value, conn))
    if not isinstance(fields, list) or len(fields) != len(FTS_COLUMNS):
        raise IndexBackendError(f"a stored text holds {type(fields).__name__}, not the {len(FTS_COLUMNS)} columns")
    return tuple(str(f) for f in fields)


def texts_of(conn: sqlite3.Connection, row_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """rowid -> column strings of the stored rows among `row_ids`."""
    found: dict[int, tuple[str, ...]] = {}
    for start in range(0, len(row_ids), 500):
        chunk = row_ids[start : start + 500]
        sql = f"SELECT id, fields FROM texts WHERE id IN ({', '.join('?' * len(chunk))})"
        found.update((int(i), decode_fields(v, conn)) for i, v in conn.execute(sql, chunk))
    return found


def insert_texts(conn: sqlite3.Connection, rows: Sequence[tuple[int, Sequence[str]]]) -> None:
    """Store the texts of rows that hold none now, and index them when the file keeps an FTS5 index (inside the
    caller's write transaction)."""
    if not rows:
        return
    if fts_index_kept(conn):
        conn.executemany(_INSERT_FTS, [(i, *fields) for i, fields in rows])
    packed = TEXTS.writer(conn).encode([encode_fields(fields) for _, fields in rows])
    conn.executemany(
        "INSERT INTO texts (id, fields) VALUES (?, ?)", [(i, p) for (i, _), p in zip(rows, packed, strict=True)]
    )


def delete_texts(conn: sqlite3.Connection, row_ids: Sequence[int]) -> None:
    """Remove these rows from `texts`, and from the FTS5 index (by the values they were indexed with) when the
    file keeps one."""
    if not row_ids:
        return
    if fts_index_kept(conn):
        stored = texts_of(conn, row_ids)
        conn.executemany(_DELETE_FTS, [(i, *fields) for i, fields in stored.items()])
    for start in range(0, len(row_ids), 500):
        chunk = row_ids[start : start + 500]
        conn.execute(f"DELETE FROM texts WHERE id IN ({', '.join('?' * len(chunk))})", chunk)


def fts_index_kept(conn: sqlite3.Connection) -> bool:
    """Whether the file keeps an FTS5 index of its texts (`meta.fts_index`; files of before it say nothing: kept)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'fts_index'").fetchone()
    return row is None or row[0] != _DROPPED


def keep_fts_index(conn: sqlite3.Connection, *, keep: bool) -> bool:
    """Keep or drop the file's FTS5 index, inside the caller's write transaction: dropping empties it (its pages
    are reused by later writes; VACUUM returns them to the file system), keeping it again indexes every stored
    text; either way the file's write generation moves on. Returns whether anything changed."""
    if fts_index_kept(conn) == keep:
        return False
    started = time.perf_counter()
    conn.execute("INSERT INTO fts (fts) VALUES ('delete-all')")
    records = 0
    if keep:
        last = 0
        while rows := conn.execute("SELECT id, fields FROM texts WHERE id > ? ORDER BY id LIMIT ?",
                                   (last, _CHUNK)).fetchall():  # fmt: skip
            conn.executemany(_INSERT_FTS, [(int(i), *decode_fields(v, conn)) for i, v in rows])
            records += len(rows)
            last = int(rows[-1][0])
            if records % (20 * _CHUNK) == 0:
                logger.info("FTS5 index: %d records indexed so far", records)
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('fts_index', ?)", (_KEPT if keep else _DROPPED,))
    # A new generation: what other processes keep per generation (results, frequencies) was read on the old index.
    conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
    logger.info(
        "FTS5 index %s in %.1f s%s", "rebuilt" if keep else "dropped (the tantivy engine does not read it)",
        time.perf_counter() - started, f": {records} records" if keep else "",
    )  # fmt: skip
    return True


def convert_fts_content(conn: sqlite3.Connection) -> int | None:
    """A file whose FTS5 table keeps its own copy of the text brought to the contentless layout, inside the
    caller's write transaction: every text compressed into `texts`, a contentless FTS5 table indexed from the
    same text in its place. Returns how many records were converted, None when there was nothing to convert.
    The old table's pages are reused by later writes (VACUUM gives them back to the file system)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'fts_content'").fetchone():
        return None
    started = time.perf_counter()
    conn.execute("DELETE FROM texts")  # none in a file of that layout; a stray row would be a duplicate id
    writer: DictionaryWriter = TEXTS.writer(conn)
    if writer.dict_id is None:
        total = int(conn.execute("SELECT COUNT(*) FROM fts").fetchone()[0])
        if total >= TRAIN_AFTER:
            step = max(1, total // SAMPLE_SIZE)
            sample = [encode_fields(f) for _, f in _old_rows(conn, step=step)]
            writer.train(sample)
    records = 0
    for chunk in _chunks(_old_rows(conn, step=1)):
        packed = writer.encode([encode_fields(fields) for _, fields in chunk])
        conn.executemany(
            "INSERT INTO texts (id, fields) VALUES (?, ?)", [(i, p) for (i, _), p in zip(chunk, packed, strict=True)]
        )
        records += len(chunk)
    columns = ", ".join(FTS_COLUMNS)
    conn.execute(f"CREATE VIRTUAL TABLE fts_contentless USING fts5 ({columns}, content = '', {_TOKENIZE})")
    conn.execute(f"INSERT INTO fts_contentless (rowid, {columns}) SELECT rowid, {columns} FROM fts ORDER BY rowid")
    conn.execute("DROP TABLE fts")
    conn.execute("ALTER TABLE fts_contentless RENAME TO fts")
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('fts_index', ?)", (_KEPT,))
    logger.info(
        "search text converted in %.1f s: %d records' text compressed into `texts`, the FTS5 table rebuilt "
        "without its own copy (the old pages are reused by later writes; VACUUM returns them to the file system)",
        time.perf_counter() - started, records,
    )  # fmt: skip
    return records


def _old_rows(conn: sqlite3.Connection, *, step: int) -> Iterator[tuple[int, tuple[str, ...]]]:
    """(rowid, column strings) of an FTS5 table with content, every `step`-th rowid, in rowid order."""
    sql = f"SELECT rowid, {', '.join(FTS_COLUMNS)} FROM fts WHERE rowid > ? ORDER BY rowid LIMIT ?"
    last, seen = 0, 0
    while rows := conn.execute(sql, (last, _CHUNK)).fetchall():
        for row in rows:
            if seen % step == 0:
                yield int(row[0]), tuple(str(v or "") for v in row[1:])
            seen += 1
        last = int(rows[-1][0])


def _chunks(rows: Iterator[tuple[int, tuple[str, ...]]]) -> Iterator[list[tuple[int, tuple[str, ...]]]]:
    chunk: list[tuple[int, tuple[str, ...]]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
