"""An Elasticsearch index says which theme rules classified its documents (the mapping's `_meta`): a new one this
edufed's; one classified by other rules is reported (the backend, `edufed status`), keeps serving, and is classified
again in place by `edufed reindex --themes-only`: exactly the documents whose themes or evidence differ are
updated, a theme filter then finds them, and the version is recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from config.loader import load_themes
from indexer.backends.base import SearchQuery
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.es_bulk import BulkOptions
from indexer.backends.es_mapping import THEMES_META, index_template, mappings, record_document
from indexer.record import Record
from indexer.themes_version import UNRECORDED, Reclassifier
from tests.integration.cli.test_themes_version_cli import OURS, records, stale
from tests.support.cli import edufed, no_sources_config
from tests.support.noida import elasticsearch_engine, test_alias

FAST = BulkOptions(initial_backoff=0.01, max_backoff=0.05)


@pytest.fixture(scope="module")
def engine_url() -> Iterator[str]:
    with elasticsearch_engine() as url:
        yield url


def older_index(url: str) -> str:
    """An alias over an index as an edufed before themes versions wrote it: no version, the calligraphy course
    under 职业技能 alone and the taiji course with other evidence (tests.integration.cli.test_themes_version_cli)."""
    alias = test_alias()
    client = Elasticsearch(url)
    try:
        old = mappings()
        del old["_meta"][THEMES_META]
        settings = index_template(alias=alias, replicas=0)["template"]["settings"]
        client.indices.create(index=f"{alias}-v1", mappings=old, settings=settings)
        client.indices.update_aliases(
            actions=[{"add": {"index": f"{alias}-v1", "alias": alias, "is_write_index": True}}]
        )
        for record in records():
            client.index(index=alias, id=record.uid, document=record_document(stale(record)))
        client.indices.refresh(index=alias)
    finally:
        client.close()
    return alias


def settings_file(tmp_path: Path, url: str, alias: str) -> Path:
    return no_sources_config(
        tmp_path, f"index:\n  backend: elasticsearch\n  url: {url}\n  es_alias: {alias}\n  es_replicas: 0\n"
    )


def themed(backend: ElasticsearchBackend, theme: str) -> set[str]:
    return {hit.record.uid for hit in backend.search(SearchQuery(themes=(theme,), size=50)).hits}


def payload_hashes(backend: ElasticsearchBackend) -> dict[str, str]:
    return {r.uid: r.content_hash for r in backend.iter_records()}


def test_a_new_index_says_this_edufeds_themes(engine_url: str) -> None:
    backend = ElasticsearchBackend(engine_url, alias=test_alias(), replicas=0, bulk=FAST)
    try:
        backend.upsert(records())
        assert backend.themes_recorded() == OURS
    finally:
        backend.drop()
        backend.close()


def test_documents_classified_by_other_rules_are_reported_and_classified_again_in_place(
    engine_url: str, tmp_path: Path
) -> None:
    alias = older_index(engine_url)
    settings = settings_file(tmp_path, engine_url, alias)
    backend = ElasticsearchBackend(engine_url, alias=alias, replicas=0, bulk=FAST)
    try:
        assert backend.themes_recorded() == UNRECORDED
        code, out, _ = edufed(settings, "status", "--json")
        themes = json.loads(out)["themes"]
        assert code == 1 and (themes["status"], themes["records"]) == ("older", len(records()))
        assert "edufed reindex --themes-only" in themes["notice"]
        assert "a:shufa" not in themed(backend, "闲暇生活")  # it keeps serving, with the old themes
        before = payload_hashes(backend)

        code, out, err = edufed(settings, "reindex", "--themes-only")
        assert code == 0, err
        assert f"{len(records())} records classified again, 2 of them written with new themes" in out
        after = payload_hashes(backend)
        assert {uid for uid in after if after[uid] != before[uid]} == {"a:shufa", "a:taiji"}
        for record in records():
            stored = backend.get(record.uid)
            assert stored is not None and (stored.themes, stored.theme_evidence) == (
                record.themes,
                record.theme_evidence,
            )
        assert "a:shufa" in themed(backend, "闲暇生活") and "a:shufa" not in themed(backend, "职业技能")
        assert backend.themes_recorded() == OURS
        code, out, _ = edufed(settings, "status")
        assert code == 0 and f"classified by version {OURS}, this edufed's is {OURS} (current)" in out
    finally:
        backend.drop()
        backend.close()


def test_a_document_a_harvest_writes_meanwhile_is_left_as_written(engine_url: str) -> None:
    """A document is updated only if it is still the one read (its sequence number): a newer record written between
    the read and the update is not overwritten with the old one."""
    alias = older_index(engine_url)
    backend = ElasticsearchBackend(engine_url, alias=alias, replicas=0, bulk=FAST)
    reclassify = Reclassifier(load_themes())
    newer = stale(next(r for r in records() if r.uid == "a:shufa"))
    newer = newer.model_copy(update={"title": "书法入门（新版）"})
    newer = newer.model_copy(update={"content_hash": newer.compute_hash()})

    def meanwhile(record: Record) -> Record | None:
        if record.uid == "a:shufa":  # read by the pass: a harvest writes its newer copy now
            assert backend.upsert([newer]).written == 1
        return reclassify(record)

    try:
        done = backend.reclassify_all(meanwhile, version=reclassify.version)
        assert (done.read, done.written) == (5, 1)  # a:taiji; a:shufa was the harvest's to write
        stored = backend.get("a:shufa")
        assert stored is not None and stored.title == "书法入门（新版）" and stored.themes == ["职业技能"]
    finally:
        backend.drop()
        backend.close()
