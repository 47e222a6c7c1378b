"""Two real `edufed serve` processes on one PostgreSQL: one run of a source at a time, take-over on a crash."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine

from crawlers.schedule import holder_pid
from crawlers.state import RunRecord, StateStore
from tests.integration.scheduler.conftest import GOOD_ITEMS, api_source, wait_until
from tests.integration.state.conftest import drop_schema, postgres_schema_url
from tests.support.http_server import FixtureServer, Reply
from tests.support.serve_process import serve_process
from tests.support.settings import LOOPBACK

SOURCE = "shared_feed"


@pytest.fixture
def postgres_url(postgres_admin: Engine) -> Iterator[str]:
    schema, url = postgres_schema_url(postgres_admin)
    try:
        yield url
    finally:
        drop_schema(postgres_admin, schema)


def _environment(tmp_path: Path, url: str, server: FixtureServer) -> dict[str, str]:
    config = api_source(server, SOURCE, schedule={"interval_minutes": 1440, "jitter_seconds": 0})
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"sources": [config.model_dump(mode="json")]}, allow_unicode=True))
    return {
        "EDUFED_DATA_DIR": str(tmp_path / "data"),
        "EDUFED_SOURCES_FILE": str(sources),
        "EDUFED_STATE_DB_URL": url,
        "EDUFED_SCHEDULER__HARVEST_ON_START": "true",
        "EDUFED_SCHEDULER__LEASE_TTL_SECONDS": "2",
        "EDUFED_HTTP__RETRIES": "0",
        "EDUFED_HTTP__TIMEOUT_SECONDS": "300",
        "EDUFED_HTTP__ALLOW_PRIVATE_HOSTS": json.dumps(LOOPBACK),
    }


def _runs(store: StateStore) -> list[RunRecord]:
    return sorted(store.runs.find(source_id=SOURCE), key=lambda run: run.started_at)


def test_two_services_on_one_postgres_never_overlap_and_the_survivor_takes_over(
    tmp_path: Path, postgres_url: str, http_server: FixtureServer
) -> None:
    body = json.dumps({"data": {"items": GOOD_ITEMS}}).encode()
    # The first request hangs (the platform stalls); later ones answer at once.
    http_server.route(f"/{SOURCE}/items", responses=[Reply(body=body, delay=600), Reply(body=body)])
    env = _environment(tmp_path, postgres_url, http_server)
    with serve_process(env) as first, serve_process(env) as second, StateStore.open(postgres_url) as store:
        pids = {first.process.pid: first, second.process.pid: second}
        lease = wait_until(lambda: store.leases.get(SOURCE), what="a lease on the source")
        owner = holder_pid(lease.holder)
        assert owner in pids
        running = wait_until(lambda: [r for r in _runs(store) if r.status == "running"], what="the first run")
        survivor = second if owner == first.process.pid else first
        survivor.wait_for_line(re.compile(rf"no start-up run of {SOURCE}"), timeout=60)
        # the owner's run child asks for the list (and gets the stalling reply) once it has started up
        wait_until(lambda: http_server.requests_for(f"/{SOURCE}/items"), what="the owner's list request")
        assert len(http_server.requests_for(f"/{SOURCE}/items")) == 1  # the other process did not run it too

        pids[owner].process.kill()  # dies mid-run, without releasing its lease
        pids[owner].process.wait()

        def taken_over() -> list[RunRecord]:
            return [r for r in _runs(store) if r.trigger == "retry" and r.status != "running"]

        retry = wait_until(taken_over, timeout=90, what="the survivor's take-over run")[0]
        runs = _runs(store)
    assert retry.status == "succeeded" and retry.counts.new == len(GOOD_ITEMS)
    assert retry.holder is not None and holder_pid(retry.holder) == survivor.process.pid
    dead = next(r for r in runs if r.id == running[0].id)
    assert dead.status == "failed" and dead.error_type == "RunAbandoned"
    assert [r.id for r in runs] == [dead.id, retry.id]
    assert dead.finished_at is not None and dead.finished_at <= retry.started_at  # never two at once
    assert len(http_server.requests_for(f"/{SOURCE}/items")) == 2
