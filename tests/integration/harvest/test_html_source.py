"""The html kind against local CMS sites: lnjyw (GB2312-declared), shequ (GBK header), caea lists."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config import load_themes
from config.settings import Settings
from config.source_models import HtmlSourceConfig
from crawlers.errors import FetchError, SourceConfigError
from crawlers.fetch import Fetcher
from crawlers.kinds import build_source
from crawlers.kinds.base import Source
from crawlers.kinds.html import HtmlSource
from crawlers.run import harvest
from crawlers.scrapy_engine.cms import date_from_url, id_from_url, labelled_groups
from indexer.backends.sqlite import SqliteBackend
from indexer.pipeline import RecordBuilder
from indexer.record import RawRecord
from tests.support.cms import CMS_DIR, cms_config, cms_expected, serve_cms, with_base
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401
from tests.support.settings import local_http

HTTP = local_http()
LABELS = {"案例名称": "title", "申报单位": "provider", "案例介绍": "description"}


def crawl(config: HtmlSourceConfig) -> tuple[list[RawRecord], Source]:
    with Fetcher(HTTP, obey_robots=config.obey_robots, delay_seconds=0) as fetcher:
        source = build_source(config, fetcher)
        return sorted(source.iter_records(), key=lambda r: r.source_id), source


@pytest.mark.parametrize("site", ["lnjyw", "shequ", "caea"])
def test_a_cms_site_gives_the_expected_records_problems_and_warnings(http_server: FixtureServer, site: str) -> None:
    serve_cms(http_server, site)
    want = with_base(cms_expected(site), http_server.base_url)
    records, source = crawl(cms_config(http_server, site))
    assert [r.source_id for r in records] == [w["source_id"] for w in want["records"]]
    for record, wanted in zip(records, want["records"], strict=True):
        assert record.fields == wanted["fields"], record.source_id
    problems = sorted(source.problems, key=lambda p: str(p.source_id))
    wanted_problems = sorted(want["problems"], key=lambda p: p["source_id"])
    assert [p.source_id for p in problems] == [w["source_id"] for w in wanted_problems]
    for problem, wanted in zip(problems, wanted_problems, strict=True):
        assert wanted["reason_contains"] in problem.reason
    assert len(source.warnings) == len(want["warnings"])
    for warning, fragment in zip(source.warnings, want["warnings"], strict=True):
        assert fragment in warning


def test_a_gb2312_declared_page_with_gbk_only_characters_decodes(http_server: FixtureServer) -> None:
    serve_cms(http_server, "lnjyw")
    raw = (CMS_DIR / "lnjyw" / "case-one.htm").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("gb2312")  # 喆 is outside GB2312, as on real pages that declare it
    records, _ = crawl(cms_config(http_server, "lnjyw"))
    assert "王喆" in records[0].fields["description"]


def test_list_pages_are_followed_by_the_next_link(http_server: FixtureServer) -> None:
    serve_cms(http_server, "lnjyw")
    crawl(cms_config(http_server, "lnjyw"))
    assert len(http_server.requests_for("/Pages/List/zhzl_2.htm")) == 1
    assert http_server.requests_for("/Pages/Special/znjs.htm") == []  # not an article link


def test_a_forced_encoding_reads_pages_whose_server_declares_the_wrong_one(
    http_server: FixtureServer,
) -> None:
    for path, name in cms_expected("shequ")["routes"].items():
        http_server.route(path, body=(CMS_DIR / name).read_bytes(), content_type="text/html; charset=utf-8")
    garbled, _ = crawl(cms_config(http_server, "shequ"))
    assert garbled[0].fields["title"] != "宁波江北：家门口的“学习共同体”"
    records, _ = crawl(cms_config(http_server, "shequ", encoding="gb18030"))
    assert records[0].fields["title"] == "宁波江北：家门口的“学习共同体”"


def test_robots_disallowed_detail_pages_are_never_requested_and_only_noted(http_server: FixtureServer) -> None:
    serve_cms(http_server, "lnjyw")
    http_server.route("/robots.txt", body="User-agent: *\nDisallow: /Pages/News/2023/\n")
    records, source = crawl(cms_config(http_server, "lnjyw"))
    assert [r.path for r in http_server.requests if "/Pages/News/2023/" in r.path] == []
    assert len(records) == 3
    assert not any("robots.txt" in w for w in source.warnings)  # the site asked for it: nothing to warn about
    assert isinstance(source, HtmlSource) and source.stats["edufed/robots_disallowed"] == 3


def test_a_list_page_that_fails_fails_the_run(http_server: FixtureServer) -> None:
    serve_cms(http_server, "lnjyw")
    http_server.route("/Pages/List/zhzl_2.htm", status=503, body="Service Unavailable")
    with Fetcher(HTTP, delay_seconds=0) as fetcher:
        source = build_source(cms_config(http_server, "lnjyw"), fetcher)
        with pytest.raises(FetchError) as caught:
            list(source.iter_records())
    assert caught.value.status == 503 and caught.value.url.endswith("/Pages/List/zhzl_2.htm")


def test_an_invalid_pattern_is_a_config_error_before_anything_is_fetched(http_server: FixtureServer) -> None:
    with Fetcher(HTTP, delay_seconds=0) as fetcher:
        source = build_source(cms_config(http_server, "lnjyw", link_pattern="/Pages/(News"), fetcher)
        with pytest.raises(SourceConfigError, match="link_pattern is not a valid regular expression"):
            list(source.iter_records())
    assert http_server.requests == []


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        (
            "案例名称：甲\n申报单位：乙单位\n案例介绍：第一段\n第二段",
            [{"title": "甲", "provider": "乙单位", "description": "第一段\n第二段"}],
        ),
        (
            "说明文字。案例名称：甲　申报单位：乙\n案例名称: 丙 申报单位:丁",
            [{"title": "甲", "provider": "乙"}, {"title": "丙", "provider": "丁"}],
        ),
        ("本文案例名称为示例，没有冒号", []),
        ("申报单位：\n案例名称：只有名称", [{"title": "只有名称"}]),
    ],
)
def test_labelled_lines_become_one_group_per_case(text: str, groups: list[dict[str, str]]) -> None:
    assert labelled_groups(text, LABELS) == groups


@pytest.mark.parametrize(
    ("url", "pattern_field", "want"),
    [
        (
            "http://www.lnjyw.org/Pages/News/2022/12/05/0faef0bf-36a7-4a82-a953-f8baf0377b20.htm",
            "date",
            "2022-12-05",
        ),
        ("http://www.goschool.org.cn/lnjyxx/zxdtxx/2018-12-19/26718.html", "date", "2018-12-19"),
        ("http://x.cn/Pages/News/2022/13/05/a.htm", "date", None),
        (
            "http://zy.shequ.edu.cn/Pages/Recomend/2021/09/01/aac637d2-9fb4-433a-b8e4-39b58ba3f9e3.htm",
            "id",
            "aac637d2-9fb4-433a-b8e4-39b58ba3f9e3",
        ),
        ("http://www.goschool.org.cn/lnjyxx/zxdtxx/2018-12-19/26718.html?from=list", "id", "26718"),
    ],
)
def test_ids_and_dates_come_from_cms_paths(url: str, pattern_field: str, want: str | None) -> None:
    defaults = HtmlSourceConfig.model_fields
    if pattern_field == "date":
        assert date_from_url(url, defaults["date_pattern"].default) == want
    else:
        assert id_from_url(url, defaults["id_pattern"].default) == want


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, http=HTTP)


@pytest.fixture
def backend(settings: Settings) -> Iterator[SqliteBackend]:
    index = SqliteBackend(settings.index_path)
    yield index
    index.close()


def test_lnjyw_cases_and_caea_stars_end_up_in_the_index(
    http_server: FixtureServer, settings: Settings, backend: SqliteBackend
) -> None:
    serve_cms(http_server, "lnjyw")
    serve_cms(http_server, "caea")
    builder = RecordBuilder(load_themes())
    cases = harvest(cms_config(http_server, "lnjyw"), settings=settings, backend=backend, builder=builder)
    assert cases.error is None and (cases.new, cases.rejected) == (4, 2)
    case = backend.get("lnjyw_zhzl:0faef0bf-36a7-4a82-a953-f8baf0377b20")
    assert case is not None and case.record_type == "case" and case.provider is not None
    assert case.provider.name == "上海市长宁区社区学院" and case.published_at is not None
    stars = harvest(cms_config(http_server, "caea"), settings=settings, backend=backend, builder=builder)
    assert stars.error is None and (stars.new, stars.rejected) == (4, 1)
    star = backend.get("caea_stars:35210#1")
    assert star is not None and star.record_type == "programme_entry" and star.title == "张淑芬"
    assert "百姓学习之星" in star.tags
