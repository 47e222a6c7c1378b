"""Contract: a rebuild (`edufed reindex`) keeps the OAI-PMH change log: deleted entries, and stamps of what changed."""

from __future__ import annotations

from pathlib import Path

from contract_corpus import make_record

from config.loader import load_themes
from indexer.backends.base import IndexBackend
from indexer.backends.changes import Change, ChangeQuery, now_stamp
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_file import SqliteIndexFile
from indexer.pipeline import RecordBuilder
from indexer.record import Record
from indexer.reindex import reindex


def _course(n: int, **fields: object) -> Record:
    return make_record(f"c{n:02d}", f"太极拳第{n}讲", platform="lndx", themes=["养生保健"], **fields)


def _entries(backend: IndexBackend) -> dict[str, Change]:
    return {e.uid: e for e in backend.changes(ChangeQuery(until=now_stamp(), limit=1000, records=False))}


def test_a_rebuild_keeps_deleted_entries_and_stamps_only_what_it_changed_or_dropped(backend: IndexBackend) -> None:
    backend.upsert([_course(n) for n in range(6)])
    backend.withdraw(["lndx:c00"])
    before = _entries(backend)
    assert before["lndx:c00"].deleted
    rebuilt = [_course(1), _course(2), _course(3), _course(5, region={"province": "广东"})]  # c04 left out
    backend.rebuild(rebuilt)
    after = _entries(backend)
    assert set(after) == set(before)
    assert after["lndx:c00"].deleted and after["lndx:c00"].stamp == before["lndx:c00"].stamp
    assert after["lndx:c04"].deleted and after["lndx:c04"].stamp > before["lndx:c04"].stamp
    assert not after["lndx:c05"].deleted and after["lndx:c05"].stamp > before["lndx:c05"].stamp
    assert after["lndx:c05"].sets["region"] == ("广东",)
    assert [after[f"lndx:c0{n}"].stamp for n in (1, 2, 3)] == [before[f"lndx:c0{n}"].stamp for n in (1, 2, 3)]
    assert backend.get("lndx:c04") is None and backend.count() == 4


def test_a_reindex_from_another_index_file_carries_its_deleted_entries_over(
    backend: IndexBackend, tmp_path: Path
) -> None:
    origin_path = tmp_path / "origin" / "index.sqlite3"
    origin_path.parent.mkdir()
    origin = SqliteBackend(origin_path)
    try:
        origin.upsert([_course(n, region={"province": "广东"} if n % 2 else {}) for n in range(8)])
        origin.withdraw(["lndx:c01", "lndx:c02"])
        deleted = {e.uid: e for e in _entries(origin).values() if e.deleted}
    finally:
        origin.close()
    backend.upsert([_course(2, description="又回来了")])  # the target already knows c02, live: its entry stays
    source = SqliteIndexFile(origin_path)
    summary = reindex(backend, builder=RecordBuilder(load_themes()), sources=[], records=source.stored(),
                      deleted=source.deleted_changes())  # fmt: skip
    entries = _entries(backend)
    assert summary.carried_deletions == 1 and "1 deleted OAI-PMH entries carried over" in summary.text()
    assert entries["lndx:c01"].deleted and entries["lndx:c01"].stamp == deleted["lndx:c01"].stamp
    assert entries["lndx:c01"].sets == {"platform": ("lndx",), "region": ("广东",), "theme": ("养生保健",)}
    assert [e.uid for e in backend.changes(ChangeQuery(until=now_stamp(), set_kind="region"))
            if e.deleted] == ["lndx:c01"]  # fmt: skip
    assert entries["lndx:c02"].deleted  # left out of the rebuild (the origin withdrew it): deleted now
    assert entries["lndx:c02"].stamp > deleted["lndx:c02"].stamp
    assert sorted(u for u, e in entries.items() if not e.deleted) == [f"lndx:c0{n}" for n in (0, 3, 4, 5, 6, 7)]
