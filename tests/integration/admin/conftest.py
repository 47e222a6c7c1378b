"""Fixtures of the admin API tests: a real server with a state database, a running scheduler and keys.

`admin_site` is also used by the browser tests of the admin pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from config.settings import Settings
from crawlers.schedule import HarvestScheduler
from crawlers.state import StateStore
from indexer.backends.sqlite import SqliteBackend
from tests.integration.scheduler.conftest import GOOD_ITEMS, api_source, make_settings, serve_items, wait_until
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401
from tests.support.live_service import live_service


@dataclass
class AdminSite:
    """The server, its parts, an admin and an operator key, and the fixture platform."""

    url: str
    settings: Settings
    store: StateStore
    backend: SqliteBackend
    scheduler: HarvestScheduler
    admin_key: str
    operator_key: str
    platform: FixtureServer

    def register(self, source_id: str, *, items: list[dict[str, Any]] | None = None, **changes: Any) -> str:
        """Register a fixture API source serving `items` (default: five good ones) and schedule it."""
        serve_items(self.platform, source_id, GOOD_ITEMS if items is None else items)
        self.store.sources.add(api_source(self.platform, source_id, **changes), created_by="test")
        self.scheduler.sync()
        return source_id


@contextmanager
def admin_site(tmp_path: Path, platform: FixtureServer) -> Iterator[AdminSite]:
    """A server with a SQLite state database and index in tmp_path, a running scheduler and two keys."""
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'state.sqlite3'}")
    with live_service(settings, name="admin-test") as service:
        operator = service.store.keys.create(role="operator", platform="test_platform").key
        yield AdminSite(service.url, settings, service.store, service.backend, service.scheduler, service.admin_key,
                        operator, platform)  # fmt: skip


@pytest.fixture
def site(tmp_path: Path, http_server: FixtureServer) -> Iterator[AdminSite]:
    with admin_site(tmp_path, http_server) as running:
        yield running


@pytest.fixture
def admin(site: AdminSite) -> Iterator[httpx.Client]:
    """An HTTP client sending the admin key."""
    headers = {"Authorization": f"Bearer {site.admin_key}"}
    with httpx.Client(base_url=site.url, timeout=30, headers=headers) as client:
        yield client


def finished(client: httpx.Client, run_id: str) -> dict[str, Any]:
    """GET a run until it has a final status."""

    def done() -> dict[str, Any] | None:
        body: dict[str, Any] = client.get(f"/api/v1/runs/{run_id}").json()
        return body if body["status"] != "running" else None

    result: dict[str, Any] = wait_until(done, what=f"run {run_id} to finish")
    return result


@pytest.fixture
def run_source(site: AdminSite, admin: httpx.Client) -> Callable[[str], dict[str, Any]]:
    """Run a source through the API and return the finished run (waits for its lease to be released)."""

    def run(source_id: str) -> dict[str, Any]:
        wait_until(lambda: site.store.leases.get(source_id) is None, what="the previous run's end")
        answer = admin.post(f"/api/v1/sources/{source_id}/runs")
        assert answer.status_code == 202, answer.text
        body = finished(admin, answer.json()["run_id"])
        wait_until(lambda: site.store.leases.get(source_id) is None, what="the run's end")
        return body

    return run
