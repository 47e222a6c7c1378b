"""The source registry: seeding from sources.yaml, operator additions, pause/resume, removal."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from config.source_models import RssSourceConfig
from crawlers.state.errors import SourceExistsError, StateNotFoundError, StoredConfigInvalidError
from crawlers.state.runs import RunOutcome
from crawlers.state.schema import sources


def test_added_source_reads_back_with_its_validated_config(store, make_source):
    config = make_source("shequ_news", platform="shequ", name="社区教育动态", encoding="gb18030")
    stored = store.sources.add(config, created_by="key:abc")
    again = store.sources.get("shequ_news")
    assert again == stored
    assert isinstance(again.config, RssSourceConfig)
    assert again.config == config
    assert (again.platform, again.kind, again.name, again.created_by) == (
        "shequ",
        "rss",
        "社区教育动态",
        "key:abc",
    )
    assert again.enabled and not again.paused and again.schedulable


def test_adding_a_taken_id_is_refused(store, make_source):
    store.sources.add(make_source("dup"), created_by="config")
    with pytest.raises(SourceExistsError) as caught:
        store.sources.add(make_source("dup", name="另一个"), created_by="key:x")
    assert caught.value.source_id == "dup"
    assert store.sources.get("dup").name == "dup 动态"


def test_seed_adds_updates_and_reports_conflicts_and_leftovers(store, make_source):
    first = store.sources.seed([make_source("src_a"), make_source("src_b"), make_source("gone")])
    assert (first.added, first.updated, first.unchanged) == (["src_a", "src_b", "gone"], [], [])
    store.sources.add(make_source("api_owned"), created_by="key:op1")
    second = store.sources.seed(
        [
            make_source("src_a"),
            make_source("src_b", name="改名"),
            make_source("api_owned", name="覆盖"),
            make_source("src_c"),
        ]
    )
    assert second.added == ["src_c"]
    assert second.updated == ["src_b"]
    assert second.unchanged == ["src_a"]
    assert second.conflicts == ["api_owned"]
    assert second.not_in_config == ["gone"]
    assert store.sources.get("src_b").name == "改名"
    assert store.sources.get("api_owned").name == "api_owned 动态"
    assert store.sources.ids() == ["api_owned", "gone", "src_a", "src_b", "src_c"]


def test_seed_keeps_a_paused_source_paused(store, make_source):
    store.sources.seed([make_source("src_a")])
    store.sources.set_paused("src_a", True)
    store.sources.seed([make_source("src_a", name="新名")])
    stored = store.sources.get("src_a")
    assert stored.paused and stored.name == "新名" and not stored.schedulable


def test_find_filters_by_platform_and_enabled(store, make_source):
    store.sources.seed(
        [
            make_source("x1", platform="ouchn"),
            make_source("x2", platform="ouchn", enabled=False),
            make_source("y1"),
        ]
    )
    assert [s.id for s in store.sources.find(platform="ouchn")] == ["x1", "x2"]
    assert [s.id for s in store.sources.find(enabled=True)] == ["x1", "y1"]


def test_pause_and_resume_flip_only_the_pause_switch(store, registered):
    paused = store.sources.set_paused(registered, True)
    assert paused.paused and paused.enabled and not paused.schedulable
    resumed = store.sources.set_paused(registered, False)
    assert not resumed.paused and resumed.schedulable
    assert resumed.updated_at >= paused.updated_at


def test_replace_changes_config_and_keeps_history(store, registered, make_source):
    run = store.runs.start(registered, trigger="manual")
    store.sources.replace(make_source(registered, name="新名称", enabled=False))
    stored = store.sources.get(registered)
    assert stored.name == "新名称" and not stored.enabled
    assert store.runs.get(run.id).source_id == registered


def test_removing_a_source_removes_its_runs_and_cursors(store, registered):
    run = store.runs.start(registered, trigger="manual")
    store.runs.finish(run.id, RunOutcome(status="succeeded"))
    store.cursors.put(registered, {"etag": '"v1"'})
    store.sources.remove(registered)
    with pytest.raises(StateNotFoundError):
        store.sources.get(registered)
    with pytest.raises(StateNotFoundError):
        store.runs.get(run.id)
    assert store.cursors.get(registered) == {}


def test_unknown_source_is_a_not_found_error(store):
    with pytest.raises(StateNotFoundError) as caught:
        store.sources.set_paused("nope", True)
    assert (caught.value.kind, caught.value.key) == ("source", "nope")


def test_a_stored_config_that_no_longer_validates_is_reported_with_its_problems(store, registered):
    with store.engine.begin() as connection:
        connection.execute(
            update(sources).where(sources.c.id == registered).values(config={"kind": "rss", "id": registered})
        )
    with pytest.raises(StoredConfigInvalidError) as caught:
        store.sources.get(registered)
    assert caught.value.source_id == registered
    assert any(problem.startswith("rss.url") for problem in caught.value.problems)
