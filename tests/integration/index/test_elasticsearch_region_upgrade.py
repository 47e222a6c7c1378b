"""An Elasticsearch index and change log made before the region facet take its field when opened, keep serving,
and take records with a region (which searches then filter and count)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer.backends.base import SearchQuery
from indexer.backends.changes import ChangeQuery, now_stamp
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.es_bulk import BulkOptions
from indexer.backends.es_mapping import index_template, mappings
from indexer.backends.es_oai import oai_index
from tests.support.noida import elasticsearch_engine, test_alias

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import make_record  # noqa: E402

FAST = BulkOptions(initial_backoff=0.01, max_backoff=0.05)


@pytest.fixture(scope="module")
def engine_url() -> Iterator[str]:
    with elasticsearch_engine() as url:
        yield url


def test_an_index_without_the_region_field_gains_it_and_serves_regions(engine_url: str) -> None:
    alias = test_alias()
    client = Elasticsearch(engine_url)
    old = mappings()  # the previous release's: version 2, no region field, in the records and the change log
    del old["properties"]["region"]
    old["_meta"] = {"edufed_mapping": "2"}
    settings = index_template(alias=alias, replicas=0)["template"]["settings"]
    client.indices.create(index=f"{alias}-v1", mappings=old, settings=settings)
    client.indices.update_aliases(actions=[{"add": {"index": f"{alias}-v1", "alias": alias, "is_write_index": True}}])
    log = {
        "dynamic": "strict",
        "properties": {
            "uid": {"type": "keyword"},
            "stamp": {"type": "long"},
            "deleted": {"type": "boolean"},
            **{k: {"type": "keyword"} for k in ("platform", "theme", "programme")},
        },
    }
    client.indices.create(index=oai_index(alias), mappings=log)  # fmt: skip
    backend = ElasticsearchBackend(engine_url, alias=alias, replicas=0, bulk=FAST)
    try:
        assert "region" in client.indices.get_mapping(index=f"{alias}-v1")[f"{alias}-v1"]["mappings"]["properties"]
        backend.upsert([make_record("a1", "书法入门"), make_record("a2", "太极入门", region={"province": "广东"})])
        assert backend.search(SearchQuery(q="入门")).total == 2
        found = backend.search(SearchQuery(regions=("广东",)))
        assert [h.record.source_id for h in found.hits] == ["a2"] and found.facets["region"] == {"广东": 1}
        entries = backend.changes(ChangeQuery(until=now_stamp(), set_kind="region", set_values=("广东",)))
        assert [e.uid for e in entries] == ["le_ouchn:a2"]
    finally:
        backend.drop()
        backend.close()
        client.options(ignore_status=404).indices.delete(index=oai_index(alias))
        client.close()
