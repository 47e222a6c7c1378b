"""An Elasticsearch index of mapping version 3 (every token scored in one `all` field) opened by this edufed: it
gains the weighted fields, keeps finding every record it found, and once its documents are analysed again in place
ranks as a new index of the same records does."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer.backends.base import SearchQuery
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.es_bulk import BulkOptions
from indexer.backends.es_mapping import index_template, mappings, record_document
from indexer.backends.weighted_fields import WEIGHTED_FIELDS
from tests.support.noida import elasticsearch_engine, test_alias

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import build_corpus  # noqa: E402

FAST = BulkOptions(initial_backoff=0.01, max_backoff=0.05)
QUERIES = ("书法", "太极拳 入门", "taijiquan", "手机", "老年人怎么学智能手机")


@pytest.fixture(scope="module")
def engine_url() -> Iterator[str]:
    with elasticsearch_engine() as url:
        yield url


def version_3_index(url: str) -> str:
    """An alias over an index as the edufed of mapping version 3 wrote it: an `all` field, no weighted fields."""
    alias = test_alias()
    client = Elasticsearch(url)
    try:
        old = mappings()
        for name in WEIGHTED_FIELDS.values():
            del old["properties"][name]
        old["properties"]["all"] = {"type": "text", "analyzer": "edufed_tokens"}
        old["_meta"]["edufed_mapping"] = "3"
        settings = index_template(alias=alias, replicas=0)["template"]["settings"]
        client.indices.create(index=f"{alias}-v1", mappings=old, settings=settings)
        client.indices.update_aliases(
            actions=[{"add": {"index": f"{alias}-v1", "alias": alias, "is_write_index": True}}]
        )
        for record in build_corpus():
            document = {k: v for k, v in record_document(record).items() if k not in WEIGHTED_FIELDS.values()}
            document["all"] = " ".join(document["text"].values())
            client.index(index=alias, id=record.uid, document=document)
        client.indices.refresh(index=alias)
    finally:
        client.close()
    return alias


def answers(backend: ElasticsearchBackend) -> dict[str, list[str]]:
    return {q: [h.record.uid for h in backend.search(SearchQuery(q=q, size=50)).hits] for q in QUERIES}


def test_a_version_3_index_gains_the_weighted_fields_serves_and_is_caught_up_in_place(engine_url: str) -> None:
    fresh = ElasticsearchBackend(engine_url, alias=test_alias(), replicas=0, bulk=FAST)
    backend = ElasticsearchBackend(engine_url, alias=version_3_index(engine_url), replicas=0, bulk=FAST)
    try:
        fresh.upsert(build_corpus())
        expected = answers(fresh)
        assert all(expected.values())
        index = backend.current_index()
        properties = backend.client.indices.get_mapping(index=index)[index]["mappings"]["properties"]
        assert set(WEIGHTED_FIELDS.values()) <= set(properties)
        assert backend.analysis_state().status == "older"  # its documents lack the fields' values
        before = answers(backend)
        assert {q: sorted(uids) for q, uids in before.items()} == {q: sorted(u) for q, u in expected.items()}
        read, rewritten = backend.catch_up_analysis(batch=7)
        assert read == rewritten == len(build_corpus())
        assert backend.analysis_state().status == "current"
        assert answers(backend) == expected
    finally:
        for opened in (fresh, backend):
            opened.drop()
            opened.close()
