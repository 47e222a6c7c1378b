"""Fixtures of the scheduler tests: a state database (SQLite file or a PostgreSQL schema), fixture sources.

The PostgreSQL fixtures come from the state-store suite (integration/state/conftest.py): one fresh schema per test.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from config.settings import SchedulerSettings, Settings
from config.source_models import JsonApiSourceConfig
from crawlers.schedule import HarvestScheduler
from crawlers.state import RunRecord, StateStore
from tests.integration.state.conftest import postgres_admin, state_url_fixture  # noqa: F401
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401
from tests.support.settings import local_http

GOOD_ITEMS = [{"id": f"c{i}", "name": f"书法入门第{i}讲"} for i in range(1, 6)]
BAD_ITEMS = [{"id": "bad1"}, {"name": "没有编号的课程"}]  # no title; no id


def make_settings(data_dir: Path, state_url: str, **scheduler: Any) -> Settings:
    """Fast, quiet settings: no politeness delay, one retry, a short lease."""
    http = local_http(timeout_seconds=30)
    values: dict[str, Any] = {"lease_ttl_seconds": 3.0, "max_concurrent_runs": 4}
    values.update(scheduler)
    return Settings(data_dir=data_dir, http=http, state_db_url=state_url, scheduler=SchedulerSettings(**values))


@pytest.fixture
def settings(tmp_path: Path, state_url: str) -> Settings:
    return make_settings(tmp_path, state_url)


@pytest.fixture
def settings_factory(tmp_path: Path, state_url: str) -> Callable[..., Settings]:
    """Settings on the test database with other scheduler values."""
    return lambda **scheduler: make_settings(tmp_path, state_url, **scheduler)


@pytest.fixture
def store(settings: Settings) -> Iterator[StateStore]:
    with StateStore.for_settings(settings) as opened:
        yield opened


def api_source(server: FixtureServer, source_id: str = "fixture_api", **changes: Any) -> JsonApiSourceConfig:
    """A JSON API source reading `/items` of the fixture server."""
    values: dict[str, Any] = {
        "id": source_id,
        "kind": "json_api",
        "name": "测试接口",
        "platform": "test_platform",
        "platform_name": "测试平台",
        "url": server.url(f"/{source_id}/items"),
        "items_path": "data.items",
        "id_field": "id",
        "url_template": "https://example.edu.cn/course/{id}",
        "fields": {"title": "name"},
        "obey_robots": False,
        "schedule": {"interval_minutes": 60, "jitter_seconds": 0},
    }
    values.update(changes)
    return JsonApiSourceConfig.model_validate(values)


def serve_items(server: FixtureServer, source_id: str, items: list[dict[str, Any]], **route: Any) -> None:
    """Serve a JSON item list for a fixture source."""
    server.route(f"/{source_id}/items", json={"data": {"items": items}}, **route)


@pytest.fixture
def register(store: StateStore, http_server: FixtureServer) -> Callable[..., str]:
    """Register a fixture API source (and serve its items); returns its id."""

    def add(source_id: str = "fixture_api", *, items: list[dict[str, Any]] | None = None, **changes: Any) -> str:
        serve_items(http_server, source_id, GOOD_ITEMS if items is None else items)
        return store.sources.add(api_source(http_server, source_id, **changes), created_by="test").id

    return add


@pytest.fixture
def scheduler(settings: Settings, store: StateStore) -> Iterator[HarvestScheduler]:
    """A started scheduler, shut down after the test."""
    running = HarvestScheduler(settings=settings, store=store, name="test")
    running.start()
    try:
        yield running
    finally:
        running.shutdown()


def wait_until(check: Callable[[], Any], *, timeout: float = 60.0, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def finished_run(store: StateStore, run_id: str, *, timeout: float = 60.0) -> RunRecord:
    """The run once it has a final status."""

    def done() -> RunRecord | None:
        run = store.runs.get(run_id)
        return run if run.status != "running" else None

    result: RunRecord = wait_until(done, timeout=timeout, what=f"run {run_id} to finish")
    return result
