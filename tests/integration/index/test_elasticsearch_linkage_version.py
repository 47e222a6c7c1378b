"""An Elasticsearch index says which record linkage made its link keys and clusters (the mapping's `_meta`): a new
one this edufed's; one linked by older rules is reported (the backend, `edufed status`), keeps serving, and is linked
again in place by `edufed reindex --links-only` (its link keys from the stored records, its clusters with the admins'
decisions in the state database kept); an older edufed lowers a newer one's."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from config.loader import load_settings
from crawlers.state.store import StateStore
from indexer.backends.base import SearchQuery
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.es_analysis import index_meta
from indexer.backends.es_bulk import BulkOptions
from indexer.backends.es_mapping import LINKAGE_META, index_template, mappings, record_document
from indexer.linkage import cluster_id_for
from indexer.linkage.version import LINKAGE_VERSION, UNRECORDED
from tests.integration.cli.test_linkage_version_cli import records
from tests.support.cli import edufed, no_sources_config
from tests.support.noida import elasticsearch_engine, test_alias

FAST = BulkOptions(initial_backoff=0.01, max_backoff=0.05)
DECISIONS = [("a:shufa", "b:shufa", "split"), ("a:tea", "b:photo", "join")]


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


def settings_file(tmp_path: Path, url: str, alias: str) -> Path:
    return no_sources_config(
        tmp_path, f"index:\n  backend: elasticsearch\n  url: {url}\n  es_alias: {alias}\n  es_replicas: 0\n"
    )


def test_an_older_linked_index_is_reported_and_linked_again_in_place(engine_url: str, tmp_path: Path) -> None:
    alias = older_index(engine_url)
    backend = ElasticsearchBackend(engine_url, alias=alias, replicas=0, bulk=FAST)
    try:
        state = backend.linkage_state()
        assert (state.status, state.index_version, state.records) == ("older", UNRECORDED, len(records()))
        assert state.notice is not None and "edufed reindex --links-only" in state.notice
        code, out, _ = edufed(settings_file(tmp_path, engine_url, alias), "status", "--json")
        assert code == 1 and json.loads(out)["linkage"]["status"] == "older"
        before = cluster_ids(backend)
        assert not together(before, "a:sax", "b:sax") and together(before, "a:theory", "b:practice")
        assert backend.search(SearchQuery(q="萨克斯")).total == 4  # it keeps serving
        store = StateStore.for_settings(load_settings(settings_file(tmp_path, engine_url, alias)))
        try:
            for a, b, kind in DECISIONS:
                store.links.decide(a, b, kind=kind, by="key:admin")
        finally:
            store.close()
        code, out, err = edufed(settings_file(tmp_path, engine_url, alias), "reindex", "--links-only")
        assert code == 0, err
        assert "clustered at once" in err and f"{len(records())} records linked again" in out
        linked = int(out.split(", ")[1].split()[0])
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
        code, out, _ = edufed(settings_file(tmp_path, engine_url, alias), "status")
        assert code == 0 and f"linked by version {LINKAGE_VERSION}, this edufed's is {LINKAGE_VERSION} (current)" in out
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
