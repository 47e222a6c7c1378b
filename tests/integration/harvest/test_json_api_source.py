"""The json_api source against a local server replaying le.ouchn.cn-shaped payloads."""

from __future__ import annotations

from typing import Any

import pytest

from config.source_models import JsonApiSourceConfig, RssSourceConfig
from crawlers.errors import ParseError
from crawlers.fetch import Fetcher
from crawlers.kinds import build_source, lookup
from crawlers.kinds.base import MISSING, Source, fill_template
from crawlers.kinds.json_api import JsonApiSource
from crawlers.kinds.rss import RssSource
from indexer.record import RawRecord
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401
from tests.support.json_sources import json_api_config
from tests.support.le_ouchn import PAGING_PATH, detail_path, expected, serve_le_ouchn, source_config
from tests.support.settings import local_http

SETTINGS = local_http(retries=1)


def harvest(config: JsonApiSourceConfig) -> tuple[list[RawRecord], Source]:
    with Fetcher(SETTINGS, obey_robots=config.obey_robots) as fetcher:
        source = build_source(config, fetcher)
        return list(source.iter_records()), source


def small_api(server: FixtureServer, **overrides: Any) -> JsonApiSourceConfig:
    return json_api_config(server, **overrides)


def test_le_ouchn_pages_and_details_give_the_expected_raw_records(http_server: FixtureServer) -> None:
    serve_le_ouchn(http_server)
    want = expected()
    records, source = harvest(source_config(http_server))
    assert [r.source_id for r in records] == [w["source_id"] for w in want["records"]]
    for record, wanted in zip(records, want["records"], strict=True):
        assert record.fields == wanted["fields"], record.source_id
        assert len(record.warnings) == len(wanted["warnings"]), record.warnings
        for warning, fragment in zip(record.warnings, wanted["warnings"], strict=True):
            assert fragment in warning
    assert len(source.problems) == len(want["problems"])
    for problem, wanted in zip(source.problems, want["problems"], strict=True):
        assert problem.source_id == wanted["source_id"]
        assert wanted["reason_contains"] in problem.reason and problem.reason.endswith(wanted["reason_ends"])
    assert source.warnings == []


def test_le_ouchn_list_is_paged_with_fixed_params_until_the_page_count(http_server: FixtureServer) -> None:
    serve_le_ouchn(http_server)
    harvest(source_config(http_server))
    sent = http_server.requests_for(PAGING_PATH)
    assert [r.query["PageNum"] for r in sent] == expected()["pages_requested"]
    assert all(r.query["ChannelId"] == "education" and r.query["PageSize"] == "20" for r in sent)
    assert all(r.query["IsShowPaid"] == "True" for r in sent)


def test_records_keep_the_untouched_payload_and_their_api_url(http_server: FixtureServer) -> None:
    serve_le_ouchn(http_server)
    records, _ = harvest(source_config(http_server))
    first, bad_detail = records[0], records[4]
    assert first.payload["item"]["Name"] == "计算机应用基础"
    assert first.payload["detail"]["Data"]["Name"] == "计算机应用基础（第二版）"
    assert first.api_url == http_server.url(detail_path(first.source_id))
    assert bad_detail.payload["Name"] == "家庭理财与防范养老诈骗"
    assert bad_detail.api_url is not None and bad_detail.api_url.startswith(http_server.url(PAGING_PATH))
    assert "HTTP 500" in bad_detail.warnings[0]


def test_a_required_detail_that_fails_rejects_its_item(http_server: FixtureServer) -> None:
    serve_le_ouchn(http_server)
    config = source_config(http_server)
    assert config.detail is not None
    config = config.model_copy(update={"detail": config.detail.model_copy(update={"required": True})})
    records, source = harvest(config)
    bad_id = "00000000-0000-0000-0000-000000000bad"
    assert bad_id not in [r.source_id for r in records]
    assert len(records) == len(expected()["records"]) - 1
    rejected = [p for p in source.problems if p.source_id == bad_id]
    assert len(rejected) == 1 and "HTTP 500" in rejected[0].reason


def test_malformed_json_on_a_page_fails_after_the_earlier_pages_records(http_server: FixtureServer) -> None:
    serve_le_ouchn(http_server, pages={"1": "page-1.json", "2": "page-malformed.json", "3": "page-3.json"})
    got: list[str] = []
    with Fetcher(SETTINGS) as fetcher:
        source = build_source(source_config(http_server), fetcher)
        with pytest.raises(ParseError) as caught:
            for record in source.iter_records():
                got.append(record.source_id)
    assert got == [r["source_id"] for r in expected()["records"][:3]]
    assert "PageNum=2" in caught.value.url
    assert str(caught.value).startswith(f"cannot parse {caught.value.url}: not valid JSON")


def test_a_page_without_the_item_list_is_a_parse_error(http_server: FixtureServer) -> None:
    http_server.route("/items", json={"Code": 401, "Message": "未登录"})
    with pytest.raises(ParseError) as caught:
        harvest(small_api(http_server))
    assert "no item list at 'data.items'" in str(caught.value)


def test_paging_stops_at_an_empty_page_when_no_page_count_is_given(http_server: FixtureServer) -> None:
    for page in (1, 2):
        items = [{"id": f"{page}-{n}", "name": f"第{page}页第{n}课"} for n in range(2)]
        http_server.route("/items", query={"p": str(page)}, json={"data": {"items": items}})
    http_server.route("/items", json={"data": {"items": []}})
    records, source = harvest(small_api(http_server, page_param="p"))
    assert [r.source_id for r in records] == ["1-0", "1-1", "2-0", "2-1"]
    assert [r.query["p"] for r in http_server.requests_for("/items")] == ["1", "2", "3"]
    assert source.warnings == []


def test_paging_stops_at_max_pages_with_a_warning(http_server: FixtureServer) -> None:
    http_server.route("/items", json={"data": {"items": [{"id": "same", "name": "总是这一课"}]}})
    records, source = harvest(small_api(http_server, page_param="page", page_start=0, max_pages=3))
    assert len(records) == 3
    assert [r.query["page"] for r in http_server.requests_for("/items")] == ["0", "1", "2"]
    assert source.warnings == ["stopped after max_pages=3 pages; the list may go on"]


def test_a_source_without_a_page_param_reads_one_page(http_server: FixtureServer) -> None:
    http_server.route("/items", json={"data": {"items": [{"id": 7, "name": "唯一的课"}]}})
    records, _ = harvest(small_api(http_server, params={"lang": "zh"}))
    assert [(r.source_id, r.fields["title"]) for r in records] == [("7", "唯一的课")]
    assert [r.query for r in http_server.requests_for("/items")] == [{"lang": "zh"}]


def test_a_post_list_sends_its_params_as_a_json_body(http_server: FixtureServer) -> None:
    http_server.route("/items", json={"data": {"items": [{"id": "a", "name": "甲"}]}, "count": 1})
    config = small_api(http_server, method="POST", page_param="pageNo", page_count_path="count", params={"k": 1})
    records, _ = harvest(config)
    assert [r.source_id for r in records] == ["a"]
    sent = http_server.requests_for("/items")
    assert [(r.method, r.body) for r in sent] == [("POST", b'{"k": 1, "pageNo": 1}')]


def test_url_placeholders_are_url_quoted(http_server: FixtureServer) -> None:
    http_server.route("/items", json={"data": {"items": [{"id": "课程 1/2?x", "name": "特殊编号"}]}})
    records, _ = harvest(small_api(http_server))
    assert records[0].fields["url"] == "https://example.edu.cn/course/%E8%AF%BE%E7%A8%8B%201%2F2%3Fx"


def test_an_item_lacking_a_url_placeholder_is_rejected_and_the_rest_kept(http_server: FixtureServer) -> None:
    items = [{"id": "1", "name": "有路径", "slug": "a"}, {"id": "2", "name": "无路径"}]
    http_server.route("/items", json={"data": {"items": items}})
    records, source = harvest(small_api(http_server, url_template="https://example.edu.cn/{slug}"))
    assert [r.source_id for r in records] == ["1"]
    assert [(p.source_id, p.reason.split(": ", 1)[1]) for p in source.problems] == [
        ("2", "url_template needs 'slug', which the item lacks")
    ]


def test_the_kind_picks_the_source_class(http_server: FixtureServer) -> None:
    rss = RssSourceConfig.model_validate(
        {
            "id": "feed",
            "kind": "rss",
            "name": "订阅",
            "platform": "p1",
            "platform_name": "平台",
            "url": "http://x/",
        }
    )
    with Fetcher(SETTINGS) as fetcher:
        assert isinstance(build_source(small_api(http_server), fetcher), JsonApiSource)
        assert isinstance(build_source(rss, fetcher), RssSource)


@pytest.mark.parametrize(
    ("path", "want"),
    [
        ("Data.PageCount", 3),
        ("Data.PageListInfos.0.Name", "甲"),
        ("Data.PageListInfos.-1.Name", "乙"),
        ("Data.PageListInfos.5.Name", MISSING),
        ("Data.Missing", MISSING),
        ("Data.Empty", None),
        ("Data.PageCount.x", MISSING),
    ],
)
def test_dotted_paths_find_values_or_report_them_missing(path: str, want: Any) -> None:
    data = {"Data": {"PageCount": 3, "PageListInfos": [{"Name": "甲"}, {"Name": "乙"}], "Empty": None}}
    found = lookup(data, path)
    if want is MISSING or want is None:
        assert found is want
    else:
        assert found == want


def test_a_template_with_a_null_value_names_the_missing_field() -> None:
    with pytest.raises(KeyError) as caught:
        fill_template("https://example.edu.cn/{a.b}", {"a": {"b": None}})
    assert caught.value.args == ("a.b",)
