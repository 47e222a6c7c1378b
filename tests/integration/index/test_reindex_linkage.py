"""`edufed reindex` on SQLite writes every record without re-linking, then clusters the stored index once,
group by group (in the worker processes when there are some): the clusters of linking every record at once,
the same index with one or two workers, withdrawn records in no cluster, and a rebuild killed part-way
leaves the old index serving with its old clusters."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

from bench.bench_reindex import bench_sources, stored
from bench.corpus import generate
from config.loader import load_themes
from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_file import SqliteIndexFile
from indexer.linkage import cluster, profile_of
from indexer.linkage.incremental import Linker
from indexer.pipeline import RecordBuilder
from indexer.record import Record
from indexer.reindex import reindex
from tests.integration.index.test_reindex import STALE, index_content
from tests.integration.scheduler.conftest import wait_until
from tests.unit.test_sqlite_link_groups import Unlinked


def stored_corpus(count: int) -> list[Record]:
    """Generated courses as an older rule set stored them (the raw fields kept, the title outdated), and a
    copy of every tenth on another platform with the same teacher: the same course twice."""
    records = list(generate(count))
    copies = [
        r.model_copy(update={"uid": f"{other}:copy-{n}", "source": other, "platform": other, "source_id": f"copy-{n}"})
        for n, r in enumerate(records[::10])
        for other in ["lndx" if r.platform != "lndx" else "shequ"]
    ]  # fmt: skip
    return list(stored(iter([*records, *copies])))


def clusters(path: Path) -> dict[str, str | None]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT uid, cluster_id FROM docs"))
    finally:
        conn.close()


def evidence_uids(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT e.value ->> 0, e.value ->> 1 FROM clusters, json_each(clusters.evidence) e")
        return {uid for pair in rows for uid in pair}
    finally:
        conn.close()


def test_a_rebuild_links_once_the_same_clusters_in_one_or_two_workers_withdrawn_ones_in_none(tmp_path: Path) -> None:
    records = stored_corpus(2400)
    gone = {records[-1].uid, records[-2].uid}  # copies: each the second record of a course
    contents, linked = [], []
    for workers in (1, 2):
        path = tmp_path / f"workers-{workers}.sqlite3"
        index = SqliteBackend(path)
        try:
            index.upsert(records)  # linked as harvests link
            with SqliteIndexFile(path) as index_file:
                summary = reindex(index, builder=RecordBuilder(load_themes()), sources=bench_sources(),
                                  records=index_file.stored(), withdrawn=lambda: gone, workers=workers)  # fmt: skip
            assert (summary.rebuilt, summary.withdrawn) == (len(records) - 2, 2)
            rebuilt = list(index.iter_records())
        finally:
            index.close()
        contents.append(index_content(path))
        linked.append(clusters(path))
        whole = cluster([profile_of(r) for r in rebuilt])  # every rebuilt record clustered at once
        assert linked[-1] == {uid: link.cluster_id if link else None for uid, link in whole.items()}
        assert not any(r.title.startswith(STALE) for r in rebuilt)
        assert gone.isdisjoint(linked[-1]) and gone.isdisjoint(evidence_uids(path))
    assert contents[0] == contents[1]
    in_clusters = [uid for uid, c in linked[0].items() if c]
    assert len(in_clusters) >= 400  # each copy with its original (and the corpus's own duplicates)
    originals = {r.uid for r in records if r.uid.endswith(("-0000000", "-0000010"))}
    assert all(linked[0][uid] for uid in originals)


CHILD = """
import sys
from pathlib import Path
from bench.bench_reindex import bench_sources
from config.loader import load_themes
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_file import SqliteIndexFile
from indexer.pipeline import RecordBuilder
from indexer.reindex import reindex

def stalled(stored, count):
    # the first `count` records, then wait for the kill: the rebuild has committed its first chunk by then
    for n, item in enumerate(stored):
        if n == count:
            sys.stdin.read()
        yield item


path = Path(sys.argv[1])
index = SqliteBackend(path)
with SqliteIndexFile(path) as index_file:
    reindex(index, builder=RecordBuilder(load_themes()), sources=bench_sources(),
            records=stalled(index_file.stored(), int(sys.argv[3])), workers=int(sys.argv[2]))
index.close()
"""


def rewritten(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(
            conn.execute(
                "SELECT COUNT(*) FROM docs WHERE COALESCE(title, title_fold) NOT LIKE ?", (STALE + "%",)
            ).fetchone()[0]
        )
    finally:
        conn.close()


def marked(mark: str) -> list[int]:
    """The live processes whose environment holds EDUFED_TEST_MARK=`mark`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if not entry.name.isdigit() or f"EDUFED_TEST_MARK={mark}".encode() not in (entry / "environ").read_bytes():
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":  # a zombie has ended
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def test_a_rebuild_killed_part_way_leaves_the_old_index_serving_with_its_clusters(tmp_path: Path) -> None:
    records = stored_corpus(9100)  # 10,010 records: the rebuild writes 5,000 a transaction
    path = tmp_path / "index.sqlite3"
    index = SqliteBackend(path, linker=Unlinked())
    try:
        index.upsert(records)  # loaded, then clustered at once: quicker than linking each chunk as it arrives
        index.linker = Linker()
        index.link_all()
        before = clusters(path)
        assert sum(1 for c in before.values() if c) >= 1000
        # stalled at 9,000: past the first 5,000 and the workers' read-ahead (6 chunks of 500), short of 10,000
        command = [sys.executable, "-c", CHILD, str(path), "2", "9000"]
        mark = f"rebuild-{uuid.uuid4().hex}"  # in the environment the rebuild's workers inherit
        env = {**os.environ, "EDUFED_TEST_MARK": mark}
        with subprocess.Popen(command, cwd=Path(__file__).parents[3], stdin=subprocess.PIPE, env=env) as child:
            try:
                wait_until(lambda: rewritten(path) > 0 or child.poll() is not None, what="a first chunk rewritten",
                           timeout=240)  # fmt: skip
                assert len(marked(mark)) >= 3  # the rebuild, its two workers (and multiprocessing's resource tracker)
            finally:
                child.send_signal(signal.SIGKILL)  # mid-rebuild: 5,000 records rewritten, 5,010 not, no linkage pass
        wait_until(lambda: not marked(mark), what="the workers to end with the rebuild that started them", timeout=30)
        done = rewritten(path)
        assert done == 5000, "the kill came after the first chunk only"
        assert clusters(path) == before  # every record there, each in the cluster it was in
        hits = index.search(SearchQuery(q="书法", size=20, with_facets=False))
        assert hits.total > 0
        assert {h.record.uid for h in hits.hits} <= set(before)
        assert all(index.get(uid) is not None for uid in list(before)[::500])
    finally:
        index.close()
