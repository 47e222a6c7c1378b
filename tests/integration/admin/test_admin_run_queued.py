"""Run now answers with the run's id at once, however long its harvest takes to begin (here: it waits for the
only run slot, which a run stalled on its platform holds), and the run's link answers straight away."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.admin.conftest import finished
from tests.integration.scheduler.conftest import GOOD_ITEMS, api_source, make_settings, serve_items, wait_until
from tests.integration.scheduler.test_run_now_queued import stall
from tests.support.http_server import FixtureServer
from tests.support.live_service import LiveService, live_service


@pytest.fixture
def one_slot(tmp_path: Path, http_server: FixtureServer) -> Iterator[tuple[LiveService, threading.Event]]:
    """The service with one run slot; `stalled_feed` holds it until the event is set."""
    gate = threading.Event()
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'state.sqlite3'}", max_concurrent_runs=1)
    try:
        with live_service(settings, name="one-slot") as service:
            for source_id in ("stalled_feed", "waiting_feed"):
                service.store.sources.add(api_source(http_server, source_id), created_by="test")
            stall(http_server, "stalled_feed", gate)
            serve_items(http_server, "waiting_feed", GOOD_ITEMS)
            service.scheduler.sync()
            yield service, gate
            gate.set()
    finally:
        gate.set()


def test_run_now_answers_the_run_id_at_once_while_the_harvest_waits_to_begin(
    one_slot: tuple[LiveService, threading.Event],
) -> None:
    service, gate = one_slot
    headers = {"Authorization": f"Bearer {service.admin_key}"}
    with httpx.Client(base_url=service.url, timeout=60, headers=headers) as admin:
        first = admin.post("/api/v1/sources/stalled_feed/runs").json()
        wait_until(lambda: not service.store.runs.get(first["run_id"]).queued, what="the stalled run to take the slot")
        answer = admin.post("/api/v1/sources/waiting_feed/runs")
        body = answer.json()
        assert answer.status_code == 202 and body["run_id"], body  # before: 10 s later, {"run_id": null}
        assert body["status"] == "running" and answer.headers["Location"] == body["links"]["run"]
        shown = admin.get(body["links"]["run"])
        assert shown.status_code == 200
        assert (shown.json()["id"], shown.json()["status"], shown.json()["trigger"]) == (
            body["run_id"],
            "running",
            "manual",
        )
        assert service.store.runs.get(body["run_id"]).queued  # its harvest had not begun when the API answered
        listed = admin.get("/api/v1/runs", params={"source": "waiting_feed"}).json()
        assert [run["id"] for run in listed["items"]] == [body["run_id"]]
        gate.set()
        done = finished(admin, body["run_id"])
    assert (done["status"], done["counts"]["new"]) == ("succeeded", len(GOOD_ITEMS))
    assert [run.id for run in service.store.runs.find(source_id="waiting_feed")] == [body["run_id"]]
    assert service.store.runs.count_by_status()[("waiting_feed", "succeeded")] == 1
    assert ("waiting_feed", "running") not in service.store.runs.count_by_status()
    audit = service.store.audit.find(action="source.run", target="waiting_feed")
    assert len(audit) == 1 and (audit[0].details or {}).get("run_id") == body["run_id"]
