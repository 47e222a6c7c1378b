"""SSRF: URLs that resolve to loopback, private, link-local, metadata or other non-public addresses are refused
at registration, at dry-run and at harvest time, redirects included, after DNS, with the address pinned."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from config.loader import load_themes
from config.source_models import JsonApiSourceConfig
from crawlers.demo import demo_sources
from crawlers.errors import UrlRefusedError
from crawlers.netguard import AddressPolicy, GuardedAdapter, address_problem, allow_source_hosts
from crawlers.run import harvest
from indexer.backends.sqlite import SqliteBackend
from indexer.pipeline import RecordBuilder
from tests.integration.operator.site import COURSES, OperatorSite, course_source, make_settings, operator_site
from tests.support.http_server import FixtureServer

REFUSED_HOSTS = [
    "localhost", "127.1", "0x7f.1", "127.0.0.1", "[::1]", "169.254.169.254", "[::ffff:127.0.0.1]",
    "[::ffff:a9fe:a9fe]", "10.1.2.3", "172.16.0.1", "192.168.1.1", "0.0.0.0", "[fc00::1]", "[fe80::1]",
    "224.0.0.1", "100.100.100.200", "[64:ff9b::7f00:1]",
]  # fmt: skip


@pytest.fixture
def closed_site(tmp_path: Path, http_server: FixtureServer) -> Iterator[OperatorSite]:
    """The service with an empty allowlist: nothing on this machine may be fetched."""
    with operator_site(tmp_path, http_server, settings=make_settings(tmp_path, allow=[])) as running:
        yield running


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.255.0.9", "10.0.0.1", "172.31.255.255", "192.168.0.1", "169.254.169.254", "0.0.0.0",
     "::1", "fc00::1", "fd00:ec2::254", "fe80::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::",
     "ff02::1", "239.255.255.250", "100.64.0.1", "240.0.0.1", "::"],
)  # fmt: skip
def test_non_public_addresses_have_a_reason(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["202.108.22.5", "114.114.114.114", "2400:da00::6666"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_registration_refuses_a_url_that_resolves_to_a_non_public_address(closed_site: OperatorSite, host: str) -> None:
    body = course_source(f"http://{host}:{closed_site.platform.port}/courses")
    with closed_site.client(closed_site.operator_key) as operator:
        answer = operator.post("/api/v1/sources", json=body)
        assert answer.status_code == 422, answer.text
        detail = answer.json()["error"]["details"][0]
        assert detail["field"] == "url" and detail["reason"].startswith("refused") and "内网" in detail["reason_zh"]
        assert operator.post("/api/v1/sources/dry-run", json=body).status_code == 422
    assert closed_site.store.sources.ids() == [] and closed_site.platform.requests == []


def test_every_fetched_url_field_is_checked(closed_site: OperatorSite) -> None:
    body = {"id": "cms", "kind": "html", "name": "社区网", "platform": "test_platform", "platform_name": "测试",
            "start_urls": ["http://127.0.0.1/list"], "detail_urls": ["http://10.0.0.8/a"], "item_links": "a",
            "fields": {"title": "h1"}}  # fmt: skip
    with closed_site.client(closed_site.operator_key) as operator:
        answer = operator.post("/api/v1/sources", json=body)
    assert {d["field"] for d in answer.json()["error"]["details"]} == {"start_urls.0", "detail_urls.0"}


def test_a_saved_source_is_refused_at_harvest_time(tmp_path: Path, http_server: FixtureServer) -> None:
    http_server.route("/courses", json={"data": {"items": COURSES}})
    settings = make_settings(tmp_path, allow=[])
    config = JsonApiSourceConfig.model_validate(course_source(http_server.url("/courses")))
    backend = SqliteBackend(settings.index_path)
    try:
        report = harvest(config, settings=settings, backend=backend, builder=RecordBuilder(load_themes()))
    finally:
        backend.close()
    assert report.status == "failed" and report.error is not None and report.error.type == "UrlRefusedError"
    assert "loopback" in report.error.message and report.http_log[0]["error"].startswith("refused")
    assert http_server.requests == []


@pytest.fixture
def inner_server() -> Iterator[FixtureServer]:
    """A second local server standing for an internal service the feed must never reach."""
    with FixtureServer() as server:
        server.route("/secret", json={"data": {"items": [{"id": "s", "name": "内部数据"}]}})
        yield server


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/secret", "http://localhost:{port}/secret"])
def test_a_redirect_from_an_allowed_server_to_a_private_address_is_refused(
    tmp_path: Path, http_server: FixtureServer, inner_server: FixtureServer, target: str
) -> None:
    http_server.route("/courses", status=302, headers={"Location": target.format(port=inner_server.port)})
    settings = make_settings(tmp_path, allow=[f"127.0.0.1:{http_server.port}"])
    with operator_site(tmp_path, http_server, settings=settings) as site, site.client(site.operator_key) as op:
        body = course_source(http_server.url("/courses"))
        assert op.post("/api/v1/sources", json=body).status_code == 201  # the registered URL itself is allowed
        preview = op.post("/api/v1/sources/my_courses/dry-run").json()
    assert preview["status"] == "failed" and preview["error"]["type"] == "UrlRefusedError"
    assert "loopback" in preview["error"]["message"]
    assert inner_server.requests == [] and len(http_server.requests_for("/courses")) == 1


def test_the_crawl_engine_refuses_a_redirect_to_a_private_address(
    tmp_path: Path, http_server: FixtureServer, inner_server: FixtureServer
) -> None:
    inner_server.route("/page", body="<html><h1>内部页面</h1></html>", content_type="text/html; charset=utf-8")
    http_server.route("/detail", status=302, headers={"Location": inner_server.url("/page")})
    settings = make_settings(tmp_path, allow=[f"127.0.0.1:{http_server.port}"])
    body = {"id": "cms", "kind": "html", "name": "社区网", "platform": "test_platform", "platform_name": "测试",
            "detail_urls": [http_server.url("/detail")], "fields": {"title": "h1"}, "obey_robots": False}  # fmt: skip
    with operator_site(tmp_path, http_server, settings=settings) as site, site.client(site.operator_key) as op:
        preview = op.post("/api/v1/sources/dry-run", json=body).json()
    assert preview["items"] == [] and inner_server.requests == []
    refused = [r for r in preview["requests"] if (r["error"] or "").startswith("refused")]
    assert [r["url"] for r in refused] == [inner_server.url("/page")] and refused[0]["sent"] is False
    assert preview["status"] == "failed" and "loopback" in preview["error"]["message"]


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(http_server: FixtureServer) -> None:
    http_server.route("/pinned", body="ok")
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"] if host == "courses.invalid" else []

    with requests.Session() as session:
        session.mount("http://", GuardedAdapter(AddressPolicy.from_list(["127.0.0.1"], resolver=resolver)))
        # .invalid never resolves in real DNS: the answer can only come from the address the guard checked.
        answer = session.get(f"http://courses.invalid:{http_server.port}/pinned", timeout=10)
    assert answer.text == "ok" and lookups == ["courses.invalid"]
    assert http_server.requests_for("/pinned")[0].header("Host") == f"courses.invalid:{http_server.port}"


def test_a_name_with_any_non_public_address_is_refused(http_server: FixtureServer) -> None:
    policy = AddressPolicy(resolver=lambda host, port: ["202.108.22.5", "127.0.0.1"])
    with requests.Session() as session:
        session.mount("http://", GuardedAdapter(policy))
        with pytest.raises(UrlRefusedError, match="loopback"):
            session.get(f"http://rebind.invalid:{http_server.port}/", timeout=10)
    assert http_server.requests == []


def test_the_demo_platforms_are_allowed_on_their_own_port_only() -> None:
    settings = allow_source_hosts(make_settings(Path("data"), allow=[]), demo_sources("http://127.0.0.1:18001"))
    assert settings.http.allow_private_hosts == ["127.0.0.1:18001"]
    policy = AddressPolicy.from_list(settings.http.allow_private_hosts)
    assert policy.refusal(host="127.0.0.1", address="127.0.0.1", port=18001) is None
    assert policy.refusal(host="127.0.0.1", address="127.0.0.1", port=5432) is not None


def test_an_unresolvable_host_is_a_clear_422(closed_site: OperatorSite) -> None:
    with closed_site.client(closed_site.operator_key) as operator:
        answer = operator.post("/api/v1/sources", json=course_source("http://courses.invalid/list"))
    detail = answer.json()["error"]["details"][0]
    assert answer.status_code == 422 and detail["field"] == "url" and "resolve" in detail["reason"]
