"""The static_catalog source against a local server replaying smartedu-shaped NDR catalogues."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from config import load_sources, load_themes
from config.settings import Settings
from config.source_models import StaticCatalogSourceConfig
from crawlers.errors import FetchError, ParseError
from crawlers.fetch import Fetcher
from crawlers.kinds.base import MISSING, build_source
from crawlers.kinds.static_catalog import StaticCatalogSource, first_value, lookup_all, parse_version_index
from crawlers.run import harvest as run_harvest
from indexer.backends.sqlite import SqliteBackend
from indexer.pipeline import RecordBuilder
from indexer.record import RawRecord
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401
from tests.support.settings import local_http
from tests.support.smartedu import (
    DATA_DIR,
    VERSION_PATH,
    expected,
    part_path,
    serve_catalogue,
    source_config,
)

SETTINGS = local_http()


def open_source(config: StaticCatalogSourceConfig, fetcher: Fetcher, cursor: Any = None) -> StaticCatalogSource:
    source = build_source(config, fetcher)
    assert isinstance(source, StaticCatalogSource)
    source.cursor_in = dict(cursor or {})
    return source


def harvest(config: StaticCatalogSourceConfig, cursor: Any = None) -> tuple[list[RawRecord], StaticCatalogSource]:
    with Fetcher(SETTINGS, obey_robots=False) as fetcher:
        source = open_source(config, fetcher, cursor)
        return list(source.iter_records()), source


def part_requests(server: FixtureServer) -> list[str]:
    return [r.path for r in server.requests if r.path != VERSION_PATH]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_a_catalogue_gives_the_expected_raw_records(http_server: FixtureServer, version: str) -> None:
    serve_catalogue(http_server, version)
    want = expected(version, http_server)
    records, source = harvest(source_config(http_server))
    assert [r.source_id for r in records] == [w["source_id"] for w in want["records"]]
    for record, wanted in zip(records, want["records"], strict=True):
        assert record.fields == wanted["fields"], record.source_id
        assert record.api_url == http_server.url(part_path(wanted["part"]))
        assert record.payload["id"] == record.source_id
    assert [(p.source_id, p.reason) for p in source.problems] == [
        (w["source_id"], w["reason"]) for w in want["problems"]
    ]
    assert part_requests(http_server) == [part_path(name) for name in want["parts"]]
    assert source.warnings == []
    assert want["summary"] in source.notes
    assert source.scope == "full"


def test_a_complete_harvest_leaves_the_version_as_its_cursor(http_server: FixtureServer) -> None:
    serve_catalogue(http_server, "v1")
    _, source = harvest(source_config(http_server))
    assert source.cursor_out is not None
    assert (source.cursor_out["module"], source.cursor_out["module_version"]) == ("special_edu", 1)
    json.dumps(source.cursor_out)  # the state store keeps it as JSON


def test_an_unchanged_version_downloads_no_part_file(http_server: FixtureServer) -> None:
    serve_catalogue(http_server, "v1")
    config = source_config(http_server)
    _, first = harvest(config)
    http_server.requests.clear()
    records, again = harvest(config, first.cursor_out)
    assert records == []
    assert [r.path for r in http_server.requests] == [VERSION_PATH]
    assert again.scope == "unchanged"
    assert again.cursor_out == first.cursor_out
    assert any(n.startswith("unchanged catalogue: module_version 1 as before") for n in again.notes)
    assert again.warnings == [] and again.problems == []


def test_an_unchanged_index_with_an_etag_is_asked_conditionally_and_answers_304(
    http_server: FixtureServer,
) -> None:
    serve_catalogue(http_server, "v1", etag='"v1-etag"')
    config = source_config(http_server)
    _, first = harvest(config)
    assert first.cursor_out is not None and first.cursor_out["etag"] == '"v1-etag"'
    http_server.requests.clear()
    records, again = harvest(config, first.cursor_out)
    sent = http_server.requests
    assert records == [] and [r.path for r in sent] == [VERSION_PATH]
    assert sent[0].header("If-None-Match") == '"v1-etag"'
    assert again.scope == "unchanged" and again.cursor_out == first.cursor_out
    assert any("304 Not Modified" in n for n in again.notes)


def test_a_first_harvest_sends_no_conditional_headers(http_server: FixtureServer) -> None:
    serve_catalogue(http_server, "v1", etag='"v1-etag"')
    harvest(source_config(http_server), {"etag": '"stale"'})
    assert http_server.requests_for(VERSION_PATH)[0].header("If-None-Match") is None


def test_a_changed_version_reads_the_new_part_files(http_server: FixtureServer) -> None:
    serve_catalogue(http_server, "v1")
    config = source_config(http_server)
    _, first = harvest(config)
    serve_catalogue(http_server, "v2")
    http_server.requests.clear()
    records, again = harvest(config, first.cursor_out)
    want = expected("v2", http_server)
    assert [r.source_id for r in records] == [w["source_id"] for w in want["records"]]
    assert part_requests(http_server) == [part_path(name) for name in want["parts"]]
    assert again.scope == "full"
    assert again.cursor_out is not None and again.cursor_out["module_version"] == 2
    assert "catalogue version 1 -> 2" in again.notes


def test_a_changed_configuration_ignores_the_stored_version(http_server: FixtureServer) -> None:
    serve_catalogue(http_server, "v1")
    _, first = harvest(source_config(http_server))
    http_server.requests.clear()
    records, again = harvest(source_config(http_server, keep_tags=["体育"]), first.cursor_out)
    assert [r.fields["title"] for r in records] == ["八段锦跟练"]
    assert len(part_requests(http_server)) == 2
    assert any("configuration changed" in n for n in again.notes)
    assert again.cursor_out is not None and again.cursor_out != first.cursor_out


def test_without_keep_tags_every_published_record_is_kept(http_server: FixtureServer) -> None:
    serve_catalogue(http_server, "v1")
    records, source = harvest(source_config(http_server, keep_tags=[]))
    assert "5c2d8e14-1f3a-4b6c-a7d8-9e0f1a2b3c02" in [r.source_id for r in records]
    assert "9a6b4c58-5d7e-4f90-a1b2-c3d4e5f6a704" not in [r.source_id for r in records]  # OFFLINE
    assert source.notes[-1].startswith("kept 6 of 10 records")


@pytest.mark.parametrize("broken", ["part_100.json", "part_101.json"])
def test_a_broken_part_fails_the_run_after_the_good_parts_records(http_server: FixtureServer, broken: str) -> None:
    truncated = (DATA_DIR / "v1" / broken).read_bytes()[:700]
    serve_catalogue(http_server, "v1", replace={broken: truncated})
    want = expected("v1", http_server)
    got: list[str] = []
    with Fetcher(SETTINGS, obey_robots=False) as fetcher:
        source = open_source(source_config(http_server), fetcher)
        with pytest.raises(ParseError) as caught:
            for record in source.iter_records():
                got.append(record.source_id)
    assert got == [w["source_id"] for w in want["records"] if w["part"] != broken]
    assert caught.value.url == http_server.url(part_path(broken))
    assert "1 of 2 part files could not be read" in caught.value.reason and "not valid JSON" in caught.value.reason
    assert source.cursor_out is None
    assert len(source.warnings) == 1 and broken in source.warnings[0]


def test_a_part_answering_500_fails_the_run_naming_it(http_server: FixtureServer) -> None:
    serve_catalogue(http_server, "v1")
    http_server.route(part_path("part_100.json"), status=500, body="服务器错误")
    records, source = [], None
    with Fetcher(SETTINGS, obey_robots=False) as fetcher:
        source = open_source(source_config(http_server), fetcher)
        with pytest.raises(ParseError) as caught:
            records.extend(source.iter_records())
    assert len(records) == 3  # the kept records of part_101
    assert caught.value.url == http_server.url(part_path("part_100.json"))
    assert "HTTP 500" in str(caught.value)


def test_a_failing_version_index_fails_before_any_part(http_server: FixtureServer) -> None:
    http_server.route(VERSION_PATH, status=503, body="busy")
    with pytest.raises(FetchError) as caught:
        harvest(source_config(http_server))
    assert caught.value.status == 503
    assert part_requests(http_server) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"module": "special_edu", "module_version": 3, "urls": [', "not valid JSON"),
        (b'["part_100.json"]', "version index is list, not an object"),
        (b'{"module": "m", "urls": ["part_100.json"]}', "module_version is missing or not a whole number"),
        (b'{"module": "m", "module_version": "v3", "urls": "a.json"}', "module_version is missing"),
        (b'{"module": "m", "module_version": 3}', "urls is neither a list"),
        (b'{"module": "m", "module_version": 3, "urls": [100, 101]}', "urls is neither a list"),
    ],
)
def test_a_malformed_version_index_is_a_parse_error(http_server: FixtureServer, body: bytes, reason: str) -> None:
    http_server.route(VERSION_PATH, body=body, content_type="application/json")
    with pytest.raises(ParseError) as caught:
        harvest(source_config(http_server))
    assert reason in caught.value.reason
    assert caught.value.url == http_server.url(VERSION_PATH)
    assert part_requests(http_server) == []


def test_a_part_that_is_not_a_list_is_a_parse_error(http_server: FixtureServer) -> None:
    serve_catalogue(http_server, "v1", replace={"part_101.json": b'{"code": "NOT_FOUND"}'})
    with pytest.raises(ParseError) as caught:
        harvest(source_config(http_server))
    assert "the part file holds dict, not a list of records" in caught.value.reason


def test_part_records_can_sit_under_an_items_path(http_server: FixtureServer) -> None:
    records = json.loads((DATA_DIR / "v1" / "part_101.json").read_text(encoding="utf-8"))
    index = {"module": "m", "module_version": 7, "urls": ["wrapped.json"]}
    http_server.route(VERSION_PATH, json=index)
    http_server.route(f"{VERSION_PATH.rsplit('/', 1)[0]}/wrapped.json", json={"data": {"list": records}})
    got, _ = harvest(source_config(http_server, items_path="data.list"))
    assert [r.fields["title"] for r in got] == [
        "家务劳动小能手：整理收纳",
        "走进民族音乐：二胡独奏欣赏",
        "八段锦跟练",
    ]


def test_a_part_on_a_foreign_host_is_never_fetched(http_server: FixtureServer) -> None:
    index = {"module": "m", "module_version": 1, "urls": ["http://169.254.169.254/latest/part_100.json"]}
    http_server.route(VERSION_PATH, json=index)
    with Fetcher(SETTINGS, obey_robots=False) as fetcher:
        source = open_source(source_config(http_server), fetcher)
        with pytest.raises(ParseError) as caught:
            list(source.iter_records())
        assert [entry.url for entry in fetcher.log] == [http_server.url(VERSION_PATH)]
    assert "not the version index's host nor in part_hosts" in caught.value.reason


def test_more_parts_than_max_parts_stops_with_a_warning_and_no_cursor(http_server: FixtureServer) -> None:
    serve_catalogue(http_server, "v1")
    records, source = harvest(source_config(http_server, max_parts=1))
    assert {r.api_url for r in records} == {http_server.url(part_path("part_100.json"))}
    assert source.warnings == [
        "the version index lists 2 part files; read the first max_parts=1, the catalogue is incomplete"
    ]
    assert source.cursor_out is None


def test_version_index_urls_may_be_relative_comma_joined_and_repeated() -> None:
    data = {
        "module": "tch_material",
        "module_version": "12",
        "urls": "../part_100.json, part_101.json,,../part_100.json",
    }
    module, version, parts = parse_version_index(data, url="https://cdn.example.cn/zxx/ndrs/version/data_version.json")
    assert (module, version) == ("tch_material", 12)
    assert parts == [
        "https://cdn.example.cn/zxx/ndrs/part_100.json",
        "https://cdn.example.cn/zxx/ndrs/version/part_101.json",
    ]


@pytest.mark.parametrize(
    ("path", "want"),
    [
        ("tag_list.*.tag_name", ["家庭教育", "亲子沟通"]),
        ("relations.*.*.id", ["a", "b", "c"]),
        ("relations.*.0.id", ["a", "c"]),
        ("tag_list.*.missing", []),
        ("title.*", []),
    ],
)
def test_star_paths_collect_every_value(path: str, want: list[Any]) -> None:
    item = {
        "title": "课",
        "tag_list": [{"tag_name": "家庭教育"}, {"tag_name": "亲子沟通"}, {"tag_name": None}],
        "relations": {"course_resource": [{"id": "a"}, {"id": "b"}], "lesson_plan_design": [{"id": "c"}]},
    }
    assert lookup_all(item, path) == want


def test_the_first_path_with_a_value_wins() -> None:
    item = {"title": None, "global_title": {"zh-CN": "全局标题"}, "empty": [], "blank": ""}
    assert first_value(item, ["title", "global_title.zh-CN"]) == "全局标题"
    assert first_value(item, ["empty", "blank", "nothing.*"]) is MISSING
    assert first_value(item, "global_title") == {"zh-CN": "全局标题"}


def test_a_harvest_run_writes_the_kept_records_into_a_sqlite_index(tmp_path: Path, http_server: FixtureServer) -> None:
    serve_catalogue(http_server, "v1")
    settings = Settings(data_dir=tmp_path, http=SETTINGS)
    backend = SqliteBackend(settings.index_path)
    try:
        report = run_harvest(
            source_config(http_server),
            settings=settings,
            backend=backend,
            builder=RecordBuilder(load_themes()),
        )
        assert report.error is None and report.status == "partial"  # three rejected items
        assert (report.fetched, report.new, report.rejected, report.written) == (8, 5, 3, 5)
        assert backend.count("smartedu_sedu_test") == 5
        course = backend.get("smartedu_sedu_test:7e4f2a36-3b5c-4d7e-8f90-a1b2c3d4e503")
        assert course is not None
        assert (course.title, course.record_type, course.media_type) == (
            "红色故事里的爱国情",
            "course",
            "mixed",
        )
        assert [lesson.title for lesson in course.lessons] == [
            "第一集 小英雄雨来",
            "第二集 鸡毛信的故事",
            "教学设计：讲好红色故事",
        ]
        assert course.categories_raw == [["德育", "爱国主义教育"]]
        assert [p.name for p in course.instructors] == ["王立新", "陈静"]
        assert course.published_at is not None and course.published_at.isoformat() == "2021-09-20T14:30:00+08:00"
        again = run_harvest(
            source_config(http_server),
            settings=settings,
            backend=backend,
            builder=RecordBuilder(load_themes()),
        )
        assert (again.new, again.updated, again.unchanged, again.written) == (0, 0, 5, 0)
    finally:
        backend.close()


def test_smartedu_field_and_type_maps_are_config_and_the_fixture_holds_the_shipped_ones(
    http_server: FixtureServer,
) -> None:
    (shipped,) = (s for s in load_sources() if s.id == "smartedu_special_edu")
    fixture = source_config(http_server)
    maps = {"fields", "lesson_fields", "type_map"}
    assert isinstance(shipped, StaticCatalogSourceConfig)
    assert fixture.model_dump(include=maps) == shipped.model_dump(include=maps)
    assert shipped.type_map["national_lesson"].media_type == "video"
    generic = StaticCatalogSourceConfig.model_validate(
        {"id": "other_cdn", "kind": "static_catalog", "name": "另一个目录", "platform": "other",
         "platform_name": "别的平台", "version_url": "https://cdn.example.cn/v.json",
         "url_template": "https://example.cn/r/{id}"}
    )  # fmt: skip
    assert generic.fields == {"title": "title"} and generic.type_map == {}  # the kind knows no site
