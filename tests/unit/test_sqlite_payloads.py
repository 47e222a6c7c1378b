"""Stored record JSON is zstd-compressed with a dictionary the file keeps; files written before keep working."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from itertools import islice
from pathlib import Path

import pytest
import zstandard

sys.path.insert(0, str(Path(__file__).parents[1] / "contract"))
from contract_corpus import make_record  # noqa: E402

from bench.corpus import generate  # noqa: E402
from indexer.backends.base import SearchQuery  # noqa: E402
from indexer.backends.changes import ChangeQuery, now_stamp  # noqa: E402
from indexer.backends.sqlite import SqliteBackend  # noqa: E402
from indexer.backends.sqlite_file import SqliteIndexFile  # noqa: E402
from indexer.backends.sqlite_payload import CURRENT_KEY, DICT_KEY, TRAIN_AFTER, payload_json, payload_text  # noqa: E402
from indexer.errors import IndexBackendError  # noqa: E402
from indexer.linkage.incremental import Linker  # noqa: E402


class Unlinked(Linker):
    """Writes without linking (the records here are about storage, not clusters)."""

    def relink(self, store: object, *, arrived: object, old_clusters: object) -> int:  # type: ignore[override]
        return 0


def stored(path: Path) -> dict[str, object]:
    """uid -> the stored `payloads.json` value as SQLite holds it."""
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT d.uid, p.json FROM docs d JOIN payloads p ON p.id = d.id"))


def test_a_file_written_before_compression_reads_as_before_and_new_writes_compress(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    records = [
        make_record("a1", "书法入门", description="楷书的基本笔画", themes=["书法"]),
        make_record("a2", "太极拳二十四式", description="老年人健身"),
    ]
    backend = SqliteBackend(path, linker=Unlinked())
    backend.upsert(records)
    backend.close()
    with sqlite3.connect(path) as conn:  # the file as the release before compression left it: JSON text
        texts = [(payload_text(v, conn), i) for i, v in conn.execute("SELECT id, json FROM payloads").fetchall()]
        conn.executemany("UPDATE payloads SET json = ? WHERE id = ?", texts)
        conn.execute("DELETE FROM meta WHERE key LIKE 'payload_dict%'")
    assert all(isinstance(v, str) for v in stored(path).values())

    a1, a2 = (r.uid for r in records)
    reopened = SqliteBackend(path, linker=Unlinked())
    try:
        assert reopened.get(a1) == records[0]
        assert [h.record.uid for h in reopened.search(SearchQuery(q="书法")).hits] == [a1]
        assert {r.uid for r in reopened.iter_records()} == {a1, a2}
        changes = reopened.changes(ChangeQuery(until=now_stamp()))
        assert {c.uid: c.record for c in changes} == {a1: records[0], a2: records[1]}
        assert {c.uid: c.sets.get("theme") for c in changes}[a1] == ("书法",)
        added = make_record("a3", "手机摄影入门", description="用手机拍照")
        assert reopened.upsert([added]).written == 1
        values = stored(path)
        assert isinstance(values[a1], str) and isinstance(values[added.uid], bytes)  # no forced migration
        assert reopened.get(added.uid) == added and reopened.get(a1) == records[0]
        assert reopened.changes(ChangeQuery(until=now_stamp(), uid=added.uid))[0].sets["platform"] == (added.platform,)
    finally:
        reopened.close()
    with SqliteIndexFile(path) as index_file:  # what `edufed reindex --from-sqlite` reads
        assert {r.uid for r in index_file.records()} == {a1, a2, added.uid}
        assert {s.uid: json.loads(s.json)["title"] for s in index_file.stored()}[added.uid] == "手机摄影入门"


def test_a_dictionary_is_trained_once_stored_in_the_file_and_read_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    records = list(islice(generate(TRAIN_AFTER + 200), TRAIN_AFTER + 200))
    backend = SqliteBackend(path, linker=Unlinked())
    try:
        backend.upsert(records[:100])  # too few to train on: compressed without a dictionary
        backend.upsert(records[100:])
        with sqlite3.connect(path) as conn:
            dict_id = int(conn.execute("SELECT value FROM meta WHERE key = ?", (CURRENT_KEY,)).fetchone()[0])
            assert dict_id != 0
            assert conn.execute("SELECT 1 FROM meta WHERE key = ?", (DICT_KEY.format(dict_id),)).fetchone()
            values = conn.execute("SELECT json FROM payloads ORDER BY id").fetchall()
            used = [zstandard.get_frame_parameters(v).dict_id for (v,) in values]
            with_dict = [v for (v,) in values if zstandard.get_frame_parameters(v).dict_id]
            texts = [payload_text(v, conn) for v in with_dict]
        before = used.count(0)  # written before the file held TRAIN_AFTER records, then all with the dictionary
        assert 100 <= before < TRAIN_AFTER and used == [0] * before + [dict_id] * (len(records) - before)
        assert sum(map(len, with_dict)) * 3 < sum(len(t.encode()) for t in texts)
        backend.upsert([records[5].model_copy(update={"title": "改过的标题", "content_hash": ""})])
        assert backend.get(records[5].uid).title == "改过的标题"  # type: ignore[union-attr]
    finally:
        backend.close()
    with sqlite3.connect(path) as conn:  # the dictionary is never replaced once written
        assert int(conn.execute("SELECT value FROM meta WHERE key = ?", (CURRENT_KEY,)).fetchone()[0]) == dict_id
        assert conn.execute("SELECT COUNT(*) FROM meta WHERE key LIKE 'payload_dict:%'").fetchone()[0] == 1
    reader = (
        "import sys; from indexer.backends.sqlite import SqliteBackend; b = SqliteBackend(sys.argv[1]); "
        "print(b.get(sys.argv[2]).title); print(sum(1 for _ in b.iter_records())); b.close()"
    )
    found = subprocess.run(
        [sys.executable, "-c", reader, str(path), records[-1].uid], capture_output=True, text=True, check=True
    )
    assert found.stdout.split("\n")[:2] == [records[-1].title, str(len(records))]


def test_a_damaged_compressed_record_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path, linker=Unlinked())
    try:
        backend.upsert([make_record("a1", "书法入门", description="楷书的基本笔画" * 20)])
        with sqlite3.connect(path) as conn:
            value = bytearray(conn.execute("SELECT json FROM payloads").fetchone()[0])
            value[len(value) // 2] ^= 0xFF
            conn.execute("UPDATE payloads SET json = ?", (bytes(value),))
        with pytest.raises(IndexBackendError, match="damaged"):
            backend.get("le_ouchn:a1")
    finally:
        backend.close()


def test_hits_read_json_text_and_compressed_bytes_alike(tmp_path: Path) -> None:
    """A search parses each hit's stored value as it comes (a TEXT value as is, a frame's decompressed bytes
    without decoding them first): the hits are the records written, and payload_json is payload_text's JSON."""
    path = tmp_path / "index.sqlite3"
    records = [
        make_record(f"h{n}", f"书法入门 第{n}讲", description="楷书“基本笔画”\u2028与行书 ＡＩ") for n in range(4)
    ]
    backend = SqliteBackend(path, linker=Unlinked())
    try:
        backend.upsert(records)
        with sqlite3.connect(path) as conn:  # two of them as a file from before compression holds them: JSON text
            rows = conn.execute("SELECT id, json FROM payloads ORDER BY id LIMIT 2").fetchall()
            conn.executemany("UPDATE payloads SET json = ? WHERE id = ?", [(payload_text(v, conn), i) for i, v in rows])
            values = [v for (v,) in conn.execute("SELECT json FROM payloads")]
            assert {type(v) for v in values} == {str, bytes}
            for value in values:
                found = payload_json(value, conn)
                assert (found if isinstance(found, str) else found.decode("utf-8")) == payload_text(value, conn)
        hits = backend.search(SearchQuery(q="书法", size=10)).hits
        assert sorted((h.record for h in hits), key=lambda r: r.uid) == sorted(records, key=lambda r: r.uid)
    finally:
        backend.close()
