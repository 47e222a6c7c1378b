"""Link keys stored as 64-bit codes (sqlite_link_keys): stable codes, exact removal, the text layout of older
files converted once with the same candidates, and a code two keys share changing no cluster."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_link_keys import (
    A_END,
    P_START,
    PLAIN_START,
    base_of,
    codes_of,
    delete_link_keys,
    insert_link_keys,
    link_key_code,
    link_key_codes,
)
from indexer.backends.sqlite_links import SqliteLinkStore
from indexer.linkage import cluster, profile_of
from indexer.linkage.incremental import Linker, lookup_keys, stored_link_keys
from indexer.record import Record
from tests.unit.test_sqlite_link_groups import Unlinked, clusters_of, corpus

OLD_DDL = """
CREATE TABLE link_keys (key TEXT NOT NULL, id INTEGER NOT NULL);
CREATE INDEX link_keys_key_id ON link_keys (key, id);
CREATE INDEX link_keys_id_key ON link_keys (id, key);
"""
"""The text layout of files written before the codes."""


def test_a_code_is_the_same_in_every_process_and_keeps_the_kind_and_the_blocking_key() -> None:
    key = "t0123456789abcdef"
    assert link_key_code("n" + key) == -1520736373763329282  # pinned: a stored file outlives this process
    script = f"from indexer.backends.sqlite_link_keys import link_key_code; print(link_key_code('n{key}'))"
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        assert int(out.stdout) == link_key_code("n" + key)
    a, n, p, plain = (link_key_code(k) for k in ("a" + key, "n" + key, "p" + key, key))
    assert -(2**63) <= a < A_END <= n < P_START <= p < PLAIN_START <= plain < 2**63
    assert base_of(a) == base_of(n) == base_of(plain) != base_of(link_key_code("nt0123456789abcdee"))


def _records() -> list[Record]:
    return corpus()


def _stored_keys(backend: SqliteBackend) -> dict[int, list[str]]:
    keys: dict[int, list[str]] = {}
    for row_id, uid in backend._read("SELECT id, uid FROM docs"):  # noqa: SLF001
        record = backend.get(uid)
        assert record is not None
        keys[int(row_id)] = stored_link_keys(profile_of(record))
    return keys


def _code_rows(path: Path) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(key, id) rows of link_key_ids, and the same pairs as the link_key_sets say."""
    conn = sqlite3.connect(path)
    try:
        rows = {(int(k), int(i)) for k, i in conn.execute("SELECT key, id FROM link_key_ids")}
        ids = [int(i) for (i,) in conn.execute("SELECT id FROM link_key_sets")]
        sets = {(code, i) for i in ids for code in codes_of(conn, i)}
        return rows, sets
    finally:
        conn.close()


def test_removing_or_replacing_a_record_deletes_exactly_the_codes_it_stored(tmp_path: Path) -> None:
    records = _records()[:400]
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path)
    try:
        backend.upsert(records)
        retitled = [r.model_copy(update={"title": f"{r.title}（第二版）"}) for r in records[:50]]
        backend.upsert([r.model_copy(update={"content_hash": r.compute_hash()}) for r in retitled])
        backend.withdraw([r.uid for r in records[50:120]])
        expected = {(code, row_id) for row_id, keys in _stored_keys(backend).items() for code in link_key_codes(keys)}
    finally:
        backend.close()
    rows, sets = _code_rows(path)
    assert rows == sets == expected and len({i for _, i in rows}) == 400 - 70


def _old_candidates(conn: sqlite3.Connection, records: list[Record]) -> dict[str, list[str]]:
    """Each record's candidate uids as the text layout answers a look-up (its query before the codes)."""
    found: dict[str, list[str]] = {}
    for record in records:
        keys = lookup_keys(profile_of(record))
        marks = ", ".join("?" * len(keys))
        sql = f"SELECT d.uid FROM docs d WHERE d.id IN (SELECT id FROM link_keys WHERE key IN ({marks})) ORDER BY d.id"
        found[record.uid] = [uid for (uid,) in conn.execute(sql, keys)]
    return found


def _new_candidates(path: Path, records: list[Record]) -> dict[str, list[str]]:
    conn = sqlite3.connect(path)
    try:
        store = SqliteLinkStore(conn)
        return {
            r.uid: [c.uid for c in store.link_candidates(lookup_keys(profile_of(r)), skip=(), limit=100_000)]
            for r in records
        }
    finally:
        conn.close()


def test_an_index_in_the_text_layout_is_converted_once_on_open_and_finds_the_same_candidates(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    records = _records()
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path, linker=Unlinked())
    try:
        backend.upsert(records)
        text_keys = _stored_keys(backend)
    finally:
        backend.close()
    plain = sorted(text_keys)[:40:3]  # a few records as an index written before teacher keys stored them
    with sqlite3.connect(path) as conn:  # the file as the text layout wrote it
        conn.execute("DROP TABLE link_key_ids")
        conn.execute("DROP TABLE link_key_sets")
        conn.executescript(OLD_DDL)
        uids = dict(conn.execute("SELECT id, uid FROM docs").fetchall())
        by_uid = {r.uid: r for r in records}
        for row_id in plain:
            text_keys[row_id] = profile_of(by_uid[uids[row_id]]).blocking_keys()
        rows = [(key, row_id) for row_id, keys in text_keys.items() for key in keys]
        conn.executemany("INSERT INTO link_keys (key, id) VALUES (?, ?)", rows)
    conn = sqlite3.connect(path)
    before = _old_candidates(conn, records)
    conn.close()
    assert sum(len(c) for c in before.values()) > 2 * len(records)  # the look-ups find others, not only themselves

    with caplog.at_level(logging.INFO, logger="indexer.backends.sqlite_link_keys"):
        SqliteBackend(path).close()
    assert f"{len(rows)} text keys of {len(text_keys)} records" in caplog.text
    with sqlite3.connect(path) as conn:
        names = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    assert "link_key_ids" in names and not {n for n in names if n.startswith("link_keys")}
    code_rows, sets = _code_rows(path)
    assert code_rows == sets == {(code, i) for i, keys in text_keys.items() for code in link_key_codes(keys)}
    assert _new_candidates(path, records) == before

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="indexer.backends.sqlite_link_keys"):
        backend = SqliteBackend(path)  # converted once: a second open finds nothing to do
    try:
        assert "converted" not in caplog.text
        backend.link_all()
    finally:
        backend.close()
    whole = cluster([profile_of(r) for r in records])
    assert clusters_of(path)[0] == {uid: link.cluster_id if link else None for uid, link in whole.items()}


def test_a_code_two_keys_share_adds_candidates_but_changes_no_cluster(tmp_path: Path) -> None:
    records = _records()
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path, linker=Unlinked())
    try:
        backend.upsert(records)
        with sqlite3.connect(path) as conn:
            ids = [int(i) for (i,) in conn.execute("SELECT id FROM docs ORDER BY id")]
            # as if every key of one record collided with a key of each of 200 unrelated records
            donor = codes_of(conn, ids[0])
            for row_id in ids[500:700]:
                own = codes_of(conn, row_id)
                delete_link_keys(conn, [row_id])
                insert_link_keys(conn, [(row_id, (*own, *donor))])
            store = SqliteLinkStore(conn)
            found = store.link_candidates(lookup_keys(profile_of(records[0])), skip=(), limit=100_000)
            assert {r.uid for r in records[500:700]} <= {r.uid for r in found}  # the shared codes answer
        backend.linker = Linker()
        backend.link_all()
        backend.relink([records[0].uid, records[600].uid])
    finally:
        backend.close()
    whole = cluster([profile_of(r) for r in records])
    assert clusters_of(path)[0] == {uid: link.cluster_id if link else None for uid, link in whole.items()}
