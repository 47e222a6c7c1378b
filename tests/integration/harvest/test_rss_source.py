"""The rss source against a local server serving RSS 0.9x/1.0/2.0 and Atom feeds in Chinese encodings."""

from __future__ import annotations

import codecs
import json

import pytest

from config.source_models import RssSourceConfig
from crawlers.errors import FetchError, ParseError, SourceConfigError
from crawlers.fetch import Fetcher
from crawlers.kinds import build_source
from crawlers.kinds.base import Source
from crawlers.kinds.rss import decode_feed
from indexer.record import RawRecord
from tests.support.feeds import RSS_DIR, expected_cases, load_case, rss_config, serve_feed
from tests.support.http_server import FixtureServer, http_server_fixture  # noqa: F401
from tests.support.settings import local_http

SETTINGS = local_http()


def harvest(config: RssSourceConfig) -> tuple[list[RawRecord], Source]:
    with Fetcher(SETTINGS) as fetcher:
        source = build_source(config, fetcher)
        return list(source.iter_records()), source


@pytest.mark.parametrize("case_name", expected_cases())
def test_each_recorded_feed_gives_its_expected_records(http_server: FixtureServer, case_name: str) -> None:
    case = load_case(case_name)
    serve_feed(http_server, case["feed"], content_type=case["content_type"])
    config = rss_config(http_server, encoding=case["encoding"])
    if case["error"]:
        with pytest.raises(ParseError) as caught:
            harvest(config)
        assert case["error"] in caught.value.reason
        assert caught.value.url == http_server.url("/feed")
        return
    records, source = harvest(config)
    assert [(r.source_id, r.fields) for r in records] == [(w["source_id"], w["fields"]) for w in case["records"]]
    assert all(r.api_url == http_server.url("/feed") for r in records)
    assert len(source.problems) == len(case["problems"])
    for problem, fragment in zip(source.problems, case["problems"], strict=True):
        assert fragment in problem.reason
    assert len(source.warnings) == len(case["warnings"])
    for warning, fragment in zip(source.warnings, case["warnings"], strict=True):
        assert fragment in warning


@pytest.mark.parametrize("case_name", [c for c in expected_cases() if load_case(c)["records"]])
def test_payloads_are_json_ready_and_keep_the_entry(http_server: FixtureServer, case_name: str) -> None:
    case = load_case(case_name)
    serve_feed(http_server, case["feed"], content_type=case["content_type"])
    records, _ = harvest(rss_config(http_server, encoding=case["encoding"]))
    for record in records:
        assert json.loads(json.dumps(record.payload, ensure_ascii=False)) == record.payload
        assert record.payload["title"] == record.fields["title"]


def test_a_feed_declaring_utf8_but_written_in_gb18030_is_decoded_with_a_warning(
    http_server: FixtureServer,
) -> None:
    data = (RSS_DIR / "gb18030-undeclared.xml").read_bytes()
    mislabelled = data.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="utf-8"?>', 1)
    assert mislabelled != data
    http_server.route("/feed", body=mislabelled, content_type="application/rss+xml; charset=utf-8")
    records, source = harvest(rss_config(http_server))
    assert [r.fields["title"] for r in records] == ["口腔保健：认识咬𬌗与假牙护理", "甬剧欣赏入门"]
    assert source.warnings == [f"{http_server.url('/feed')}: feed bytes are not valid utf-8; decoded as gb18030"]


def test_an_unknown_encoding_setting_is_a_source_config_error(http_server: FixtureServer) -> None:
    serve_feed(http_server, "gbk-declared.xml")
    with pytest.raises(SourceConfigError) as caught:
        harvest(rss_config(http_server, encoding="klingon-8"))
    assert caught.value.source_id == "test_feed"
    assert "unknown encoding 'klingon-8'" in str(caught.value)


def test_a_missing_feed_is_a_fetch_error(http_server: FixtureServer) -> None:
    with pytest.raises(FetchError) as caught:
        harvest(rss_config(http_server, path="/gone.xml"))
    assert caught.value.status == 404


def test_a_body_naming_a_local_file_is_never_read_as_that_file(http_server: FixtureServer) -> None:
    local_feed = str(RSS_DIR / "atom.xml")
    http_server.route("/feed", body=local_feed, content_type="application/rss+xml")
    with pytest.raises(ParseError) as caught:
        harvest(rss_config(http_server))
    assert "not an RSS or Atom feed" in caught.value.reason


def test_an_empty_but_valid_feed_gives_no_records_and_no_error(http_server: FixtureServer) -> None:
    http_server.route(
        "/feed", body='<?xml version="1.0"?><rss version="2.0"><channel><title>空</title></channel></rss>'
    )
    records, source = harvest(rss_config(http_server))
    assert records == [] and source.problems == [] and source.warnings == []


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (codecs.BOM_UTF16_LE + '<?xml version="1.0" encoding="utf-16"?><rss/>'.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF8 + b"<rss/>", "utf-8-sig"),
        ('<?xml version="1.0" encoding="gb2312"?><rss>汉字</rss>'.encode("gb2312"), "gb18030"),
        ("<rss>汉字</rss>".encode(), "utf-8"),
    ],
)
def test_feed_bytes_are_decoded_and_redeclared_as_utf8(data: bytes, encoding: str) -> None:
    decoded = decode_feed(data)
    assert decoded.encoding == encoding
    assert decoded.warning is None
    text = decoded.data.decode("utf-8")
    assert not text.startswith("\ufeff")
    assert 'encoding="utf-8"' in text or "<?xml" not in text
