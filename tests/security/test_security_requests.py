"""Hostile request shapes get a clear 4xx in the shared error body, never a 500: numbers past what the state
database holds, JSON nested thousands deep, form posts from another site."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from search_api.params import MAX_ROW_ID
from search_api.routes.admin_pages import COOKIE as ADMIN_COOKIE
from tests.operator.site import OperatorSite, course_source, make_settings, operator_site
from tests.state.conftest import drop_schema, postgres_admin, postgres_schema_url  # noqa: F401 (a fixture)
from tests.support.http_server import FixtureServer

PAST_SQLITE = 2**63  # SQLite's INTEGER is 64 bits: Python's driver raises OverflowError for this one
PAST_POSTGRES = 2**31  # PostgreSQL's INTEGER ids are 32 bits: "integer out of range"
SOURCE = "my_courses"


def _registered(site: OperatorSite, operator: httpx.Client) -> None:
    url = site.serve_courses("/courses", [])
    assert operator.post("/api/v1/sources", json=course_source(url, SOURCE)).status_code == 201


def _big_number_requests(number: int) -> list[tuple[str, str]]:
    """(method, path) of every API route taking an integer that reaches the state database."""
    return [
        ("POST", f"/api/v1/holds/{number}/approve"),
        ("POST", f"/api/v1/holds/{number}/reject"),
        ("GET", f"/api/v1/quarantine?before={number}"),
        ("GET", f"/api/v1/sources/{SOURCE}/rejected?before={number}"),
    ]


def _assert_refused_parameter(answer: httpx.Response, field: str) -> None:
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == [field]
    assert str(MAX_ROW_ID) in error["details"][0]["reason"]


@pytest.mark.parametrize("request_index", range(4))
def test_an_id_past_sqlites_integers_is_422_naming_the_parameter(
    site: OperatorSite, operator: httpx.Client, admin: httpx.Client, request_index: int
) -> None:
    _registered(site, operator)
    method, path = _big_number_requests(PAST_SQLITE)[request_index]
    answer = admin.request(method, path)
    _assert_refused_parameter(answer, "before" if "before=" in path else "hold_id")


def test_the_hold_buttons_of_the_admin_pages_refuse_an_id_past_sqlites_integers(site: OperatorSite) -> None:
    with httpx.Client(base_url=site.url, timeout=30) as browser:
        assert browser.post("/admin/login", data={"key": site.admin_key}).status_code == 303
        form = {"csrf": ADMIN_COOKIE.csrf_token(site.admin_key), "next": "/admin"}
        answer = browser.post(f"/admin/holds/{PAST_SQLITE}/approve", data=form)
    assert answer.status_code == 422, answer.text
    assert "hold_id" in answer.text


@pytest.fixture
def postgres_site(request: pytest.FixtureRequest, tmp_path: Path, http_server: FixtureServer) -> Iterator[OperatorSite]:
    """The service with its state in a fresh PostgreSQL schema."""
    admin_engine: Engine = request.getfixturevalue("postgres_admin")
    schema, url = postgres_schema_url(admin_engine)
    try:
        settings = make_settings(tmp_path).model_copy(update={"state_db_url": url})
        with operator_site(tmp_path, http_server, settings=settings) as running:
            yield running
    finally:
        drop_schema(admin_engine, schema)


def test_an_id_past_postgresqls_integers_is_422_and_every_route_stays_up(postgres_site: OperatorSite) -> None:
    site = postgres_site
    with site.client(site.operator_key) as operator, site.client(site.admin_key) as admin:
        _registered(site, operator)
        for method, path in _big_number_requests(PAST_POSTGRES):
            _assert_refused_parameter(admin.request(method, path), "before" if "before=" in path else "hold_id")
        for method, path in _big_number_requests(MAX_ROW_ID):  # the largest id is asked for, and not found
            assert admin.request(method, path).status_code in (200, 404), path
