"""Clustering a stored SQLite index group by group (`link_all`, the end of a rebuild) gives the clusters that
linking each record as it arrives gives, and keeps one group in memory, not every profile."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from bench.corpus import generate
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_bulk_links import link_stored, stored_groups
from indexer.backends.sqlite_payload import payload_text
from indexer.linkage import FixedDecisions, LinkDecision, cluster, profile_of
from indexer.linkage.bulk import GroupLinks, LinkGroup, cluster_here
from indexer.linkage.incremental import Linker
from indexer.record import Person, Record
from tests.unit.test_linkage_matcher import DUPLICATES, HARD_NEGATIVES, course


class Unlinked(Linker):
    """Writes without linking: an index loaded in bulk, linked later."""

    def relink(self, store: object, *, arrived: object, old_clusters: object) -> int:  # type: ignore[override]
        return 0


def _hashed(record: Record) -> Record:
    return record.model_copy(update={"content_hash": record.compute_hash()})


def corpus() -> list[Record]:
    """Generated courses (one teacher each, a title shared by many), untaught copies of some of them, and
    the matcher's duplicates and hard negatives (records naming no teacher among them)."""
    records = list(generate(1500))
    untaught = [
        r.model_copy(update={"uid": f"untaught:{r.source_id}", "source": "untaught", "platform": "untaught",
                             "instructors": []})
        for r in records[:1500:25]
    ]  # fmt: skip
    pairs = [record for pair in [*DUPLICATES, *HARD_NEGATIVES] for record in pair]
    return [_hashed(r) for r in [*records, *untaught, *pairs]]


def chunks(records: list[Record], size: int) -> Iterator[list[Record]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


def clusters_of(path: Path) -> tuple[dict[str, str | None], list[tuple[str, str]]]:
    """uid -> stored cluster id (docs and stored JSON agreeing), and the `clusters` table."""
    conn = sqlite3.connect(path)
    try:
        stored = conn.execute("SELECT d.uid, d.cluster_id, p.json FROM docs d JOIN payloads p ON p.id = d.id")
        rows = [(uid, cid, json.loads(payload_text(p, conn))["cluster_id"]) for uid, cid, p in stored.fetchall()]
        assert all(doc == stored for _, doc, stored in rows)
        evidence = conn.execute("SELECT cluster_id, evidence FROM clusters ORDER BY cluster_id").fetchall()
        return {uid: cluster_id for uid, cluster_id, _ in rows}, evidence
    finally:
        conn.close()


def test_linking_the_stored_index_group_by_group_gives_the_clusters_of_linking_on_arrival(tmp_path: Path) -> None:
    records = corpus()
    arrival = SqliteBackend(tmp_path / "arrival.sqlite3")
    bulk = SqliteBackend(tmp_path / "bulk.sqlite3", linker=Unlinked())
    try:
        for chunk in chunks(records, 300):  # as harvests write: each chunk re-linked with what it may match
            arrival.upsert(chunk)
        bulk.upsert(records)
        assert clusters_of(tmp_path / "bulk.sqlite3")[0] == dict.fromkeys((r.uid for r in records), None)
        bulk.linker = Linker()
        linked = bulk.link_all()
    finally:
        arrival.close()
        bulk.close()
    expected, expected_evidence = clusters_of(tmp_path / "arrival.sqlite3")
    found, evidence = clusters_of(tmp_path / "bulk.sqlite3")
    assert found == expected and evidence == expected_evidence
    assert linked == sum(1 for c in found.values() if c) >= 40
    whole = cluster([profile_of(r) for r in records])  # every profile at once, as before
    assert found == {uid: link.cluster_id if link else None for uid, link in whole.items()}
    for a, b in DUPLICATES:
        assert found[a.uid] == found[b.uid] is not None
    for a, b in HARD_NEGATIVES:
        assert found[a.uid] is None or found[a.uid] != found[b.uid]
    untaught = [uid for uid in found if uid.startswith("untaught:")]
    assert any(found[uid] for uid in untaught)  # an untaught copy joins its teacher's course through the `a` keys


def test_stale_cluster_ids_are_rewritten_and_an_admins_decisions_apply(tmp_path: Path) -> None:
    records = corpus()
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path, linker=Unlinked())
    try:
        backend.upsert(records)
        with sqlite3.connect(path) as conn:  # clusters of an older rule set: wrong ones, and one that named a left
            conn.execute("UPDATE docs SET cluster_id = 'c-old-' || (id % 5) WHERE id % 3 = 0")
            stale = conn.execute("SELECT d.id, d.cluster_id, p.json FROM docs d JOIN payloads p ON p.id = d.id")
            conn.executemany(  # written back as text, as files before compression hold it
                "UPDATE payloads SET json = json_set(?, '$.cluster_id', ?) WHERE id = ?",
                [(payload_text(p, conn), cid, row_id) for row_id, cid, p in stale.fetchall()],
            )
            conn.execute("INSERT INTO clusters (cluster_id, evidence) VALUES ('c-old-1', '[]')")
        a, b = DUPLICATES[0]
        joined = HARD_NEGATIVES[1]
        backend.linker = Linker(FixedDecisions([
            LinkDecision(a.uid, b.uid, "split", "admin"),
            LinkDecision(joined[0].uid, joined[1].uid, "join", "admin"),
        ]))  # fmt: skip
        backend.link_all()
    finally:
        backend.close()
    found, evidence = clusters_of(path)
    assert not any(c and c.startswith("c-old-") for c in found.values())
    assert "c-old-1" not in {cluster_id for cluster_id, _ in evidence}
    assert found[a.uid] is None or found[a.uid] != found[b.uid]
    assert found[joined[0].uid] == found[joined[1].uid] is not None
    assert {c for c in found.values() if c} == {cluster_id for cluster_id, _ in evidence}


def test_groups_are_what_may_share_a_cluster_and_no_larger(tmp_path: Path) -> None:
    records = [_hashed(r) for r in [
        course("a:1", "楷书入门", teachers=["王秀兰"]), course("b:1", "楷书入门", teachers=["王秀兰"]),
        course("c:1", "楷书入门", teachers=["李建国"]),  # another teacher: never a candidate of the first two
        course("d:1", "楷书入门"),  # untaught: a candidate of every taught 楷书入门
        course("e:1", "太极拳二十四式", teachers=["李建国"]), course("f:1", "健身气功"),
    ]]  # fmt: skip
    assert records[0].instructors == [Person(name="王秀兰")]
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path, linker=Unlinked())
    try:
        backend.upsert(records[:3] + records[4:])
        conn = sqlite3.connect(path)
        assert _uids_of(conn, stored_groups(conn)) == [["a:1", "b:1"]]
        backend.upsert([records[3]])
        assert _uids_of(conn, stored_groups(conn)) == [["a:1", "b:1", "c:1", "d:1"]]
        conn.close()
    finally:
        backend.close()


def _uids_of(conn: sqlite3.Connection, groups: Iterable[list[int]]) -> list[list[str]]:
    by_id = dict(conn.execute("SELECT id, uid FROM docs"))
    return [sorted(by_id[i] for i in group) for group in groups]


def test_a_group_too_large_to_hold_is_linked_as_arrivals_are(tmp_path: Path) -> None:
    records = corpus()
    whole = cluster([profile_of(r) for r in records])
    backend = SqliteBackend(tmp_path / "index.sqlite3", linker=Unlinked())
    sizes: list[int] = []

    def counting(groups: Iterable[LinkGroup]) -> Iterator[GroupLinks]:
        for group in groups:
            sizes.append(len(group.payloads))
            yield from cluster_here([group])

    try:
        backend.upsert(records)
        summary = link_stored(backend._link_transaction, linker=Linker(), clusterer=counting, max_group=30)  # noqa: SLF001
    finally:
        backend.close()
    assert sizes and max(sizes) <= 30 and summary.big_groups > 0  # the corpus's teacher groups exceed 30
    expected = {uid: link.cluster_id if link else None for uid, link in whole.items()}
    assert clusters_of(tmp_path / "index.sqlite3")[0] == expected
