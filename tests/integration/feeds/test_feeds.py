"""Atom and RSS feeds of searches, themes, platforms and programmes: read back by feedparser, with conditional GET."""

from __future__ import annotations

from pathlib import Path

import feedparser
import httpx
import pytest

from indexer.backends.sqlite import SqliteBackend
from tests.integration.feeds.site import PUBLIC, serve_site
from tests.integration.oai.repository import course

COUNT = 60
FORMATS = ["atom", "rss"]


def _parse(response: httpx.Response) -> feedparser.FeedParserDict:
    assert response.status_code == 200, response.text
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def _uids(feed: feedparser.FeedParserDict) -> list[str]:
    prefix = f"{PUBLIC}/records/"
    assert all(entry.link.startswith(prefix) for entry in feed.entries)
    return [entry.link.removeprefix(prefix) for entry in feed.entries]


@pytest.mark.parametrize("kind", FORMATS)
def test_a_search_feed_parses_cleanly_and_lists_the_newest_matching_records_first(
    kind: str, index: SqliteBackend, tmp_path: Path
) -> None:
    records = [course(n) for n in range(COUNT)]
    index.upsert(records)
    with serve_site(tmp_path, backend=index) as url:
        feed = _parse(httpx.get(f"{url}/feeds/search.{kind}", params={"q": "闲暇生活", "theme": "闲暇生活"}))
    # A word that names the filtered theme takes in every course of the theme (as the search API does).
    matching = [r for r in records if "闲暇生活" in r.themes]
    newest = sorted(matching, key=lambda r: (r.published_at, r.uid), reverse=True)
    assert _uids(feed) == [r.uid for r in newest][:20] and len(matching) > 3
    assert feed.version == ("atom10" if kind == "atom" else "rss20")
    first = feed.entries[0]
    assert first.title == newest[0].title and newest[0].platform_name in first.summary
    assert "闲暇生活" in feed.feed.title


@pytest.mark.parametrize("kind", FORMATS)
def test_a_feed_answers_304_to_its_etag_or_last_modified_until_the_catalogue_changes(
    kind: str, index: SqliteBackend, tmp_path: Path
) -> None:
    index.upsert([course(n) for n in range(20)])
    with serve_site(tmp_path, backend=index) as url:
        path = f"{url}/feeds/themes/养生保健.{kind}"
        first = httpx.get(path)
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        assert httpx.get(path, headers={"If-None-Match": etag}).status_code == 304
        assert httpx.get(path, headers={"If-Modified-Since": modified}).status_code == 304
        assert httpx.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
        assert httpx.get(path, headers={"If-Modified-Since": "not a date"}).status_code == 200
        renamed = course(2).model_copy(update={"updated_at": course(2).fetched_at, "title": "新的养生保健课"})
        index.upsert([renamed.model_copy(update={"content_hash": renamed.compute_hash()})])  # updated on its platform
        changed = httpx.get(path, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed.headers["ETag"] != etag
        assert httpx.get(path, headers={"If-Modified-Since": modified}).status_code == 200
        assert _parse(changed).entries[0].title == "新的养生保健课"


def test_a_search_feed_lists_nothing_when_no_record_of_its_theme_holds_its_word(
    index: SqliteBackend, tmp_path: Path
) -> None:
    """The search API shows the theme's courses for a word none of them holds; a feed of that search stays empty
    until a course holding the word arrives."""
    records = [course(n) for n in range(COUNT)]
    index.upsert(records)
    params = {"q": "孙子", "theme": "心理健康"}
    with serve_site(tmp_path, backend=index) as url:
        searched = httpx.get(f"{url}/api/v1/search", params=params).json()
        feed = _parse(httpx.get(f"{url}/feeds/search.atom", params=params))
        arrived = records[5].model_copy(update={"title": "孙子的心理", "themes": ["心理健康"]})
        index.upsert([arrived.model_copy(update={"content_hash": arrived.compute_hash()})])
        later = _parse(httpx.get(f"{url}/feeds/search.atom", params=params))
    assert searched["relaxed"] and searched["theme_only"] and searched["total"] > 0
    assert all(i["missing"] == ["孙子"] for i in searched["items"])
    assert feed.entries == []
    assert _uids(later) == [records[5].uid]


@pytest.mark.parametrize("kind", FORMATS)
def test_theme_platform_and_programme_feeds_hold_only_their_own_records(
    kind: str, index: SqliteBackend, tmp_path: Path
) -> None:
    records = [course(n) for n in range(COUNT)]
    index.upsert(records)
    index.withdraw([records[7].uid])
    with serve_site(tmp_path, backend=index) as url:
        theme = _uids(_parse(httpx.get(f"{url}/feeds/themes/心理健康.{kind}")))
        platform = _uids(_parse(httpx.get(f"{url}/feeds/platforms/lndx.{kind}")))
        programme = _parse(httpx.get(f"{url}/feeds/programmes/智慧助老.{kind}"))
    by_uid = {r.uid: r for r in records}
    assert theme and all("心理健康" in by_uid[u].themes for u in theme)
    assert platform and all(by_uid[u].platform == "lndx" for u in platform)
    in_programme = {r.uid for r in records if "智慧助老" in r.programmes} - {records[7].uid}
    assert set(_uids(programme)) == in_programme and "智慧助老" in programme.feed.title


@pytest.mark.parametrize("kind", FORMATS)
def test_a_region_feed_holds_only_that_provinces_records_by_any_of_its_names(
    kind: str, index: SqliteBackend, tmp_path: Path
) -> None:
    regions = ({"province": "广东", "city": "广州市"}, {"province": "全国"}, {})
    records = []
    for n in range(30):
        record = course(n).model_copy(update={"region": regions[n % 3]})
        records.append(record.model_copy(update={"content_hash": record.compute_hash()}))
    index.upsert(records)
    canton = sorted((r for r in records if r.region.get("province") == "广东"), key=lambda r: (r.published_at, r.uid))
    with serve_site(tmp_path, backend=index) as url:
        feeds = [_parse(httpx.get(f"{url}/feeds/regions/{name}.{kind}")) for name in ("广东", "广东省", "guangdong")]
        national = _uids(_parse(httpx.get(f"{url}/feeds/regions/全国.{kind}")))
        missing = httpx.get(f"{url}/feeds/regions/火星.{kind}", headers={"Accept": "application/json"})
    assert _uids(feeds[0]) == [r.uid for r in reversed(canton)] and len(canton) == 10
    assert _uids(feeds[1]) == _uids(feeds[2]) == _uids(feeds[0])
    assert feeds[0].feed.title == "终身学习课程：广东省"
    assert set(national) == {r.uid for r in records if r.region.get("province") == "全国"}
    assert missing.status_code == 404 and missing.json()["error"]["details"][0]["field"] == "region"


def test_unknown_feeds_and_oversized_pages_are_clear_errors(index: SqliteBackend, tmp_path: Path) -> None:
    index.upsert([course(n) for n in range(10)])
    with serve_site(tmp_path, backend=index) as url:
        for path in ("/feeds/themes/不存在.atom", "/feeds/platforms/nowhere.rss", "/feeds/programmes/无此项目.atom",
                     "/feeds/search.json"):  # fmt: skip
            response = httpx.get(url + path, headers={"Accept": "application/json"})
            assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", path
        too_big = httpx.get(f"{url}/feeds/search.atom", params={"size": "500"}, headers={"Accept": "application/json"})
        assert too_big.status_code == 422 and too_big.json()["error"]["details"][0]["field"] == "size"


def test_an_address_past_its_budget_gets_429_with_retry_after(index: SqliteBackend, tmp_path: Path) -> None:
    index.upsert([course(n) for n in range(5)])
    with serve_site(tmp_path, backend=index, per_minute=3) as url:
        answers = [httpx.get(f"{url}/feeds/search.atom").status_code for _ in range(3)]
        refused = httpx.get(f"{url}/sitemap.xml", headers={"Accept": "application/json"})
    assert answers == [200, 200, 200]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited"
