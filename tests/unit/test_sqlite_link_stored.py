"""Linking a stored index chunk by chunk (`link_stored_chunk`) gives the clusters of clustering it all at once."""

from __future__ import annotations

from pathlib import Path

from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_links import link_stored_chunk
from indexer.linkage import cluster, profile_of
from indexer.linkage.incremental import Linker
from indexer.record import Record
from tests.unit.test_linkage_matcher import course


class _Unlinked(Linker):
    """Writes without linking: an index written before linkage."""

    def relink(self, store: object, *, arrived: object, old_clusters: object) -> int:  # type: ignore[override]
        return 0


def _hashed(uid: str, title: str, teacher: str) -> Record:
    record = course(uid, title, teachers=[teacher])
    return record.model_copy(update={"content_hash": record.compute_hash()})


def test_chunked_linking_of_a_stored_index_matches_one_pass(tmp_path: Path) -> None:
    records = [_hashed("a:dup", "楷书入门", "王秀兰")]
    records += [_hashed(f"x:{n}", "楷书入门", f"张{n:03d}") for n in range(450)]
    records += [_hashed("b:dup", "楷书入门（智慧教育版）", "王秀兰老师"), _hashed("c:dup", "楷书入门", "王秀兰")]
    backend = SqliteBackend(tmp_path / "index.sqlite3", linker=_Unlinked())
    try:
        backend.upsert(records)
        assert backend.get("a:dup").cluster_id is None  # type: ignore[union-attr]
        after: int | None = 0
        chunks = 0
        while after is not None:
            with backend._writing() as (conn, _generation):  # noqa: SLF001 (one transaction per chunk)
                after = link_stored_chunk(conn, Linker(), after=after, size=200)
            chunks += 1
        assert chunks == 4
        expected = cluster([profile_of(r) for r in records])
        stored = {r.uid: backend.get(r.uid).cluster_id for r in records}  # type: ignore[union-attr]
        assert stored == {uid: link.cluster_id if link else None for uid, link in expected.items()}
        assert stored["a:dup"] == stored["b:dup"] == stored["c:dup"] is not None
    finally:
        backend.close()
