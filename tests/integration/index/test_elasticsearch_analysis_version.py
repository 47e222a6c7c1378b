"""An Elasticsearch index says which text analysis its documents hold (the mapping's `_meta`): a new one this
edufed's; one written by an edufed of an older analysis is reported, keeps serving, and `edufed reindex` (a
rebuilt index behind the alias) brings it to this edufed's analysis."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer.analysis_version import ANALYSIS_VERSION
from indexer.backends.base import SearchQuery
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.es_bulk import BulkOptions
from indexer.backends.es_mapping import index_template, mappings, record_document, weighted_tokens
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


def test_an_index_of_an_older_analysis_is_reported_serves_and_is_brought_up_by_reindex(engine_url: str) -> None:
    alias = test_alias()
    client = Elasticsearch(engine_url)
    old = mappings()
    old["_meta"] = {"edufed_mapping": old["_meta"]["edufed_mapping"]}  # an edufed before analysis versions
    settings = index_template(alias=alias, replicas=0)["template"]["settings"]
    client.indices.create(index=f"{alias}-v1", mappings=old, settings=settings)
    client.indices.update_aliases(actions=[{"add": {"index": f"{alias}-v1", "alias": alias, "is_write_index": True}}])
    for record in records():  # the documents as that edufed sent them: no pinyin initials
        document = record_document(record)
        document["pinyin"] = without_initials(document["pinyin"])
        document["all"] = weighted_tokens(
            {**document["text"], "pinyin": document["pinyin"], "chars": document["chars"]}
        )
        client.index(index=alias, id=record.uid, document=document)
    client.indices.refresh(index=alias)
    backend = ElasticsearchBackend(engine_url, alias=alias, replicas=0, bulk=FAST)
    try:
        state = backend.analysis_state()
        assert (state.status, state.index_version, state.total) == ("older", 0, len(records()))
        assert state.notice is not None and "edufed reindex" in state.notice
        assert backend.search(SearchQuery(q="书法")).total > 0  # it keeps serving
        assert [backend.search(SearchQuery(q=q)).total for q in INITIALS] == [0] * len(INITIALS)
        backend.rebuild(list(backend.iter_records()))
        assert backend.analysis_state().status == "current"
        for q, word in INITIALS.items():
            assert backend.search(SearchQuery(q=q)).total == backend.search(SearchQuery(q=word)).total > 0, q
    finally:
        backend.drop()
        backend.close()
        client.close()
