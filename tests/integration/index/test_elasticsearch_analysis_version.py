"""An Elasticsearch index says which text analysis its documents hold (the mapping's `_meta`): a new one this
edufed's; one written by an edufed of an older analysis is reported, keeps serving, and is brought to this
edufed's analysis in place batch by batch (resumable, clusters kept) or by `edufed reindex` (a rebuilt index)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from config.settings import IndexSettings, Settings
from indexer.analysis_catch_up import AnalysisCatchUp
from indexer.analysis_version import ANALYSIS_VERSION
from indexer.backends.base import SearchQuery
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.es_analysis import AFTER_META, TO_META, index_meta
from indexer.backends.es_bulk import BulkOptions
from indexer.backends.es_mapping import ANALYSIS_META, index_template, mappings, record_document
from indexer.backends.weighted_fields import weighted_texts
from tests.support.noida import elasticsearch_engine, test_alias
from tests.support.older_analysis import without_initials

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import build_corpus, make_record  # noqa: E402

FAST = BulkOptions(initial_backoff=0.01, max_backoff=0.05)
INITIALS = {"bdj": "八段锦", "tjq": "太极拳", "znsj": "智能手机"}


@pytest.fixture(scope="module")
def engine_url() -> Iterator[str]:
    with elasticsearch_engine() as url:
        yield url


def records() -> list:  # type: ignore[type-arg]
    extra = [make_record(f"x{n}", f"{word}入门 第{n}讲") for n, word in enumerate(INITIALS.values())]
    return [*build_corpus(), *extra]


def test_a_new_index_says_this_edufeds_analysis(engine_url: str) -> None:
    backend = ElasticsearchBackend(engine_url, alias=test_alias(), replicas=0, bulk=FAST)
    try:
        backend.upsert(records())
        state = backend.analysis_state()
        assert (state.status, state.index_version, state.notice) == ("current", ANALYSIS_VERSION, None)
        assert all(backend.search(SearchQuery(q=q)).total > 0 for q in INITIALS)
    finally:
        backend.drop()
        backend.close()


def older_index(url: str) -> str:
    """An alias over an index as an edufed before analysis versions wrote it: no version, no pinyin initials."""
    alias = test_alias()
    client = Elasticsearch(url)
    try:
        old = mappings()
        old["_meta"] = {"edufed_mapping": old["_meta"]["edufed_mapping"]}
        settings = index_template(alias=alias, replicas=0)["template"]["settings"]
        client.indices.create(index=f"{alias}-v1", mappings=old, settings=settings)
        client.indices.update_aliases(
            actions=[{"add": {"index": f"{alias}-v1", "alias": alias, "is_write_index": True}}]
        )
        for record in records():
            document = record_document(record)
            document["pinyin"] = without_initials(document["pinyin"])
            document.update(weighted_texts({**document["text"], "pinyin": document["pinyin"],
                                            "chars": document["chars"]}))  # fmt: skip
            client.index(index=alias, id=record.uid, document=document)
        client.indices.refresh(index=alias)
    finally:
        client.close()
    return alias


def reported(backend: ElasticsearchBackend) -> None:
    state = backend.analysis_state()
    assert (state.status, state.index_version, state.total) == ("older", 0, len(records()))
    assert state.notice is not None and "edufed reindex" in state.notice
    assert backend.search(SearchQuery(q="书法")).total > 0  # it keeps serving
    assert [backend.search(SearchQuery(q=q)).total for q in INITIALS] == [0] * len(INITIALS)


def finds_initials(backend: ElasticsearchBackend) -> None:
    assert backend.analysis_state().status == "current"
    for q, word in INITIALS.items():
        assert backend.search(SearchQuery(q=q)).total == backend.search(SearchQuery(q=word)).total > 0, q


def test_an_index_of_an_older_analysis_is_caught_up_in_place_batch_by_batch(engine_url: str) -> None:
    backend = ElasticsearchBackend(engine_url, alias=older_index(engine_url), replicas=0, bulk=FAST)
    try:
        reported(backend)
        backend.upsert([make_record("late", "八段锦晨练 新课")])  # written meanwhile: the current analysis
        index, hashes = backend.current_index(), backend.content_hashes("le_ouchn")
        clustered = next(r.uid for r in records() if backend.cluster_of(r.uid) is not None)
        cluster = backend.cluster_of(clustered)
        progress: list[tuple[str, int]] = []

        def seen(_batch: object) -> None:
            state = backend.analysis_state()
            progress.append((state.status, state.done))

        batches = 0

        def after_two() -> bool:
            nonlocal batches
            batches += 1
            return batches > 2

        backend.catch_up_analysis(batch=10, stop=after_two, on_batch=seen)
        assert progress == [("catching_up", 10), ("catching_up", 20)]
        read, rewritten = backend.catch_up_analysis(batch=10, on_batch=seen)
        assert read == len(records()) + 1 - 20 and 0 < rewritten <= read
        finds_initials(backend)
        assert backend.current_index() == index and backend.content_hashes("le_ouchn") == hashes
        assert backend.cluster_of(clustered) == cluster  # clusters and their evidence kept
    finally:
        backend.drop()
        backend.close()


def test_an_index_of_an_older_analysis_is_reported_serves_and_is_brought_up_by_reindex(engine_url: str) -> None:
    backend = ElasticsearchBackend(engine_url, alias=older_index(engine_url), replicas=0, bulk=FAST)
    try:
        reported(backend)
        backend.rebuild(list(backend.iter_records()))
        finds_initials(backend)
    finally:
        backend.drop()
        backend.close()


def test_serves_background_child_catches_an_elasticsearch_index_up(engine_url: str, tmp_path: Path) -> None:
    """The low-priority child `edufed serve` starts (indexer.analysis_catch_up), on an Elasticsearch index."""
    alias = older_index(engine_url)
    settings = Settings(data_dir=tmp_path, index=IndexSettings(backend="elasticsearch", url=engine_url,
                                                               es_alias=alias, es_replicas=0))  # fmt: skip
    backend = ElasticsearchBackend(engine_url, alias=alias, replicas=0, bulk=FAST)
    try:
        catch_up = AnalysisCatchUp.for_serving(settings, backend)
        assert catch_up is not None
        catch_up.process.join(120)
        assert catch_up.process.exitcode == 0
        catch_up.stop()
        finds_initials(backend)
        assert AnalysisCatchUp.for_serving(settings, backend) is None  # current: nothing to start
    finally:
        backend.drop()
        backend.close()


def test_an_index_of_a_newer_analysis_is_lowered_to_this_edufeds(
    engine_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """As on SQLite: the documents this edufed writes are analysed its way, so the index says so, and a newer
    edufed's catch-up under way starts again from the first document."""
    alias = test_alias()
    backend = ElasticsearchBackend(engine_url, alias=alias, replicas=0, bulk=FAST)
    try:
        backend.upsert(records())
        index = backend.current_index()
        meta = index_meta(backend.client, index)
        newer = {ANALYSIS_META: ANALYSIS_VERSION + 1, AFTER_META: "le_ouchn:3", TO_META: ANALYSIS_VERSION + 2}
        backend.client.indices.put_mapping(index=index, meta={**meta, **newer})
        assert backend.analysis_state().status == "newer"
        with caplog.at_level(logging.WARNING, logger="indexer.backends.es_analysis"):
            older = ElasticsearchBackend(engine_url, alias=alias, replicas=0, bulk=FAST)
        try:
            state = older.analysis_state()
            assert (state.status, state.index_version, state.notice) == ("current", ANALYSIS_VERSION, None)
        finally:
            older.close()
        lowered = index_meta(backend.client, index)
        assert lowered[ANALYSIS_META] == ANALYSIS_VERSION
        assert lowered.get(AFTER_META) is lowered.get(TO_META) is None  # the cursor gone
        assert {k: lowered[k] for k in meta} == {**meta, ANALYSIS_META: ANALYSIS_VERSION}  # the rest kept
        assert [r.getMessage() for r in caplog.records if "newer than this edufed's" in r.getMessage()] != []
    finally:
        backend.drop()
        backend.close()


def test_a_cursor_toward_another_analysis_starts_again_from_the_first_document(engine_url: str) -> None:
    """An older index part-way through a catch-up to another version than this edufed's (a newer edufed's):
    the documents before its cursor hold that version's analysis, so this edufed's catch-up starts at the first."""
    alias = older_index(engine_url)
    client = Elasticsearch(engine_url)
    try:
        index = next(iter(client.indices.get_alias(name=alias)))
        meta = index_meta(client, index)
        client.indices.put_mapping(index=index, meta={**meta, AFTER_META: "x2", TO_META: ANALYSIS_VERSION + 1})
    finally:
        client.close()
    backend = ElasticsearchBackend(engine_url, alias=alias, replicas=0, bulk=FAST)
    try:
        opened = index_meta(backend.client, index)
        assert opened.get(AFTER_META) is None and opened[TO_META] == ANALYSIS_VERSION
        reported(backend)
        read, _ = backend.catch_up_analysis(batch=10)
        assert read == len(records())  # every document, none passed over
        finds_initials(backend)
        assert index_meta(backend.client, index).get(TO_META) is None
    finally:
        backend.drop()
        backend.close()
