"""A live edufed service for the operator and security tests: state database, index, scheduler, three keys.

The fixture platform (a FixtureServer on 127.0.0.1) is reachable because the settings allowlist 127.0.0.1;
the SSRF tests build their own service with an empty allowlist.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from config.settings import OperatorSettings, SchedulerSettings, Settings
from crawlers.schedule import HarvestScheduler
from crawlers.state import StateStore
from indexer.backends.sqlite import SqliteBackend
from tests.integration.state.conftest import drop_schema, postgres_schema_url
from tests.support.http_server import FixtureServer
from tests.support.live_service import live_service
from tests.support.settings import LOOPBACK, local_http

PLATFORM = "test_platform"
OTHER_PLATFORM = "other_platform"
COURSES = [
    {"id": "c1", "name": "书法入门第1讲", "summary": "毛笔书法基础", "time": "2024-03-01"},
    {"id": "c2", "name": "太极拳养生", "summary": "老年人健身养生", "time": "2024-03-02"},
    {"id": "c3", "name": "智能手机防诈骗", "summary": "识别电信诈骗，保护财产安全", "time": "2024-03-03"},
]


# The form mapping of the COURSES list as the operator pages take it (YAML).
MAPPING = """items_path: data.items
id_field: id
url_template: https://courses.example.edu.cn/course/{id}
obey_robots: false
fields:
  title: name
  description: summary
  published_at: time
"""


def make_settings(data_dir: Path, *, allow: list[str] | None = None, **operators: Any) -> Settings:
    """Fast settings: no politeness delay, no retries, the given allowlist (default 127.0.0.1)."""
    http = local_http(timeout_seconds=10, allow_private_hosts=LOOPBACK if allow is None else allow)
    limits = {"dry_run_seconds": 20.0, **operators}
    state = f"sqlite:///{data_dir / 'state.sqlite3'}"
    scheduler = SchedulerSettings(lease_ttl_seconds=3.0)
    return Settings(data_dir=data_dir, http=http, state_db_url=state, scheduler=scheduler,
                    operators=OperatorSettings(**limits))  # fmt: skip


@dataclass
class OperatorSite:
    """The running service, its parts, the keys and the fixture platform."""

    url: str
    settings: Settings
    store: StateStore
    backend: SqliteBackend
    scheduler: HarvestScheduler
    admin_key: str
    operator_key: str
    other_key: str
    platform: FixtureServer

    def client(self, key: str | None) -> httpx.Client:
        """An HTTP client sending `key` as the bearer key (none when None)."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, timeout=60, headers=headers)

    def serve_courses(self, path: str, items: list[dict[str, Any]], **route: Any) -> str:
        """Serve a JSON course list on the fixture platform; its URL."""
        self.platform.route(path, json={"data": {"items": items}}, **route)
        return self.platform.url(path)


def course_source(url: str, source_id: str = "my_courses", **changes: Any) -> dict[str, Any]:
    """A json_api source body for a course list served by `serve_courses`."""
    body: dict[str, Any] = {
        "id": source_id, "kind": "json_api", "name": "我的课程", "platform": PLATFORM, "platform_name": "测试平台",
        "url": url, "items_path": "data.items", "id_field": "id",
        "url_template": "https://courses.example.edu.cn/course/{id}",
        "fields": {"title": "name", "description": "summary", "published_at": "time"},
        "obey_robots": False, "enabled": False, "schedule": {"interval_minutes": 60, "jitter_seconds": 0},
    }  # fmt: skip
    body.update(changes)
    return body


@contextmanager
def operator_site(
    tmp_path: Path, platform: FixtureServer, *, settings: Settings | None = None
) -> Iterator[OperatorSite]:
    """A service over a SQLite state database and index in tmp_path with a started scheduler."""
    settings = settings or make_settings(tmp_path)
    with live_service(settings, name=f"operator-test-{tmp_path.name}") as service:
        keys = service.store.keys
        operator = keys.create(role="operator", platform=PLATFORM, label="测试平台运营").key
        other = keys.create(role="operator", platform=OTHER_PLATFORM).key
        yield OperatorSite(service.url, settings, service.store, service.backend, service.scheduler,
                           service.admin_key, operator, other, platform)  # fmt: skip


# Fixtures shared by the operator and security tests (their conftest modules import these).


@pytest.fixture
def site(tmp_path: Path, http_server: FixtureServer) -> Iterator[OperatorSite]:
    with operator_site(tmp_path, http_server) as running:
        yield running


@pytest.fixture
def operator(site: OperatorSite) -> Iterator[httpx.Client]:
    """A client with the test_platform operator key."""
    with site.client(site.operator_key) as client:
        yield client


@pytest.fixture
def admin(site: OperatorSite) -> Iterator[httpx.Client]:
    with site.client(site.admin_key) as client:
        yield client


@pytest.fixture
def other(site: OperatorSite) -> Iterator[httpx.Client]:
    """A client with another platform's operator key."""
    with site.client(site.other_key) as client:
        yield client


@pytest.fixture(name="postgres_site")
def postgres_site_fixture(
    request: pytest.FixtureRequest, tmp_path: Path, http_server: FixtureServer
) -> Iterator[OperatorSite]:
    """The service with its state in a fresh PostgreSQL schema (import it with `postgres_admin` beside it)."""
    admin_engine: Engine = request.getfixturevalue("postgres_admin")
    schema, url = postgres_schema_url(admin_engine)
    try:
        settings = make_settings(tmp_path).model_copy(update={"state_db_url": url})
        with operator_site(tmp_path, http_server, settings=settings) as running:
            yield running
    finally:
        drop_schema(admin_engine, schema)
