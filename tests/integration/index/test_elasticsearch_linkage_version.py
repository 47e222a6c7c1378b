"""An Elasticsearch index says which record linkage made its link keys and clusters (the mapping's `_meta`): a new
one this edufed's; one linked by older rules is reported, keeps serving, and is linked again in place (its link
keys from the stored records, its clusters with the admins' decisions kept); an older edufed lowers a newer one's."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from indexer.backends.base import SearchQuery
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.es_analysis import index_meta
from indexer.backends.es_bulk import BulkOptions
from indexer.backends.es_mapping import LINKAGE_META, index_template, mappings, record_document
from indexer.linkage import FixedDecisions, LinkDecision, cluster_id_for
from indexer.linkage.incremental import Linker
from indexer.linkage.version import LINKAGE_VERSION, UNRECORDED
from tests.integration.cli.test_linkage_version_cli import records
from tests.support.noida import elasticsearch_engine, test_alias

FAST = BulkOptions(initial_backoff=0.01, max_backoff=0.05)
DECISIONS = FixedDecisions([LinkDecision("a:shufa", "b:shufa", "split", "key:admin"),
                            LinkDecision("a:tea", "b:photo", "join", "key:admin")])  # fmt: skip


@pytest.fixture(scope="module")
def engine_url() -> Iterator[str]:
    with elasticsearch_engine() as url:
        yield url


def older_index(url: str) -> str:
    """An alias over an index as an edufed before linkage versions linked it: no version; the channel-labelled and
    site-labelled copies keyed apart from their originals, the two parts of a course line in one cluster."""
    alias = test_alias()
    client = Elasticsearch(url)
    try:
        old = mappings()
        del old["_meta"][LINKAGE_META]
        settings = index_template(alias=alias, replicas=0)["template"]["settings"]
        client.indices.create(index=f"{alias}-v1", mappings=old, settings=settings)
        client.indices.update_aliases(
            actions=[{"add": {"index": f"{alias}-v1", "alias": alias, "is_write_index": True}}]
        )
        merged = cluster_id_for(["a:theory", "b:practice"])
        for record in records():
            if record.uid in ("a:theory", "b:practice"):
                record = record.model_copy(update={"cluster_id": merged})
            document = record_document(record.model_copy(update={"content_hash": record.compute_hash()}))
            if record.uid in ("a:sax", "b:sax", "a:shufa", "b:shufa"):
                document["link_keys"] = [f"nolder-{record.uid}"]
            client.index(index=alias, id=record.uid, document=document)
        client.indices.refresh(index=alias)
    finally:
        client.close()
    return alias


def cluster_ids(backend: ElasticsearchBackend) -> dict[str, str | None]:
    found = {}
    for record in records():
        view = backend.cluster_of(record.uid)
        found[record.uid] = view.cluster_id if view else None
    return found


def together(found: dict[str, str | None], a: str, b: str) -> bool:
    return found[a] is not None and found[a] == found[b]


def test_a_new_index_says_this_edufeds_linkage(engine_url: str) -> None:
    backend = ElasticsearchBackend(engine_url, alias=test_alias(), replicas=0, bulk=FAST)
    try:
        backend.upsert(records())
        state = backend.linkage_state()
        assert (state.status, state.index_version, state.notice) == ("current", LINKAGE_VERSION, None)
        assert together(cluster_ids(backend), "a:sax", "b:sax")
    finally:
        backend.drop()
        backend.close()


def test_an_older_linked_index_is_reported_and_linked_again_in_place(engine_url: str) -> None:
    alias = older_index(engine_url)
    backend = ElasticsearchBackend(engine_url, alias=alias, replicas=0, bulk=FAST, linker=Linker(DECISIONS))
    try:
        state = backend.linkage_state()
        assert (state.status, state.index_version, state.records) == ("older", UNRECORDED, len(records()))
        assert state.notice is not None and "edufed reindex --links-only" in state.notice
        before = cluster_ids(backend)
        assert not together(before, "a:sax", "b:sax") and together(before, "a:theory", "b:practice")
        assert backend.search(SearchQuery(q="萨克斯")).total == 4  # it keeps serving
        seen: list[int] = []
        linked = backend.relink_all(on_coded=seen.append)
        after = cluster_ids(backend)
        assert together(after, "a:sax", "b:sax")  # the new rules join them
        assert not together(after, "a:theory", "b:practice")  # and split these
        assert not together(after, "a:shufa", "b:shufa")  # the admin's split holds
        assert together(after, "a:tea", "b:photo")  # the admin's join holds
        assert linked == sum(1 for c in after.values() if c)
        stored = backend.get("b:sax")
        assert stored is not None and stored.cluster_id == after["b:sax"]
        assert backend.linkage_state().status == "current"
        assert index_meta(backend.client, backend.current_index())[LINKAGE_META] == LINKAGE_VERSION
    finally:
        backend.drop()
        backend.close()


def test_an_older_edufed_lowers_a_newer_linkage_and_says_so(engine_url: str, caplog: pytest.LogCaptureFixture) -> None:
    alias = test_alias()
    backend = ElasticsearchBackend(engine_url, alias=alias, replicas=0, bulk=FAST)
    try:
        backend.upsert(records())
        meta = index_meta(backend.client, backend.current_index())
        backend.client.indices.put_mapping(index=backend.current_index(), meta={**meta, LINKAGE_META: 99})
        with caplog.at_level(logging.WARNING):
            again = ElasticsearchBackend(engine_url, alias=alias, replicas=0, bulk=FAST)
        try:
            assert again.linkage_state().status == "current"
        finally:
            again.close()
        assert "record linkage version 99, newer than this edufed's" in caplog.text
    finally:
        backend.drop()
        backend.close()
