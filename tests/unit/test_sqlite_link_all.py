"""SQLite `link_all`: every stored record clustered at once, under the admins' decisions."""

from __future__ import annotations

from pathlib import Path

from indexer.backends.sqlite import SqliteBackend
from indexer.linkage import FixedDecisions, LinkDecision
from indexer.linkage.incremental import Linker
from indexer.record import Record
from tests.unit.test_linkage_matcher import course


def _hashed(uid: str, teacher: str) -> Record:
    record = course(uid, "楷书入门", teachers=[teacher])
    record.content_hash = record.compute_hash()
    return record


def test_link_all_reclusters_every_stored_record_under_the_decisions(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    try:
        a, b, c = _hashed("a:1", "王秀兰"), _hashed("b:1", "王秀兰"), _hashed("c:1", "李建国")
        backend.upsert([a, b, c])
        assert backend.get("a:1").cluster_id == backend.get("b:1").cluster_id is not None  # type: ignore[union-attr]
        backend.linker = Linker(FixedDecisions([LinkDecision("a:1", "b:1", "split", "key:x"),
                                                LinkDecision("a:1", "c:1", "join", "key:x")]))  # fmt: skip
        assert backend.link_all() == 2
        clusters = {uid: backend.get(uid).cluster_id for uid in ("a:1", "b:1", "c:1")}  # type: ignore[union-attr]
        assert clusters["a:1"] == clusters["c:1"] is not None and clusters["b:1"] is None
        view = backend.cluster_of("c:1")
        assert view is not None and [e.text for e in view.evidence] == ["管理员合并（key:x）"]
        assert backend.cluster_of("b:1") is None
    finally:
        backend.close()
