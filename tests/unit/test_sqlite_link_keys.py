"""Link keys stored as 64-bit codes a (blocking key, teacher) (sqlite_link_keys): stable codes, one range a blocking
key, exact removal without a stored list of codes, older layouts coded again once on open with the same clusters,
and a code two keys share changing no cluster."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_link_keys import (
    LINK_KEYS,
    delete_link_keys,
    insert_link_keys,
    is_untaught,
    key_code,
    key_part,
    key_range,
    lookup_ranges,
    record_codes,
)
from indexer.backends.sqlite_links import SqliteLinkStore
from indexer.backends.sqlite_payload import payload_text
from indexer.backends.sqlite_schema import SCHEMA_VERSION
from indexer.errors import IndexBackendError
from indexer.linkage import cluster, profile_of
from indexer.linkage.incremental import Linker, lookup_keys, stored_link_keys
from indexer.record import Record
from tests.unit.test_linkage_matcher import course
from tests.unit.test_sqlite_link_groups import Unlinked, clusters_of, corpus

TEXT_DDL = """
CREATE TABLE link_keys (key TEXT NOT NULL, id INTEGER NOT NULL);
CREATE INDEX link_keys_key_id ON link_keys (key, id);
CREATE INDEX link_keys_id_key ON link_keys (id, key);
"""
"""The text layout of files written before any codes."""
SETS_DDL = "CREATE TABLE link_key_sets (id INTEGER PRIMARY KEY, keys BLOB NOT NULL)"
"""Layout 2 kept each row id's codes in this table as well."""


def _layout2_code(key: str) -> int:
    """A stored text key's code as layout 2 wrote it (the kind letter in the top two bits)."""
    kind = {"a": 0, "n": 1, "p": 2}.get(key[:1], 3)
    base = key if kind == 3 else key[1:]
    digest = int.from_bytes(hashlib.blake2b(base.encode(), digest_size=8).digest(), "big")
    return ((kind << 62) | (digest >> 2)) - (1 << 63)


def test_a_code_is_the_same_in_every_process_and_one_blocking_keys_codes_are_one_range() -> None:
    key = "t0123456789abcdef"
    assert key_code(key) == 3140426541746356224  # pinned: a stored file outlives this process
    assert key_code(key, "王秀兰") == 3140426541843981131
    script = f"from indexer.backends.sqlite_link_keys import key_code; print(key_code('{key}', '王秀兰'))"
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
        assert int(out.stdout) == key_code(key, "王秀兰")
    first, last = key_range(key)
    taught = [key_code(key, name) for name in ("王秀兰", "李建国", "张伟")]
    assert first == key_code(key) and is_untaught(first) and not any(is_untaught(c) for c in taught)
    assert all(first < code <= last for code in taught) and len(set(taught)) == 3
    assert {key_part(c) for c in (first, last, *taught)} == {key_part(first)} != {key_part(key_code(key + "0"))}


def test_the_codes_of_a_record_are_pinned_so_a_change_of_coding_raises_the_version() -> None:
    """Removal codes the stored record again: if this fails, the coding or the profile's keys or teachers changed,
    and LINK_KEYS must be raised (every file's codes are then built again when opened) and these values renewed."""
    records = [
        course("a:1", "书法入门：楷书基础", teachers=["王秀兰"]),
        course("b:1", "太极拳二十四式"),
        course("c:1", "老年人智能手机应用", description="主讲：李建国 单位：长春老年大学 课程目录：拍照、支付、导航"),
    ]
    digests = [hashlib.blake2b(repr(record_codes(profile_of(r))).encode(), digest_size=8).hexdigest() for r in records]
    assert LINK_KEYS == "2"
    assert profile_of(records[2]).instructors == {"李建国"}  # a teacher read from the description
    assert digests == ["f0b019551657f563", "3182896e8e2e6991", "4d83ccb074f9e55c"]


def _records() -> list[Record]:
    return corpus()


def _rows(path: Path) -> set[tuple[int, int]]:
    with sqlite3.connect(path) as conn:
        return {(int(k), int(i)) for k, i in conn.execute("SELECT key, id FROM link_key_ids")}


def _expected_rows(path: Path) -> set[tuple[int, int]]:
    """Every stored record's codes, coded here from the records."""
    backend = SqliteBackend(path)
    try:
        found = set()
        for row_id, uid in backend._read("SELECT id, uid FROM docs"):  # noqa: SLF001
            record = backend.get(uid)
            assert record is not None
            found.update((code, int(row_id)) for code in record_codes(profile_of(record)))
        return found
    finally:
        backend.close()


def test_removing_or_replacing_a_record_deletes_exactly_the_codes_it_stored(tmp_path: Path) -> None:
    records = _records()[:400]
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path)
    try:
        backend.upsert(records)
        retitled = [r.model_copy(update={"title": f"{r.title}（第二版）", "instructors": []}) for r in records[:50]]
        backend.upsert([r.model_copy(update={"content_hash": r.compute_hash()}) for r in retitled])
        backend.withdraw([r.uid for r in records[50:120]])
        for record in records[120:125]:  # one at a time: each record coded again (the others by a scan)
            backend.upsert([record.model_copy(update={"title": f"{record.title}（下）", "content_hash": "changed"})])
        backend.withdraw([records[130].uid])
    finally:
        backend.close()
    rows = _rows(path)
    assert rows == _expected_rows(path) and len({i for _, i in rows}) == 400 - 71
    assert any(is_untaught(code) for code, _ in rows)  # the retitled records name no teacher now


@pytest.mark.parametrize("scan", [False, True], ids=["coded-again", "scan"])
def test_both_ways_of_removing_remove_exactly_the_rows_of_those_records(tmp_path: Path, scan: bool) -> None:
    records = _records()[:300]
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path, linker=Unlinked())
    try:
        backend.upsert(records)
    finally:
        backend.close()
    before = _rows(path)
    with sqlite3.connect(path) as conn:
        gone = [int(i) for (i,) in conn.execute("SELECT id FROM docs WHERE id % 3 = 0")]
        delete_link_keys(conn, gone, scan=scan)
    assert _rows(path) == {(code, i) for code, i in before if i not in set(gone)} != before


def test_a_stored_record_that_cannot_be_read_still_has_its_codes_removed(tmp_path: Path) -> None:
    records = _records()[:60]
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path)
    try:
        backend.upsert(records)
        with sqlite3.connect(path) as conn:
            (row_id,) = conn.execute("SELECT id FROM docs WHERE uid = ?", (records[7].uid,)).fetchone()
            conn.execute("UPDATE payloads SET json = '{\"uid\": 1}' WHERE id = ?", (row_id,))
        assert any(i == row_id for _, i in _rows(path))
        with sqlite3.connect(path) as conn:
            delete_link_keys(conn, [row_id], scan=False)  # not coded again: found by a scan
    finally:
        backend.close()
    rows = _rows(path)
    assert not any(i == row_id for _, i in rows) and len({i for _, i in rows}) == 59


def _look_ups(path: Path, records: list[Record]) -> dict[str, list[str]]:
    conn = sqlite3.connect(path)
    try:
        store = SqliteLinkStore(conn)
        return {r.uid: [c.uid for c in store.link_candidates([profile_of(r)], skip=(), limit=100_000)] for r in records}
    finally:
        conn.close()


def _text_candidates(path: Path, records: list[Record]) -> dict[str, list[str]]:
    """Each record's candidates as the text keys answer (what Elasticsearch stores and asks for)."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(TEXT_DDL.replace("link_keys", "text_keys"))
        uids = dict(conn.execute("SELECT uid, id FROM docs").fetchall())
        conn.executemany(
            "INSERT INTO text_keys (key, id) VALUES (?, ?)",
            [(key, uids[r.uid]) for r in records for key in stored_link_keys(profile_of(r))],
        )
        found: dict[str, list[str]] = {}
        for record in records:
            keys = lookup_keys(profile_of(record))
            marks = ", ".join("?" * len(keys))
            sql = f"SELECT uid FROM docs WHERE id IN (SELECT id FROM text_keys WHERE key IN ({marks})) ORDER BY id"
            found[record.uid] = [uid for (uid,) in conn.execute(sql, keys)]
        return found
    finally:
        conn.close()


def test_a_look_up_finds_what_the_text_keys_find(tmp_path: Path) -> None:
    records = _records()
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path, linker=Unlinked())
    try:
        backend.upsert(records)
    finally:
        backend.close()
    coded = _look_ups(path, records)
    assert sum(len(c) for c in coded.values()) > 2 * len(records)  # the look-ups find others, not only themselves
    assert any(not profile_of(r).instructors and len(coded[r.uid]) > 1 for r in records)
    assert coded == _text_candidates(path, records)


def _to_older_layout(path: Path, *, text: bool) -> None:
    """The file as layout 2 (codes by kind, and link_key_sets) or the text layout (with plain keys for some
    records, as an index written before teacher keys stored them) wrote it."""
    by_id = _stored_records(path)
    keys = {
        row_id: profile_of(r).blocking_keys() if text and row_id % 7 == 0 else stored_link_keys(profile_of(r))
        for row_id, r in by_id.items()
    }
    conn = sqlite3.connect(path)
    try:
        conn.execute("DROP TABLE link_key_ids")
        conn.execute("DELETE FROM meta WHERE key = 'link_keys'")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
        if text:
            conn.executescript(TEXT_DDL)
            conn.executemany(
                "INSERT INTO link_keys (key, id) VALUES (?, ?)", [(k, i) for i, ks in keys.items() for k in ks]
            )
        else:
            conn.execute(
                "CREATE TABLE link_key_ids (key INTEGER NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (key, id)) "
                "WITHOUT ROWID"
            )
            conn.execute(SETS_DDL)
            codes = {i: sorted({_layout2_code(k) for k in ks}) for i, ks in keys.items()}
            rows = [(c, i) for i, cs in codes.items() for c in cs]
            conn.executemany("INSERT INTO link_key_ids (key, id) VALUES (?, ?)", rows)
            sets = [(i, struct.pack(f">{len(cs)}q", *cs)) for i, cs in codes.items()]
            conn.executemany("INSERT INTO link_key_sets (id, keys) VALUES (?, ?)", sets)
        conn.commit()
    finally:
        conn.close()


def _stored_records(path: Path) -> dict[int, Record]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT id, json FROM payloads").fetchall()
        return {int(i): Record.model_validate_json(payload_text(p, conn)) for i, p in rows}


@pytest.mark.parametrize("text", [False, True], ids=["layout-2-codes", "text-layout"])
def test_an_older_layout_is_coded_again_once_on_open_with_the_clusters_of_a_fresh_build(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: bool
) -> None:
    records = _records()
    fresh, old = tmp_path / "fresh.sqlite3", tmp_path / "old.sqlite3"
    for path in (fresh, old):
        backend = SqliteBackend(path)
        try:
            backend.upsert(records[:700])
            backend.upsert(records[700:])
        finally:
            backend.close()
    expected = clusters_of(fresh)
    assert expected == clusters_of(old) and sum(1 for c in expected[0].values() if c) > 50
    _to_older_layout(old, text=text)

    with caplog.at_level(logging.INFO, logger="indexer.backends.sqlite_link_keys"):
        backend = SqliteBackend(old)
    try:
        assert f"of {len(records)} records in link_key_ids" in caplog.text
        assert ("link_keys dropped" if text else "link_key_sets dropped") in caplog.text
        backend.link_all()
        assert _rows(old) == _rows(fresh)
        assert clusters_of(old) == expected
        # a write after the conversion links as in the fresh file
        changed = [r.model_copy(update={"description": f"{r.description} 新版"}) for r in records[:30]]
        changed = [r.model_copy(update={"content_hash": r.compute_hash()}) for r in changed]
        backend.upsert(changed)
        backend.withdraw([r.uid for r in records[30:60]])
    finally:
        backend.close()
    with sqlite3.connect(old) as conn:
        names = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
        meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('schema', 'link_keys')").fetchall())
    assert "link_key_ids" in names and not {n for n in names if n.startswith(("link_keys", "link_key_sets"))}
    assert meta == {"schema": SCHEMA_VERSION, "link_keys": LINK_KEYS} and SCHEMA_VERSION == "6"  # layout 2 refuses
    assert _rows(old) == _expected_rows(old)

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="indexer.backends.sqlite_link_keys"):
        SqliteBackend(old).close()  # converted once: a second open finds nothing to do
    assert "coded again" not in caplog.text


def test_a_file_of_a_later_layout_is_refused_with_the_way_out(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    SqliteBackend(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(int(SCHEMA_VERSION) + 1),))
    with pytest.raises(IndexBackendError, match="reindex --from-sqlite"):
        SqliteBackend(path)


def test_a_code_two_keys_share_adds_candidates_but_changes_no_cluster(tmp_path: Path) -> None:
    records = _records()
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path, linker=Unlinked())
    try:
        backend.upsert(records)
        with sqlite3.connect(path) as conn:
            ids = [int(i) for (i,) in conn.execute("SELECT id FROM docs ORDER BY id")]
            # as if every key of one record collided with a key of each of 200 unrelated records
            donor = [code for first, last in lookup_ranges([profile_of(records[0])]) for code in (first, last)]
            insert_link_keys(conn, [(row_id, donor) for row_id in ids[500:700]])
            store = SqliteLinkStore(conn)
            found = store.link_candidates([profile_of(records[0])], skip=(), limit=100_000)
            assert {r.uid for r in records[500:700]} <= {r.uid for r in found}  # the shared codes answer
        backend.linker = Linker()
        backend.link_all()
        backend.relink([records[0].uid, records[600].uid])
        backend.upsert([records[600].model_copy(update={"title": "新的标题", "content_hash": "x"})])
    finally:
        backend.close()
    whole = cluster([profile_of(r) for r in [*records[:600], *records[601:]]])
    found = clusters_of(path)[0]
    del found[records[600].uid]
    assert found == {uid: link.cluster_id if link else None for uid, link in whole.items()}
