"""The compact OAI-PMH change log: a file of the first, uid-keyed layout is converted once on open and answers
the same, and entries of one stamp list and resume in uid order however they joined it."""

from __future__ import annotations

import logging
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "contract"))
from contract_corpus import make_record  # noqa: E402

from indexer.backends.changes import Change, ChangeQuery, now_stamp  # noqa: E402
from indexer.backends.sqlite import SqliteBackend  # noqa: E402
from indexer.backends.sqlite_file import SqliteIndexFile  # noqa: E402
from indexer.backends.sqlite_oai_layout import full_hash_bytes  # noqa: E402
from indexer.record import Record  # noqa: E402

FIRST_LAYOUT = """
CREATE TABLE oai_items (
    uid TEXT PRIMARY KEY, doc_id INTEGER, stamp INTEGER NOT NULL, deleted INTEGER NOT NULL,
    content_hash TEXT NOT NULL);
CREATE INDEX oai_items_stamp ON oai_items (stamp, uid);
CREATE INDEX oai_items_doc ON oai_items (doc_id);
CREATE TABLE oai_sets (
    kind TEXT NOT NULL, value TEXT NOT NULL, stamp INTEGER NOT NULL, uid TEXT NOT NULL,
    PRIMARY KEY (kind, value, uid));
CREATE INDEX oai_sets_order ON oai_sets (kind, value, stamp, uid);
CREATE INDEX oai_sets_uid ON oai_sets (uid);
"""
"""The change log's tables as the first release wrote them."""
T0 = 1_700_000_000_000_000
THEMES = ("闲暇生活", "科学文化", "法律法规")


def _course(n: int) -> Record:
    return make_record(f"c{n:02d}", f"课程{n}", platform="lndx" if n % 3 else "le_ouchn",
                       themes=[THEMES[n % 3], *([THEMES[(n + 1) % 3]] if n % 4 == 0 else [])],
                       programmes=["智慧助老"] if n % 5 == 0 else [],
                       region={"province": "浙江"} if n % 2 else {})  # fmt: skip


def _sets(record: Record) -> dict[str, tuple[str, ...]]:
    found = {"platform": (record.platform,), "theme": tuple(sorted(record.themes)),
             "programme": tuple(sorted(record.programmes)),
             "region": (record.region["province"],) if record.region.get("province") else ()}  # fmt: skip
    return {kind: values for kind, values in sorted(found.items()) if values}


def _first_layout_file(path: Path) -> list[Change]:
    """An index of 12 live records whose change log is in the first layout, with three deleted entries; its
    entries (as the first layout answers them) in (stamp, uid) order."""
    records = [_course(n) for n in range(12)]
    backend = SqliteBackend(path)
    backend.upsert(records)
    backend.close()
    # Stamps shared by several records, in an order unlike the uids' and the rowids'.
    stamps = {r.uid: T0 + (n * 7 % 4) * 1_000_000 for n, r in enumerate(records)}
    deleted = [Change(uid=f"lndx:gone{n}", stamp=T0 + n * 1_000_000, deleted=True,
                      sets={"platform": ("lndx",), "theme": (THEMES[n],)}) for n in range(3)]  # fmt: skip
    with sqlite3.connect(path) as conn:
        conn.executescript("DROP TABLE oai_items; DROP TABLE oai_sets; DROP TABLE oai_set_values;" + FIRST_LAYOUT)
        ids = dict(conn.execute("SELECT uid, id FROM docs"))
        hashes = dict(conn.execute("SELECT uid, content_hash FROM docs"))
        conn.executemany("INSERT INTO oai_items VALUES (?, ?, ?, 0, ?)",
                         [(r.uid, ids[r.uid], stamps[r.uid], hashes[r.uid]) for r in records])  # fmt: skip
        conn.executemany("INSERT INTO oai_items VALUES (?, ?, ?, 1, '')",
                         [(e.uid, 900 + n, e.stamp) for n, e in enumerate(deleted)])  # fmt: skip
        sets = [(r.uid, stamps[r.uid], _sets(r)) for r in records] + [(e.uid, e.stamp, e.sets) for e in deleted]
        rows = [(k, v, stamp, uid) for uid, stamp, kinds in sets for k, vs in kinds.items() for v in vs]
        conn.executemany("INSERT INTO oai_sets VALUES (?, ?, ?, ?)", rows)
    live = [Change(uid=r.uid, stamp=stamps[r.uid], deleted=False, sets=_sets(r)) for r in records]
    return sorted(live + deleted, key=lambda e: (e.stamp, e.uid))


def _listed(backend: SqliteBackend, *, limit: int, **query: object) -> list[Change]:
    """Every entry of a list, page by page, each page resuming after the (stamp, uid) of the last one."""
    found: list[Change] = []
    query.setdefault("until", now_stamp())
    while True:
        after = (found[-1].stamp, found[-1].uid) if found else None
        page = backend.changes(ChangeQuery(after=after, limit=limit, records=False, **query))  # type: ignore[arg-type]
        found += page
        if len(page) < limit:
            return found


def _bare(entries: list[Change]) -> list[tuple[str, int, bool, dict[str, tuple[str, ...]]]]:
    return [(e.uid, e.stamp, e.deleted, e.sets) for e in entries]


def test_a_first_layout_log_is_converted_on_open_and_answers_the_same(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "index.sqlite3"
    expected = _first_layout_file(path)
    with SqliteIndexFile(path) as old:  # read-only, as `reindex --from-sqlite` reads it: not converted
        assert _bare(list(old.deleted_changes())) == _bare(
            sorted((e for e in expected if e.deleted), key=lambda e: e.uid)
        )
    with caplog.at_level(logging.INFO, logger="indexer.backends.sqlite_oai_layout"):
        backend = SqliteBackend(path)
    try:
        assert "converted the OAI-PMH change log to the compact layout: 15 entries" in caplog.text
        tables = {n for (n,) in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"oai_items", "oai_sets", "oai_set_values"} <= tables and not any("uid_keyed" in t for t in tables)
        assert _bare(_listed(backend, limit=1000)) == _bare(expected)
        for limit in (1, 2, 5):  # resumption tokens land inside a shared stamp
            assert _bare(_listed(backend, limit=limit)) == _bare(expected)
        theme = [e for e in expected if "科学文化" in e.sets.get("theme", ())]
        assert _bare(_listed(backend, limit=2, set_kind="theme", set_values=("科学文化",))) == _bare(theme)
        two = [e for e in expected if {"科学文化", "法律法规"} & set(e.sets.get("theme", ()))]
        assert _bare(_listed(backend, limit=3, set_kind="theme", set_values=("科学文化", "法律法规"))) == _bare(two)
        regional = [e for e in expected if "region" in e.sets]
        assert _bare(_listed(backend, limit=2, set_kind="region")) == _bare(regional)
        window = [e for e in expected if T0 + 1_000_000 <= e.stamp <= T0 + 2_000_000]
        assert _bare(_listed(backend, limit=2, since=T0 + 1_000_000, until=T0 + 2_000_000)) == _bare(window)
        assert backend.count_changes(
            ChangeQuery(until=now_stamp(), set_kind="theme", set_values=("科学文化", "法律法规"))
        ) == len(two)
        assert backend.count_changes(ChangeQuery(until=now_stamp(), set_kind="region")) == len(regional)
        sets = backend.change_sets()
        assert sets.earliest == T0 and sets.values["theme"] == sorted(THEMES) and sets.values["region"] == ["浙江"]
        gone = backend.changes(ChangeQuery(until=now_stamp(), uid="lndx:gone1"))
        assert _bare(gone) == _bare([e for e in expected if e.uid == "lndx:gone1"])
        live = backend.changes(ChangeQuery(until=now_stamp(), uid=expected[0].uid))
        assert live[0].record is not None and live[0].record.uid == expected[0].uid

        # The hashes came over: rewriting the same records stamps nothing, changing one stamps only it.
        assert backend.upsert([_course(n) for n in range(12)]).unchanged == 12
        changed = _course(4).model_copy(update={"title": "改过的标题", "content_hash": ""})
        backend.upsert([changed])
        after = {e.uid: e for e in _listed(backend, limit=1000)}
        assert [uid for uid, e in after.items() if e.stamp > T0 + 10_000_000] == [changed.uid]
        assert all(after[e.uid].stamp == e.stamp for e in expected if e.uid != changed.uid)
    finally:
        backend.close()
    backend = SqliteBackend(path)  # opened again: nothing left to convert
    try:
        assert len(_listed(backend, limit=1000)) == 15
    finally:
        backend.close()


def test_a_list_resumes_in_uid_order_after_its_last_entry_moved_to_a_new_stamp(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    try:
        backend.upsert([_course(n) for n in range(8)])  # one write: one stamp
        first = backend.changes(ChangeQuery(until=now_stamp(), limit=3, records=False))
        uids = sorted(_course(n).uid for n in range(8))
        assert [e.uid for e in first] == uids[:3]
        moved = next(r for r in (_course(n) for n in range(8)) if r.uid == first[-1].uid)
        backend.upsert([moved.model_copy(update={"title": "新版", "content_hash": ""})])
        backend.withdraw([uids[3]])
        rest = backend.changes(ChangeQuery(until=now_stamp(), after=(first[-1].stamp, first[-1].uid), records=False))
        assert [e.uid for e in rest] == [*uids[4:], *sorted([uids[2], uids[3]])]
        assert [e.deleted for e in rest][-2:] == [False, True]
    finally:
        backend.close()


def test_kept_deleted_entries_that_share_a_stamp_with_live_ones_list_in_uid_order(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    try:
        backend.upsert([_course(n) for n in (1, 3, 5)])
        stamp = backend.changes(ChangeQuery(until=now_stamp(), limit=1, records=False))[0].stamp
        kept = [Change(uid=_course(n).uid, stamp=stamp, deleted=True, sets={"theme": (THEMES[n % 3],)}) for n in (2, 4)]
        kept.append(Change(uid="lndx:older", stamp=stamp - 5, deleted=True, sets={}))
        assert backend.keep_deleted(kept) == 3
        assert backend.keep_deleted(kept) == 0  # known uids are left alone
        expected = ["lndx:older", *sorted(_course(n).uid for n in (1, 2, 3, 4, 5))]
        for limit in (1, 2, 10):
            assert [e.uid for e in _listed(backend, limit=limit)] == expected
        theme = [e.uid for e in _listed(backend, limit=1, set_kind="theme", set_values=(THEMES[2],))]
        assert theme == sorted([_course(2).uid, _course(5).uid])
    finally:
        backend.close()


def test_a_layout_4_log_keeps_digest_prefixes_after_open_and_stamps_the_same(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    records = [_course(n) for n in range(8)]
    by_hand = [_course(n).model_copy(update={"uid": f"lndx:hand{n}", "source_id": f"hand{n}",
                                             "content_hash": f"hash-version-000{n}"}) for n in (1, 2)]  # fmt: skip
    backend = SqliteBackend(path)
    backend.upsert(records + by_hand)
    backend.withdraw([records[7].uid])
    expected = _listed(backend, limit=1000)
    backend.close()
    with sqlite3.connect(path) as conn:  # the log as layout 4 kept it: whole digests
        conn.create_function("full_hash", 1, full_hash_bytes, deterministic=True)
        conn.execute("UPDATE oai_items SET content_hash = (SELECT full_hash(d.content_hash) FROM docs d "
                     "WHERE d.id = oai_items.doc_id) WHERE deleted = 0")  # fmt: skip
        conn.execute(
            "UPDATE oai_items SET content_hash = ? WHERE deleted = 1", (bytes.fromhex(records[7].content_hash),)
        )
        conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema'")
        assert {len(h) for (h,) in conn.execute("SELECT content_hash FROM oai_items")} == {32, 17}
    backend = SqliteBackend(path)
    try:
        with sqlite3.connect(path) as conn:
            hashes = dict(conn.execute("SELECT uid, content_hash FROM oai_items"))
            assert conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("6",)
        assert hashes == {**{r.uid: bytes.fromhex(r.content_hash)[:8] for r in records},
                          **{r.uid: r.content_hash.encode() for r in by_hand}}  # fmt: skip
        assert _bare(_listed(backend, limit=1000)) == _bare(expected)
        assert backend.upsert(records[:7] + by_hand).unchanged == 9
        assert _bare(_listed(backend, limit=1000)) == _bare(expected)  # nothing stamped again
        changed = records[3].model_copy(update={"title": "改过的标题", "content_hash": ""})
        hand_changed = by_hand[0].model_copy(update={"content_hash": "hash-version-0009"})  # same first 8 bytes
        backend.upsert([changed, hand_changed])
        before = {(e.uid, e.stamp) for e in expected}
        moved = [e.uid for e in _listed(backend, limit=1000) if (e.uid, e.stamp) not in before]
        assert sorted(moved) == sorted([changed.uid, hand_changed.uid])
    finally:
        backend.close()
