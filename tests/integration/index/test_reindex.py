"""`edufed reindex`: a new Elasticsearch index behind a swapped alias, the in-place SQLite rebuild, --from-sqlite.

The command runs in-process (`search_api.cli.main`) against noida-db (or ELASTICSEARCH_URL's cluster) with a
settings file naming a fresh alias; the index is checked through a second backend, as the API would see it.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from config.loader import load_sources, load_themes
from config.settings import Settings
from config.source_models import SourceBase
from crawlers.state import StateStore
from indexer.backends.base import IndexBackend, SearchQuery
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_file import SqliteIndexFile
from indexer.errors import RebuildWorkerError
from indexer.linkage import LinkProfile, profile_of
from indexer.linkage.profile import remember_profile
from indexer.pipeline import RecordBuilder
from indexer.rebuild_pool import RebuildPool
from indexer.record import RawRecord, Record
from indexer.reindex import reindex
from search_api.cli import Console, main
from tests.integration.scheduler.conftest import wait_until
from tests.support.noida import elasticsearch_engine, test_alias

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import build_corpus, make_record  # noqa: E402

FETCHED = datetime(2024, 6, 1, tzinfo=UTC)
TOPICS = ["书法临帖", "太极拳养生", "智能手机入门", "合唱发声", "摄影构图", "中医养生", "国画山水", "防诈骗常识"]
STALE = "旧版·"
SOURCE = {
    "id": "reindex_courses", "kind": "json_api", "name": "重建测试课程", "platform": "lndx",
    "platform_name": "国家老年大学", "url": "https://courses.example.edu.cn/api/list", "items_path": "items",
    "id_field": "id", "url_template": "https://courses.example.edu.cn/course/{id}", "fields": {"title": "name"},
}  # fmt: skip
QUERIES = ["书法", "养生", "太极拳", "Excel", "理财", "古琴", "shufa"]


@pytest.fixture(scope="module")
def engine_url() -> Iterator[str]:
    with elasticsearch_engine() as url:
        yield url


@dataclass
class Installation:
    """A settings file for an Elasticsearch alias (and a SQLite data dir), and the backend to look at it."""

    config: Path
    source: SourceBase
    es: ElasticsearchBackend


@pytest.fixture
def installation(engine_url: str, tmp_path: Path) -> Iterator[Installation]:
    alias = test_alias()
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [SOURCE]}, allow_unicode=True), encoding="utf-8")
    config = tmp_path / "settings.yaml"
    settings = {
        "data_dir": str(tmp_path / "data"), "sources_file": str(sources),
        "index": {"backend": "elasticsearch", "url": engine_url, "es_alias": alias, "es_replicas": 0},
    }  # fmt: skip
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    es = ElasticsearchBackend(engine_url, alias=alias, replicas=0)
    try:
        yield Installation(config, load_sources(sources)[0], es)
    finally:
        es.drop()
        es.close()


def built_records(source: SourceBase, count: int, *, stale: bool, description: str | None = None) -> list[Record]:
    """Records built from raw items; `stale` ones carry an outdated title that a rebuild from raw replaces."""
    builder = RecordBuilder(load_themes())
    records = []
    for n in range(count):
        fields = {"title": f"{TOPICS[n % len(TOPICS)]}第{n}讲", "url": f"https://courses.example.edu.cn/course/{n}"}
        fields |= {"description": description} if description else {}
        raw = RawRecord(source_id=f"k{n}", fields=fields, payload={"id": f"k{n}", "name": fields["title"]})
        record = builder.build(raw, source, fetched_at=FETCHED)
        if stale:
            record = record.model_copy(update={"title": STALE + record.title, "content_hash": ""})
            record = record.model_copy(update={"content_hash": record.compute_hash()})
        records.append(record)
    return records


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), console=Console(out=out, err=err))
    return code, out.getvalue(), err.getvalue()


def uids(backend: IndexBackend) -> list[str]:
    return sorted(r.uid for r in backend.iter_records())


def top_hit(backend: IndexBackend, q: str) -> str | None:
    hits = backend.search(SearchQuery(q=q, size=1, with_facets=False)).hits
    return hits[0].record.uid if hits else None


@dataclass(frozen=True)
class Answer:
    at: float
    total: int
    titles: tuple[str, ...]


class Searcher:
    """A thread searching in a loop, as the API does while the index is rebuilt; keeps every answer."""

    def __init__(self, backend: IndexBackend, q: str) -> None:
        self.backend, self.q = backend, q
        self.answers: list[Answer] = []
        self.failures: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                result = self.backend.search(SearchQuery(q=self.q, size=50, with_facets=False))
            except BaseException as exc:  # recorded and asserted by the test
                self.failures.append(exc)
                continue
            titles = tuple(h.record.title for h in result.hits)
            self.answers.append(Answer(time.monotonic(), result.total, titles))

    def __enter__(self) -> Searcher:
        self._thread.start()
        wait_until(lambda: self.answers or self.failures, what="a first search answer")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def test_reindex_swaps_the_alias_to_a_rebuilt_index_while_searches_keep_answering(
    installation: Installation,
) -> None:
    es = installation.es
    corpus, stale = build_corpus(), built_records(installation.source, 400, stale=True)
    es.upsert([*corpus, *stale])
    before = es.current_index()
    with Searcher(es, "书法") as searcher:
        started = time.monotonic()
        code, out, err = run_cli("reindex", "--config", str(installation.config))
        ended = time.monotonic()
        wait_until(lambda: any(a.at > ended for a in searcher.answers), what="a search after the swap")
    assert code == 0, err
    assert searcher.failures == []
    assert all(a.total > 0 for a in searcher.answers)
    assert any(started < a.at < ended for a in searcher.answers)  # searches answered during the rebuild
    assert any(STALE in t for t in searcher.answers[0].titles)  # the old index answered first ...
    assert not any(STALE in t for t in searcher.answers[-1].titles)  # ... the rebuilt one at the end
    assert es.indices() == [es.current_index()] and es.current_index() != before
    assert uids(es) == sorted(r.uid for r in [*corpus, *stale])
    total = len(corpus) + len(stale)
    assert out.startswith(f"reindexed {total} records: {len(stale)} rebuilt from their raw payload, {total} written")
    assert f"kept as stored: {len(corpus)} whose source is no longer configured" in out
    assert f"reindex: {total} of {total} (100%) records read and rebuilt" in err
    rebuilt = es.get(stale[0].uid)
    assert rebuilt is not None and rebuilt.title == stale[0].title.removeprefix(STALE)


def test_reindex_from_sqlite_loads_elasticsearch_with_the_same_records_and_rankings(
    installation: Installation, tmp_path: Path
) -> None:
    path = tmp_path / "old" / "index.sqlite3"
    path.parent.mkdir()
    sqlite = SqliteBackend(path)
    try:
        sqlite.upsert([*build_corpus(), *built_records(installation.source, 40, stale=False)])
        expected_uids, expected_top = uids(sqlite), {q: top_hit(sqlite, q) for q in QUERIES}
    finally:
        sqlite.close()
    file_bytes = path.read_bytes()

    code, out, err = run_cli("reindex", "--from-sqlite", str(path), "--config", str(installation.config))
    assert code == 0, err
    assert f"{len(expected_uids)} records from {path}" in err
    assert uids(installation.es) == expected_uids
    assert {q: top_hit(installation.es, q) for q in QUERIES} == expected_top
    assert all(expected_top.values())
    assert path.read_bytes() == file_bytes  # read-only: the file the move starts from is never changed


def test_reindex_from_sqlite_replaces_what_elasticsearch_held(installation: Installation, tmp_path: Path) -> None:
    installation.es.upsert([make_record("gone1", "只在旧索引里的课程")])
    path = tmp_path / "index.sqlite3"
    sqlite = SqliteBackend(path)
    sqlite.upsert(build_corpus()[:5])
    sqlite.close()
    code, _, err = run_cli("reindex", "--from-sqlite", str(path), "--config", str(installation.config))
    assert code == 0, err
    assert uids(installation.es) == sorted(r.uid for r in build_corpus()[:5])


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "missing.sqlite3"


def _directory(tmp_path: Path) -> Path:
    return tmp_path


def _text_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("笔记" * 200, encoding="utf-8")
    return path


def _other_database(tmp_path: Path) -> Path:
    """A SQLite file that is not a search index (say, the state database given by mistake)."""
    path = tmp_path / "state.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE sources (id TEXT PRIMARY KEY)")
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_missing, "does not exist"),
        (_directory, "is not a file"),
        (_text_file, "is not a SQLite database"),
        (_other_database, "is not an edufed search index"),
    ],
    ids=["missing", "directory", "text-file", "other-database"],
)
def test_reindex_from_a_path_that_is_not_an_index_is_a_usage_error_that_changes_nothing(
    installation: Installation, tmp_path: Path, make: Callable[[Path], Path], says: str
) -> None:
    installation.es.upsert(build_corpus()[:3])
    before = installation.es.current_index()
    bad = make(tmp_path)
    content = bad.read_bytes() if bad.is_file() else None
    code, out, err = run_cli("reindex", "--from-sqlite", str(bad), "--config", str(installation.config))
    assert code == 2 and out == ""
    assert err.startswith("edufed: --from-sqlite: ") and says in err and "Traceback" not in err
    assert installation.es.current_index() == before and installation.es.count() == 3
    assert (bad.read_bytes() if bad.is_file() else None) == content


def test_reindex_on_sqlite_rewrites_in_place_and_searches_keep_answering(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [SOURCE]}, allow_unicode=True), encoding="utf-8")
    config = tmp_path / "settings.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "sources_file": str(sources)}))
    source = load_sources(sources)[0]
    (tmp_path / "data").mkdir()
    index = SqliteBackend(tmp_path / "data" / "index.sqlite3")
    try:
        corpus, stale = build_corpus(), built_records(source, 1000, stale=True)
        index.upsert([*corpus, *stale])
        with Searcher(index, "书法") as searcher:
            started = time.monotonic()
            code, out, err = run_cli("reindex", "--config", str(config))
            ended = time.monotonic()
            wait_until(lambda: any(a.at > ended for a in searcher.answers), what="a search after the rebuild")
        assert code == 0, err
        assert searcher.failures == [] and all(a.total > 0 for a in searcher.answers)
        assert any(started < a.at < ended for a in searcher.answers)
        assert uids(index) == sorted(r.uid for r in [*corpus, *stale])
        assert f"{len(stale)} rebuilt from their raw payload, {len(stale)} written" in out
        rebuilt = index.get(stale[0].uid)
        assert rebuilt is not None and not rebuilt.title.startswith(STALE)
        again = run_cli("reindex", "--config", str(config))[1]
        assert f"0 written to the index, {len(corpus) + len(stale)} unchanged" in again
    finally:
        index.close()


def test_reindex_from_the_configured_sqlite_index_itself_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path)}))
    SqliteBackend(tmp_path / "index.sqlite3").close()
    code, _, err = run_cli("reindex", "--from-sqlite", str(tmp_path / "index.sqlite3"), "--config", str(config))
    assert code == 2 and "is the configured index itself" in err


def test_sqlite_rebuild_withdraws_only_after_every_record_was_written(tmp_path: Path) -> None:
    index = SqliteBackend(tmp_path / "index.sqlite3")
    try:
        corpus = build_corpus()
        index.upsert(corpus)

        def failing() -> Iterator[Record]:
            yield from corpus[:10]
            raise RuntimeError("the record source broke")

        with pytest.raises(RuntimeError):
            index.rebuild(failing())
        assert index.count() == len(corpus)  # nothing withdrawn by a rebuild that did not finish
        result = index.rebuild(corpus[:10])
        assert (result.written, result.unchanged) == (0, 10)
        assert uids(index) == sorted(r.uid for r in corpus[:10])
    finally:
        index.close()


def test_a_record_the_cluster_rejects_stops_the_load_and_leaves_the_alias_as_it_was(
    installation: Installation, tmp_path: Path
) -> None:
    installation.es.upsert(build_corpus()[:3])
    before = installation.es.current_index()
    path = tmp_path / "index.sqlite3"
    sqlite = SqliteBackend(path)
    sqlite.upsert(build_corpus())
    sqlite.close()
    # A stored record whose learner count does not fit the cluster's long field (SQLite keeps it as JSON).
    too_big = make_record("sf1", "书法入门：楷书基础", learner_count=10**20)
    conn = sqlite3.connect(path)
    conn.execute(
        "UPDATE payloads SET json = ? WHERE id = (SELECT id FROM docs WHERE uid = ?)",
        (too_big.model_dump_json(), too_big.uid),
    )
    conn.commit()
    conn.close()
    code, out, err = run_cli("reindex", "--from-sqlite", str(path), "--config", str(installation.config))
    assert code == 1 and out == ""
    assert "1 record(s) were not indexed; the old index stays in use" in err
    assert f"  {too_big.uid}: " in err and "out of range" in err
    assert installation.es.indices() == [before] and installation.es.count() == 3


# -- withdrawn records stay withdrawn (a rebuild or a move never brings one back) ---------------------------


def withdraw_in_state(data_dir: Path, source: SourceBase, records: list[Record], gone: list[Record]) -> None:
    """The harvest state of `source`: every record seen, then `gone` withdrawn (as a run withdraws them)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    store = StateStore.for_settings(Settings(data_dir=data_dir))
    try:
        store.sources.seed([source])  # type: ignore[list-item]
        store.records.observe(source.id, [(r.uid, r.content_hash) for r in records], run_id=None)
        assert store.records.withdraw(source.id, [r.uid for r in gone]) == len(gone)
    finally:
        store.close()


def hits_among(backend: IndexBackend, gone: list[Record]) -> list[str]:
    """Uids of `gone` that any search for their own titles still returns."""
    found: set[str] = set()
    for record in gone:
        result = backend.search(SearchQuery(q=record.title, size=50, with_facets=False))
        found.update(h.record.uid for h in result.hits)
    return sorted(found & {r.uid for r in gone})


def test_reindex_from_sqlite_never_brings_a_withdrawn_record_into_elasticsearch(
    installation: Installation, tmp_path: Path
) -> None:
    records = built_records(installation.source, 60, stale=False)
    gone = records[::7]
    path = tmp_path / "old" / "index.sqlite3"
    path.parent.mkdir()
    sqlite = SqliteBackend(path)  # an index file saved before these records were withdrawn
    sqlite.upsert(records)
    sqlite.close()
    withdraw_in_state(tmp_path / "data", installation.source, records, gone)
    code, out, err = run_cli("reindex", "--from-sqlite", str(path), "--config", str(installation.config))
    assert code == 0, err
    assert uids(installation.es) == sorted(r.uid for r in records if r not in gone)
    assert hits_among(installation.es, gone) == []
    assert f"left out: {len(gone)} withdrawn" in out


def test_plain_reindex_on_elasticsearch_leaves_out_records_the_state_marks_withdrawn(
    installation: Installation, tmp_path: Path
) -> None:
    records = built_records(installation.source, 30, stale=True)
    gone = records[:4]
    installation.es.upsert(records)  # still in the index, though withdrawn in the state
    withdraw_in_state(tmp_path / "data", installation.source, records, gone)
    code, out, err = run_cli("reindex", "--workers", "2", "--config", str(installation.config))
    assert code == 0, err
    assert "rebuilt by 2 process(es)" in err and f"{len(records) - 4} rebuilt from their raw payload" in out
    assert uids(installation.es) == sorted(r.uid for r in records[4:])
    rebuilt = installation.es.get(records[5].uid)
    assert rebuilt is not None and not rebuilt.title.startswith(STALE)
    assert hits_among(installation.es, gone) == []


def sqlite_installation(tmp_path: Path) -> tuple[Path, SourceBase, SqliteBackend]:
    """A settings file for a SQLite index in tmp_path/data with SOURCE configured, and that index."""
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [SOURCE]}, allow_unicode=True), encoding="utf-8")
    config = tmp_path / "settings.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "sources_file": str(sources)}))
    (tmp_path / "data").mkdir(exist_ok=True)
    return config, load_sources(sources)[0], SqliteBackend(tmp_path / "data" / "index.sqlite3")


def test_plain_reindex_on_sqlite_removes_records_the_state_marks_withdrawn(tmp_path: Path) -> None:
    config, source, index = sqlite_installation(tmp_path)
    try:
        records = built_records(source, 50, stale=True)
        gone = records[10:15]
        index.upsert(records)
        withdraw_in_state(tmp_path / "data", source, records, gone)
        code, out, err = run_cli("reindex", "--config", str(config))
        assert code == 0, err
        assert uids(index) == sorted(r.uid for r in records if r not in gone)
        assert hits_among(index, gone) == []
        assert f"left out: {len(gone)} withdrawn" in out
    finally:
        index.close()


def test_a_record_withdrawn_while_the_rebuild_runs_leaves_the_rebuilt_index(tmp_path: Path) -> None:
    _, source, index = sqlite_installation(tmp_path)
    try:
        records = built_records(source, 20, stale=True)
        index.upsert(records)
        asked: list[int] = []

        def withdrawn() -> set[str]:  # the state as the rebuild sees it: empty at the start, one gone at the end
            asked.append(1)
            return set() if len(asked) == 1 else {records[3].uid}

        builder = RecordBuilder(load_themes())
        summary = reindex(index, builder=builder, sources=[source], withdrawn=withdrawn)
        assert len(asked) == 2 and summary.withdrawn == 1
        assert uids(index) == sorted(r.uid for r in records if r is not records[3])
    finally:
        index.close()


# -- the rebuild in worker processes ----------------------------------------------------------------------


def index_content(path: Path) -> list[list[tuple[object, ...]]]:
    """Every row of the tables a search reads, in storage order."""
    conn = sqlite3.connect(path)
    try:
        return [
            conn.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
            for table, key in (("docs", "id"), ("payloads", "id"), ("texts", "id"), ("removed", "id"),
                               ("link_key_ids", "id, key"), ("clusters", "cluster_id"))
        ]  # fmt: skip
    finally:
        conn.close()


def test_rebuilding_in_two_worker_processes_writes_the_same_index_as_one_process(tmp_path: Path) -> None:
    _, source, _unused = sqlite_installation(tmp_path)
    _unused.close()
    unrebuildable = make_record("raw1", "只有平台原始数据的课程", source=source.id, platform="lndx", raw={"id": 1})
    stored = [*build_corpus(), *built_records(source, 700, stale=True), unrebuildable]
    gone = {stored[-5].uid}
    summaries, contents = [], []
    for workers in (1, 2):
        path = tmp_path / f"workers-{workers}" / "index.sqlite3"
        path.parent.mkdir()
        index = SqliteBackend(path)
        try:
            index.upsert(stored)
            with SqliteIndexFile(path) as index_file:
                builder = RecordBuilder(load_themes())
                summaries.append(reindex(index, builder=builder, sources=[source], records=index_file.stored(),
                                         withdrawn=lambda: gone, workers=workers))  # fmt: skip
        finally:
            index.close()
        contents.append(index_content(path))
    assert summaries[0] == summaries[1]
    assert (summaries[0].rebuilt, summaries[0].kept_not_rebuildable, summaries[0].withdrawn) == (699, 1, 1)
    assert contents[0] == contents[1]
    assert len(contents[0][0]) == len(stored) - 1


def test_the_writer_takes_each_rebuilt_records_link_profile_from_the_worker_that_rebuilt_it(tmp_path: Path) -> None:
    _, source, index = sqlite_installation(tmp_path)
    index.close()
    # a description no other test gives: no profile of these records is kept in this process yet
    stored = built_records(source, 40, stale=True, description="只在工作进程测试出现的简介")
    with RebuildPool(builder=RecordBuilder(load_themes()), sources=[source], workers=2) as pool:
        rebuilt = [done.record for done in pool.rebuild(stored)]
    assert [r.uid for r in rebuilt] == [r.uid for r in stored] and not rebuilt[0].title.startswith(STALE)
    for record in rebuilt:
        profile = profile_of(record)
        # made over there with its MinHash band keys: this process profiled nothing and hashed no band
        assert "_blocking_keys" in vars(profile)
        assert profile == _fresh_profile(record) and profile.blocking_keys() == _fresh_profile(record).blocking_keys()


def _fresh_profile(record: Record) -> LinkProfile:
    """The record's profile made here and now (its content hash dropped, so no kept profile is reused)."""
    return profile_of(record.model_copy(update={"content_hash": ""}))


def test_a_profile_made_elsewhere_is_used_only_for_the_content_it_was_made_from(tmp_path: Path) -> None:
    _, source, index = sqlite_installation(tmp_path)
    index.close()
    record, other = built_records(source, 2, stale=False, description="只在本测试出现的简介")
    made = _fresh_profile(record)
    remember_profile(record, made)
    changed = record.model_copy(update={"title": "书法临帖进阶", "content_hash": "changed"})
    assert profile_of(changed) is not made and profile_of(changed).title != made.title
    assert profile_of(record) is made
    remember_profile(other, made)  # a profile of another record is never taken
    assert profile_of(other) is not made and profile_of(other).uid == other.uid


def test_a_stored_record_a_worker_cannot_read_stops_the_rebuild_with_its_uid_and_removes_nothing(
    tmp_path: Path,
) -> None:
    config, source, index = sqlite_installation(tmp_path)
    try:
        records = built_records(source, 30, stale=True)
        index.upsert(records)
        conn = sqlite3.connect(tmp_path / "data" / "index.sqlite3")
        conn.execute("UPDATE payloads SET json = '{\"uid\": 1}' WHERE id = (SELECT id FROM docs WHERE uid = ?)",
                     (records[20].uid,))  # fmt: skip
        conn.commit()
        conn.close()
        code, out, err = run_cli("reindex", "--workers", "2", "--config", str(config))
        assert code == 1 and out == ""
        assert f"record {records[20].uid} cannot be read" in err and "Traceback" not in err
        assert index.count() == len(records)
    finally:
        index.close()


def test_a_rebuild_worker_that_dies_stops_the_rebuild_and_the_index_keeps_what_it_held(tmp_path: Path) -> None:
    _, source, index = sqlite_installation(tmp_path)
    try:
        records = built_records(source, 1200, stale=True)
        index.upsert(records)

        def stored() -> Iterator[Record]:  # a worker is killed while the records are still being handed out
            for n, record in enumerate(records):
                if n == 1100:
                    for worker in multiprocessing.active_children():
                        os.kill(worker.pid or 0, signal.SIGKILL)
                yield record

        with pytest.raises(RebuildWorkerError, match="died"):
            reindex(index, builder=RecordBuilder(load_themes()), sources=[source], records=stored(), workers=2)
        assert uids(index) == sorted(r.uid for r in records)
        kept = index.get(records[0].uid)
        assert kept is not None and kept.title.startswith(STALE)
    finally:
        index.close()
