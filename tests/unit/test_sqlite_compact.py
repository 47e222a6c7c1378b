"""The checks before a SQLite index file is compacted: row ids VACUUM keeps, and where its copies go."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_compact import (
    ROWID_TABLES,
    compact_index,
    disk_needs,
    index_file_space,
    rowid_is_kept,
    sqlite_temp_directory,
)
from indexer.backends.sqlite_schema import SCHEMA_VERSION
from indexer.errors import IndexBackendError

IMPLICIT_ROWIDS = {"meta", "codes", "clusters"}
"""Tables VACUUM may renumber: each is looked up by its own key columns, and no other table or index names their
row ids. A new table keyed by row id (as the search engine keys `docs`) needs an INTEGER PRIMARY KEY."""


def test_every_table_keyed_by_row_id_keeps_its_row_ids_through_vacuum(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    SqliteBackend(path).close()
    with sqlite3.connect(path) as conn:
        rowid_tables = [
            str(name) for (name,) in conn.execute(
                "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'shadow') "
                "AND wr = 0 AND name NOT LIKE 'sqlite%'"
            )
        ]  # fmt: skip
        assert set(ROWID_TABLES) <= set(rowid_tables)
        assert {table for table in rowid_tables if not rowid_is_kept(conn, table)} == IMPLICIT_ROWIDS
        assert {"fts_data", "fts_docsize"} <= {table for table in rowid_tables if rowid_is_kept(conn, table)}


def test_a_file_whose_docs_could_be_renumbered_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        conn.execute("CREATE TABLE docs (id INT PRIMARY KEY, uid TEXT NOT NULL)")  # INT: not the row id
        conn.executemany("INSERT INTO docs VALUES (?, ?)", [(n, "x" * 2000) for n in range(200)])
        conn.execute("DELETE FROM docs WHERE id < 150")
    before = path.read_bytes()

    with pytest.raises(IndexBackendError, match=r"may renumber the rows of docs, which the search engine index"):
        compact_index(path, wait_seconds=0)

    assert index_file_space(path).free_pages > 0 and path.read_bytes() == before


def test_a_file_of_another_layout_is_not_compacted(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    SqliteBackend(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '5' WHERE key = 'schema'")

    with pytest.raises(IndexBackendError, match="has layout version 5, this edufed writes"):
        compact_index(path, wait_seconds=0)


def test_a_file_that_is_no_index_is_said_so(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (a)")

    with pytest.raises(IndexBackendError, match="is not an edufed search index"):
        index_file_space(path)


def test_the_temporary_copy_goes_where_sqlite_puts_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    second.mkdir()
    monkeypatch.setenv("SQLITE_TMPDIR", str(first))  # not a directory: SQLite passes over it
    monkeypatch.setenv("TMPDIR", str(second))
    assert sqlite_temp_directory() == second
    first.mkdir()
    assert sqlite_temp_directory() == first


def test_one_file_system_must_hold_both_copies(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    SqliteBackend(path).close()
    space = index_file_space(path)
    temporary = tmp_path / "tmp"
    temporary.mkdir()

    (need,) = disk_needs(space, temp_directory=temporary)

    assert need.directories == (tmp_path.resolve(), temporary.resolve())
    assert need.needed > 2 * space.live_bytes  # the temporary copy, and the log's copy with its frame headers
