"""The bundled demo platforms over real HTTP: API paging and details, the GBK feed, pages, sources, data."""

from __future__ import annotations

import gc
import json
import re
import socket
import warnings
from collections.abc import Iterator
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path

import feedparser
import pytest
import requests

from config.errors import ConfigError
from config.loader import load_themes
from config.source_models import JsonApiSourceConfig, RssSourceConfig
from crawlers.demo import DemoCatalogue, DemoPlatforms, demo_sources, load_catalogue
from crawlers.demo.content import DATA_DIR
from crawlers.fetch import Fetcher
from crawlers.kinds import build_source
from indexer.errors import RecordInvalidError
from indexer.pipeline import RecordBuilder
from indexer.record import Record
from tests.support.settings import local_http

# PLATFORMS.md section 6.2, copied on purpose: the data must cover the themes in the research's own words,
# independently of the classifier's rule table.
THEME_KEYWORDS = {
    "思想道德": "党史|党的|二十大|思政|核心价值观|道德|文明|礼仪|家风|志愿|红色",
    "科学文化": "科普|科学|历史|文史|国学|诗词|文学|外语|英语|地理|天文|"
    "智能手机|手机|电脑|微信|数字|互联网|AI|人工智能",
    "养生保健": "养生|保健|健康|中医|针灸|推拿|饮食|营养|用药|慢病|高血压|糖尿病|太极|八段锦|气功|瑜伽|健身|康复",
    "心理健康": "心理|情绪|焦虑|抑郁|孤独|幸福感|压力|睡眠|退休生活|心态",
    "职业技能": "职业|技能|岗位|培训|考证|就业|创业|电商|直播带货|办公软件|Excel|农业技术|乡村振兴|工匠",
    "法律法规": "法|民法典|权益|维权|诈骗|反诈|防骗|合同|继承|监护|遗嘱",
    "家庭理财": "理财|财富|金融|养老金|保险|基金|储蓄|消费",
    "闲暇生活": "书法|绘画|国画|声乐|合唱|器乐|古筝|二胡|钢琴|电子琴|葫芦丝|舞蹈|广场舞|"
    "摄影|短视频|戏曲|京剧|旅游|茶艺|插花|烹饪|烘焙|园艺|手工|编织|剪纸|模特|走秀",
    "代际沟通": "隔代|祖孙|孙辈|家庭教育|亲子|代际|两代人|沟通",
    "生命尊严": "生命|生死|临终|安宁疗护|善终|失能|照护|尊严|器官捐献",
}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
LIST_KEYS = {"Id", "Name", "Teacher", "SourceName", "Subtitle", "StudentCount", "Tag"}


@pytest.fixture(scope="module")
def catalogue() -> DemoCatalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def demo(catalogue: DemoCatalogue) -> Iterator[DemoPlatforms]:
    with DemoPlatforms(catalogue=catalogue) as platforms:
        yield platforms


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def paging(http: requests.Session, demo: DemoPlatforms, **params: object) -> requests.Response:
    return http.get(demo.base_url + "/le/api/Course/Paging", params={"ChannelId": "education", **params})


def named(entry: dict[str, object]) -> bool:
    return bool(entry.get("Id")) and bool(str(entry.get("Name") or "").strip())


@pytest.mark.parametrize("size", [7, 20, 100])
def test_paging_lists_every_course_exactly_once_with_the_right_page_count(
    http: requests.Session, demo: DemoPlatforms, catalogue: DemoCatalogue, size: int
) -> None:
    first = paging(http, demo, PageNum=1, PageSize=size).json()
    page_count = first["Data"]["PageCount"]
    assert page_count == -(-len(catalogue.courses) // size)
    seen: list[str] = []
    for number in range(1, page_count + 1):
        items = paging(http, demo, PageNum=number, PageSize=size).json()["Data"]["PageListInfos"]
        last_page_size = len(catalogue.courses) - size * (page_count - 1)
        assert len(items) == (size if number < page_count else last_page_size)
        assert all(set(item) == LIST_KEYS for item in items)
        seen += [json.dumps(item, ensure_ascii=False, sort_keys=True) for item in items]
    expected = [json.dumps(c.item, ensure_ascii=False, sort_keys=True) for c in catalogue.courses]
    assert sorted(seen) == sorted(expected)
    assert len(set(seen)) == len(seen)


def test_a_page_past_the_end_is_empty_and_still_gives_the_page_count(
    http: requests.Session, demo: DemoPlatforms
) -> None:
    data = paging(http, demo, PageNum=999, PageSize=20).json()["Data"]
    assert data["PageListInfos"] == []
    assert data["PageCount"] > 1


def test_page_size_is_capped_at_one_hundred(http: requests.Session, demo: DemoPlatforms) -> None:
    assert len(paging(http, demo, PageNum=1, PageSize=5000).json()["Data"]["PageListInfos"]) == 100


@pytest.mark.parametrize("params", [{"PageNum": "abc"}, {"PageNum": 0}, {"PageSize": "-3"}])
def test_unusable_paging_parameters_get_a_400_naming_the_parameter(
    http: requests.Session, demo: DemoPlatforms, params: dict[str, object]
) -> None:
    response = paging(http, demo, **params)
    assert response.status_code == 400
    assert next(iter(params)) in response.json()["Message"]


def test_an_unknown_channel_lists_nothing(http: requests.Session, demo: DemoPlatforms) -> None:
    data = paging(http, demo, ChannelId="no_such_channel").json()["Data"]
    assert data == {"PageListInfos": [], "PageCount": 0}


def test_details_give_the_modules_of_every_course(
    http: requests.Session, demo: DemoPlatforms, catalogue: DemoCatalogue
) -> None:
    for course in catalogue.courses:
        if not course.id:
            continue
        response = http.get(f"{demo.base_url}/le/api/Course/{course.id}/MicroCourse/Details")
        assert response.status_code == 200
        data = response.json()["Data"]
        assert data["Name"] == course.item["Name"]
        assert [m["Title"] for m in data["Modules"]] == list(course.lessons)
        assert all(UUID.match(m["Id"]) for m in data["Modules"])
        assert len({m["Id"] for m in data["Modules"]}) == len(data["Modules"])
        if named(course.item):
            assert 3 <= len(data["Modules"]) <= 20, course.name


def test_details_of_an_unknown_course_answer_500(http: requests.Session, demo: DemoPlatforms) -> None:
    unknown = "00000000-0000-1000-8000-000000000000"
    response = http.get(f"{demo.base_url}/le/api/Course/{unknown}/MicroCourse/Details")
    assert response.status_code == 500


def test_course_page_shows_the_course_and_its_lessons_escaped(
    http: requests.Session, demo: DemoPlatforms, catalogue: DemoCatalogue
) -> None:
    course = next(c for c in catalogue.courses if c.name == "WPS表格&amp;Excel通用技巧")
    response = http.get(f"{demo.base_url}/le/courseDetails/{course.id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<h1>WPS表格&amp;amp;Excel通用技巧</h1>" in response.text
    assert all(lesson in response.text for lesson in course.lessons)
    assert http.get(f"{demo.base_url}/le/courseDetails/nope").status_code == 404


def test_the_feed_is_gbk_and_parses_to_every_item(
    http: requests.Session, demo: DemoPlatforms, catalogue: DemoCatalogue
) -> None:
    response = http.get(demo.base_url + "/shequ/rss.xml")
    assert response.status_code == 200
    assert response.content.startswith(b'<?xml version="1.0" encoding="GBK"?>')
    text = response.content.decode("gbk")
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    feed = feedparser.parse(response.content)
    assert feed.version == "rss20" and not feed.bozo
    assert feed.encoding.lower() in ("gbk", "gb2312", "gb18030")
    assert len(feed.entries) == len(catalogue.items)
    assert {e.get("title", "") for e in feed.entries} == {i.title.strip() for i in catalogue.items}
    assert "长者学苑" not in text and "長者智能手機班：學用電子支付" in text


def test_feed_items_link_to_article_pages_served_without_their_scripts(
    http: requests.Session, demo: DemoPlatforms
) -> None:
    # Parsed the way the rss harvester does: no sanitizing, so the feed's own script tag stays visible.
    feed = feedparser.parse(http.get(demo.base_url + "/shequ/rss.xml").content, sanitize_html=False)
    with_script = [e for e in feed.entries if "<script" in e.get("summary", "")]
    assert len(with_script) == 1
    linked = [e for e in feed.entries if e.get("link")]
    assert len(linked) == len(feed.entries) - 1  # one broken item has no link
    for entry in linked[:10] + with_script:
        assert re.search(r"/shequ/Pages/Recomend/\d{4}/\d{2}/\d{2}/[0-9a-f-]{36}\.htm$", entry.link)
        page = http.get(entry.link)
        assert page.status_code == 200 and "charset=GBK" in page.headers["Content-Type"]
        html = page.content.decode("gbk")
        assert entry.title in html
        assert "<script" not in html


def test_conditional_get_answers_304_for_an_unchanged_document(http: requests.Session, demo: DemoPlatforms) -> None:
    url = demo.base_url + "/shequ/rss.xml"
    first = http.get(url)
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert http.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert http.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert http.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    earlier = format_datetime(datetime(2020, 1, 1).astimezone(), usegmt=False)
    assert http.get(url, headers={"If-Modified-Since": earlier}).status_code == 200
    page = paging(http, demo, PageNum=2)
    assert paging(http, demo, PageNum=2).headers["ETag"] == page.headers["ETag"]
    assert paging(http, demo, PageNum=3).headers["ETag"] != page.headers["ETag"]


def test_robots_txt_allows_everything_and_unknown_paths_are_404(http: requests.Session, demo: DemoPlatforms) -> None:
    robots = http.get(demo.base_url + "/robots.txt")
    assert robots.status_code == 200 and "Allow: /" in robots.text and "Disallow: /" not in robots.text
    assert http.get(demo.base_url + "/le/api/Nothing").status_code == 404
    assert http.head(demo.base_url + "/le/home").status_code == 200


def test_demo_sources_validate_and_point_at_the_running_server(demo: DemoPlatforms) -> None:
    sources = {s.id: s for s in demo_sources(demo.base_url + "/")}
    le, shequ = sources["demo_le_ouchn"], sources["demo_shequ"]
    assert isinstance(le, JsonApiSourceConfig) and isinstance(shequ, RssSourceConfig)
    assert str(le.url) == demo.base_url + "/le/api/Course/Paging"
    assert le.url_template == demo.base_url + "/le/courseDetails/{Id}"
    assert le.detail is not None and le.detail.url_template.startswith(demo.base_url + "/le/api/Course/{Id}")
    assert str(shequ.url) == demo.base_url + "/shequ/rss.xml"
    assert all(s.delay_seconds == 0 and "演示" in s.platform_name for s in sources.values())


@pytest.mark.parametrize("base_url", ["ftp://127.0.0.1:8", "127.0.0.1:8000", "http://127.0.0.1:8/?x=1", ""])
def test_demo_sources_refuse_a_base_url_that_is_not_an_http_origin(base_url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        demo_sources(base_url)
    assert caught.value.problems[0].location == "base_url"


def harvest(source_id: str, base_url: str) -> tuple[list[Record], list[str]]:
    """Run one demo source with the real harvester and record builder; (records, reasons for rejects)."""
    config = next(s for s in demo_sources(base_url) if s.id == source_id)
    builder = RecordBuilder(load_themes())
    settings = local_http(timeout_seconds=10)
    records: list[Record] = []
    with Fetcher(settings, delay_seconds=0) as fetcher:
        source = build_source(config, fetcher)
        rejected = []
        for raw in source.iter_records():
            try:
                records.append(builder.build(raw, config, fetched_at=datetime.now().astimezone()))
            except RecordInvalidError as exc:
                rejected.append(str(exc))
        rejected += [problem.reason for problem in source.problems]
    return records, rejected


def test_harvesting_both_demo_sources_keeps_every_good_record_and_rejects_the_broken_ones(
    demo: DemoPlatforms, catalogue: DemoCatalogue
) -> None:
    le_records, le_rejected = harvest("demo_le_ouchn", demo.base_url)
    shequ_records, shequ_rejected = harvest("demo_shequ", demo.base_url)
    assert len(le_records) == sum(named(c.item) for c in catalogue.courses)
    assert len(le_rejected) == len(catalogue.courses) - len(le_records) == 3
    assert len(shequ_records) == sum(bool(i.title.strip() and i.guid) for i in catalogue.items)
    assert len(shequ_rejected) == 2
    assert len(le_records) + len(shequ_records) >= 320
    wechat = next(r for r in le_records if r.title == "智能手机应用——微信视频通话")
    assert wechat.lesson_count == 7 and wechat.url.startswith(demo.base_url + "/le/courseDetails/")
    assert http_ok(wechat.url)


def http_ok(url: str) -> bool:
    with requests.get(url, timeout=10) as response:
        return response.status_code == 200


def searchable_text(catalogue: DemoCatalogue) -> list[str]:
    courses = [f"{c.name} {c.item.get('Tag') or ''}" for c in catalogue.courses if named(c.item)]
    items = [f"{i.title} {i.category}" for i in catalogue.items if i.title.strip()]
    return courses + items


@pytest.mark.parametrize("theme", list(THEME_KEYWORDS))
def test_the_data_covers_each_national_theme_with_several_records(catalogue: DemoCatalogue, theme: str) -> None:
    pattern = re.compile(THEME_KEYWORDS[theme])
    matching = [text for text in searchable_text(catalogue) if pattern.search(text)]
    assert len(matching) >= 8, (theme, matching)


def test_the_data_has_the_variety_of_real_platforms(catalogue: DemoCatalogue) -> None:
    good = [c for c in catalogue.courses if named(c.item)]
    assert len(good) + sum(bool(i.title.strip()) for i in catalogue.items) >= 300
    counts = [c.item["StudentCount"] for c in good]
    assert min(counts) < 100 < 100_000 < max(counts)
    assert len({c.item["SourceName"] for c in good}) >= 40
    assert len({c.item["Teacher"] for c in good}) >= 120
    titles = {c.name for c in good}
    assert len(titles) == len(good)
    assert len(titles & {i.title for i in catalogue.items}) >= 30  # "also on" the other demo platform
    tags = [str(c.item["Tag"]) for c in good]
    assert sum("、" in tag for tag in tags) >= 30 and sum("," in tag for tag in tags) >= 30
    assert sum(bool(re.search("[們學機書國長體]", c.name)) for c in good) >= 3  # traditional characters
    assert sum("&" in c.name or "&" in str(c.item["Subtitle"]) for c in good) >= 2  # leaked HTML entities


def test_every_data_file_is_valid_utf8_json(catalogue: DemoCatalogue) -> None:
    files = sorted(DATA_DIR.glob("*.json"))
    assert len(files) >= 2
    for path in files:
        assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict), path.name


def test_stopping_releases_the_port_without_resource_warnings(catalogue: DemoCatalogue) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        platforms = DemoPlatforms(catalogue=catalogue)
        base = platforms.start()
        assert platforms.start() == base
        with requests.get(base + "/robots.txt", timeout=10) as response:
            assert response.status_code == 200
        platforms.stop()
        platforms.stop()
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    port = int(base.rsplit(":", 1)[1])
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))
    with pytest.raises(RuntimeError):
        _ = platforms.base_url


def test_a_second_process_on_the_taken_port_uses_the_running_demo_platforms(
    demo: DemoPlatforms, catalogue: DemoCatalogue
) -> None:
    """`edufed harvest --demo` while `edufed serve --demo` runs: the records it stores must link to the server's
    platforms, which outlive the harvest, not to a port of its own that dies with it."""
    port = int(demo.base_url.rsplit(":", 1)[1])
    second = DemoPlatforms(port=port, catalogue=catalogue)
    assert second.start_or_join() == demo.base_url
    with second:
        assert second.joined
        assert demo_sources(second.base_url)[0].model_dump() == demo_sources(demo.base_url)[0].model_dump()
    # letting go of joined platforms leaves them serving
    with requests.get(demo.base_url + "/robots.txt", timeout=10) as response:
        assert response.status_code == 200
    with pytest.raises(RuntimeError):
        _ = second.base_url


def test_a_port_taken_by_anything_else_is_not_joined(catalogue: DemoCatalogue) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        platforms = DemoPlatforms(port=other.getsockname()[1], catalogue=catalogue)
        with pytest.raises(OSError):
            platforms.start_or_join()
        assert not platforms.joined


def test_demo_platforms_of_another_catalogue_are_not_joined(demo: DemoPlatforms, catalogue: DemoCatalogue) -> None:
    fewer = DemoCatalogue(
        courses=catalogue.courses[1:],
        feed_title=catalogue.feed_title,
        feed_description=catalogue.feed_description,
        items=catalogue.items,
    )
    platforms = DemoPlatforms(port=int(demo.base_url.rsplit(":", 1)[1]), catalogue=fewer)
    with pytest.raises(OSError):
        platforms.start_or_join()


def test_a_missing_data_directory_is_a_clear_error(tmp_path: Path) -> None:
    from crawlers.demo import DemoDataError

    with pytest.raises(DemoDataError, match="no course files"):
        load_catalogue(tmp_path)
