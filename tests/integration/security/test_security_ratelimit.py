"""Dry-runs and registrations are rate-limited per key: 429 with Retry-After, other keys unaffected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import OperatorSettings
from search_api.http.ratelimit import DRY_RUN, RateLimitedError, RateLimits
from tests.integration.operator.site import COURSES, OperatorSite, course_source, make_settings, operator_site
from tests.support.http_server import FixtureServer


@pytest.fixture
def strict_site(tmp_path: Path, http_server: FixtureServer) -> Iterator[OperatorSite]:
    settings = make_settings(tmp_path, dry_runs_per_minute=2, registrations_per_hour=2)
    with operator_site(tmp_path, http_server, settings=settings) as running:
        yield running


def test_dry_runs_beyond_the_limit_answer_429_with_retry_after(strict_site: OperatorSite) -> None:
    body = course_source(strict_site.serve_courses("/c", COURSES))
    with strict_site.client(strict_site.operator_key) as operator, strict_site.client(strict_site.other_key) as other:
        assert [operator.post("/api/v1/sources/dry-run", json=body).status_code for _ in range(2)] == [200, 200]
        refused = operator.post("/api/v1/sources/dry-run", json=body)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        theirs = other.post("/api/v1/sources/dry-run", json={**body, "platform": "other_platform"})
        assert theirs.status_code == 200
    assert len(strict_site.platform.requests_for("/c")) == 3


def test_registrations_beyond_the_limit_answer_429_and_save_nothing(strict_site: OperatorSite) -> None:
    url = strict_site.serve_courses("/c", COURSES)
    with strict_site.client(strict_site.operator_key) as operator:
        for source_id in ("first", "second"):
            assert operator.post("/api/v1/sources", json=course_source(url, f"src_{source_id}")).status_code == 201
        refused = operator.post("/api/v1/sources", json=course_source(url, "src_third"))
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 60
    assert strict_site.store.sources.ids() == ["src_first", "src_second"]


def test_the_window_slides() -> None:
    now = [0.0]
    limits = RateLimits(OperatorSettings(dry_runs_per_minute=1), clock=lambda: now[0])
    limits.check(DRY_RUN, "k1")
    with pytest.raises(RateLimitedError) as refused:
        limits.check(DRY_RUN, "k1")
    assert refused.value.retry_after == 60
    now[0] = 60.5
    limits.check(DRY_RUN, "k1")
