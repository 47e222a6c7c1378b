"""`/metrics` in Prometheus text format: the values follow the runs, the index, holds and HTTP errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.admin.conftest import AdminSite
from tests.integration.scheduler.conftest import BAD_ITEMS, GOOD_ITEMS, serve_items


def scrape(site: AdminSite) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics as {(name, sorted labels): value}."""
    with httpx.Client(base_url=site.url, timeout=30) as client:
        answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_metrics_change_with_runs_holds_and_errors(
    site: AdminSite, admin: httpx.Client, run_source: Callable[[str], dict[str, Any]]
) -> None:
    source_id = site.register("feed", items=GOOD_ITEMS + BAD_ITEMS)
    before = scrape(site)
    assert value(before, "edufed_harvest_runs_total", source=source_id, status="partial") is None
    assert value(before, "edufed_records", source=source_id) == 0
    assert value(before, "edufed_source_freshness_seconds", source=source_id) is None

    run = run_source(source_id)
    after = scrape(site)
    assert value(after, "edufed_harvest_runs_total", source=source_id, status="partial") == 1
    assert value(after, "edufed_records", source=source_id) == len(GOOD_ITEMS)
    assert value(after, "edufed_harvest_run_duration_seconds_count", source=source_id) == 1
    assert value(after, "edufed_harvest_run_duration_seconds_sum", source=source_id) == run["duration_seconds"]
    assert (value(after, "edufed_source_freshness_seconds", source=source_id) or -1) >= 0

    serve_items(site.platform, source_id, [], status=502)
    run_source(source_id)
    failed = scrape(site)
    assert value(failed, "edufed_harvest_runs_total", source=source_id, status="failed") == 1
    assert value(failed, "edufed_harvest_http_errors_total", source=source_id, status="502") == 1
    assert value(failed, "edufed_source_consecutive_failures", source=source_id) == 1
    assert value(failed, "edufed_harvest_run_duration_seconds_count", source=source_id) == 2

    assert value(failed, "edufed_held_deletions_pending", source=source_id) == 0
    site.store.holds.create(source_id, [f"{source_id}:c1"], run_id=run["id"], reason="vanished")
    assert value(scrape(site), "edufed_held_deletions_pending", source=source_id) == 1


def test_metrics_count_error_responses_by_status(site: AdminSite) -> None:
    before = value(scrape(site), "edufed_http_errors_total", status="404") or 0
    with httpx.Client(base_url=site.url, timeout=30) as client:
        for _ in range(3):
            assert client.get("/api/v1/records/nothing:here").status_code == 404
        assert client.get("/api/v1/runs").status_code == 401
    after = scrape(site)
    assert value(after, "edufed_http_errors_total", status="404") == before + 3
    assert value(after, "edufed_http_errors_total", status="401") == 1
