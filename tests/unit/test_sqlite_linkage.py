"""Linking a SQLite file again codes every record's blocking keys a page at a time: writes between the pages (a
harvest's new, replaced and withdrawn records) leave the new table holding exactly the codes of what the file
holds at the end, as coding every record at once would."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_link_keys import record_codes
from indexer.backends.sqlite_linkage import recode_link_keys
from indexer.linkage import profile_of
from tests.unit.test_linkage_matcher import course

TITLES = [
    "书法入门",
    "健康频道｜萨克斯演奏",
    "萨克斯演奏理论篇",
    "太极拳二十四式",
    "智能手机使用技巧",
    "中医养生十二讲",
]


def stored_rows(path: Path) -> set[tuple[int, int]]:
    conn = sqlite3.connect(path)
    try:
        return {(int(k), int(i)) for k, i in conn.execute("SELECT key, id FROM link_key_ids")}
    finally:
        conn.close()


def expected_rows(backend: SqliteBackend, path: Path) -> set[tuple[int, int]]:
    conn = sqlite3.connect(path)
    try:
        ids = dict(conn.execute("SELECT uid, id FROM docs"))
    finally:
        conn.close()
    return {(code, int(ids[r.uid])) for r in backend.iter_records() for code in record_codes(profile_of(r))}


def immediate(conn: sqlite3.Connection) -> Callable[[], AbstractContextManager[sqlite3.Connection]]:
    """Write transactions on `conn` (BEGIN IMMEDIATE, committed, rolled back on an error), as a backend opens them."""

    @contextmanager
    def transaction() -> Iterator[sqlite3.Connection]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    return transaction


def test_writes_between_the_pages_are_coded_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    records = [course(f"p{n % 3}:{n}", f"{TITLES[n % len(TITLES)]}（{n}）", teachers=[f"王{n % 4}"]) for n in range(30)]
    backend = SqliteBackend(path, search_engine="fts5")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        backend.upsert(records)
        conn.execute("DELETE FROM link_key_ids WHERE id % 2 = 0")  # codes the file no longer agrees with
        conn.execute("INSERT INTO link_key_ids (key, id) VALUES (12345, 3), (67890, 4)")

        transaction = immediate(conn)

        pages: list[int] = []

        def between(coded: int) -> None:
            pages.append(coded)
            if len(pages) == 1:  # a harvest writes while the keys are coded
                backend.upsert([course("p9:new", "南京市民学习网｜书法入门", teachers=["王1"])])
                backend.upsert([records[25].model_copy(update={"title": "太极拳入门", "content_hash": ""})])
                backend.withdraw([records[27].uid, records[4].uid])

        coded = recode_link_keys(transaction, page=8, on_page=between)
        assert pages == [8, 16, 24, 29]  # a page a transaction; the fourth lost the record withdrawn meanwhile
        assert coded == 29  # 30, one new, two withdrawn
        assert stored_rows(path) == expected_rows(backend, path)
        assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'link_key_ids_next'").fetchone()
        # the keys the file holds now are the ones its writes look up and remove
        backend.withdraw(["p9:new"])
        assert stored_rows(path) == expected_rows(backend, path)
    finally:
        conn.close()
        backend.close()


def test_removals_no_longer_listed_have_every_record_coded_again_at_the_end(tmp_path: Path) -> None:
    """When the `removed` log was cut past the generation the coding started at, the last transaction cannot tell
    which rows went: it codes every record again."""
    path = tmp_path / "index.sqlite3"
    records = [course(f"p{n % 3}:{n}", f"{TITLES[n % len(TITLES)]}（{n}）", teachers=[f"王{n % 4}"]) for n in range(12)]
    backend = SqliteBackend(path, search_engine="fts5")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        backend.upsert(records)

        transaction = immediate(conn)

        def between(coded: int) -> None:
            if coded == 5:
                backend.withdraw([records[1].uid])
                conn.execute("DELETE FROM removed")  # as a pruning past the start leaves it
                conn.execute("UPDATE meta SET value = value + 1000 WHERE key = 'pruned'")

        assert recode_link_keys(transaction, page=5, on_page=between) == 11
        assert stored_rows(path) == expected_rows(backend, path)
    finally:
        conn.close()
        backend.close()
