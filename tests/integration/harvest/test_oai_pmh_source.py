"""The oai_pmh source against a local OAI-PMH repository replaying hand-written responses."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from config import load_themes
from config.settings import Settings
from config.source_models import OaiPmhSourceConfig
from crawlers.errors import FetchError, ParseError, SourceConfigError
from crawlers.fetch import Fetcher
from crawlers.kinds.base import build_source
from crawlers.kinds.oai_metadata import iso_duration_seconds, parse_datestamp, parse_xml
from crawlers.kinds.oai_pmh import OaiPmhSource, format_from
from crawlers.run import harvest as run_harvest
from indexer.backends.sqlite import SqliteBackend
from indexer.pipeline import RecordBuilder
from indexer.record import RawRecord
from tests.support.http_server import FixtureServer, Reply, http_server_fixture  # noqa: F401
from tests.support.oai import (
    OAI_PATH,
    document,
    expected,
    oai_queries,
    serve,
    serve_repository,
    source_config,
    xml_reply,
)
from tests.support.settings import local_http

SETTINGS = local_http()


class RecordingSleep:
    """Stands in for time.sleep so a Retry-After wait is checked without waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def harvest(
    config: OaiPmhSourceConfig, cursor: Any = None, *, fetcher: Fetcher | None = None
) -> tuple[list[RawRecord], OaiPmhSource]:
    with fetcher or Fetcher(SETTINGS, obey_robots=False) as active:
        source = build_source(config, active)
        assert isinstance(source, OaiPmhSource)
        source.cursor_in = dict(cursor or {})
        return list(source.iter_records()), source


def check_against(name: str, server: FixtureServer, records: list[RawRecord], source: OaiPmhSource) -> None:
    want = expected(name, server)
    assert oai_queries(server) == want["requests"]
    assert [r.source_id for r in records] == [w["source_id"] for w in want["records"]]
    for record, wanted in zip(records, want["records"], strict=True):
        assert record.fields == wanted["fields"], record.source_id
        assert record.payload["header"]["identifier"] == record.source_id
    assert source.deleted_ids == want["deleted"]
    assert [(p.source_id, p.reason) for p in source.problems] == [
        (w["source_id"], w["reason"]) for w in want["problems"]
    ]
    assert source.cursor_out is not None and source.cursor_out["from"] == want["cursor_from"]
    assert source.warnings == []


def test_a_full_harvest_follows_the_resumption_token(http_server: FixtureServer) -> None:
    serve_repository(http_server)
    records, source = harvest(source_config(http_server))
    check_against("expected-full.json", http_server, records, source)
    assert source.scope == "full"
    assert records[0].api_url == http_server.url(f"{OAI_PATH}?verb=ListRecords&metadataPrefix=oai_dc")
    assert records[0].payload["metadata"].startswith("<oai_dc:dc ")


def test_a_second_harvest_asks_only_for_records_since_the_last_datestamp(http_server: FixtureServer) -> None:
    serve_repository(http_server)
    config = source_config(http_server)
    _, first = harvest(config)
    serve(
        http_server,
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-03-06T00:00:00Z"},
        "list-since.xml",
    )
    http_server.requests.clear()
    records, again = harvest(config, first.cursor_out)
    check_against("expected-since.json", http_server, records, again)
    assert again.scope == "incremental"


def test_from_is_sent_at_day_granularity_when_the_repository_has_no_seconds(
    http_server: FixtureServer,
) -> None:
    serve_repository(http_server, identify="identify-day.xml")
    serve(
        http_server,
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-03-06"},
        "list-since.xml",
    )
    config = source_config(http_server)
    _, first = harvest(config)
    http_server.requests.clear()
    records, again = harvest(config, first.cursor_out)
    assert oai_queries(http_server)[1] == {
        "verb": "ListRecords",
        "metadataPrefix": "oai_dc",
        "from": "2024-03-06",
    }
    assert [r.fields["title"] for r in records] == ["太极拳入门（第一讲·修订）"]
    assert again.cursor_out is not None and again.cursor_out["granularity"] == "YYYY-MM-DD"


def test_no_records_match_is_an_empty_success_that_keeps_the_cursor(http_server: FixtureServer) -> None:
    serve_repository(http_server)
    config = source_config(http_server)
    _, first = harvest(config)
    assert first.cursor_out is not None
    serve(
        http_server,
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-03-06T00:00:00Z"},
        "error-no-records-match.xml",
    )
    records, again = harvest(config, first.cursor_out)
    assert records == [] and again.problems == [] and again.warnings == []
    assert again.cursor_out == first.cursor_out
    assert again.deleted_ids == []


def test_a_changed_set_harvests_in_full_and_sends_the_set(http_server: FixtureServer) -> None:
    serve_repository(http_server)
    _, first = harvest(source_config(http_server))
    http_server.requests.clear()
    _, again = harvest(source_config(http_server, set_spec="laonian"), first.cursor_out)
    assert oai_queries(http_server)[1] == {
        "verb": "ListRecords",
        "metadataPrefix": "oai_dc",
        "set": "laonian",
    }
    assert again.scope == "full"
    assert any("configuration changed" in n for n in again.notes)


def test_lom_is_harvested_when_configured_and_offered(http_server: FixtureServer) -> None:
    serve(http_server, {"verb": "Identify"}, "identify.xml")
    serve(http_server, {"verb": "ListMetadataFormats"}, "list-metadata-formats.xml")
    serve(http_server, {"verb": "ListRecords", "metadataPrefix": "lom"}, "list-lom.xml")
    records, source = harvest(source_config(http_server, lom_prefix="lom"))
    check_against("expected-lom.json", http_server, records, source)
    assert source.cursor_out is not None and source.cursor_out["metadata_prefix"] == "lom"


def test_oai_dc_is_harvested_when_the_lom_prefix_is_not_offered(http_server: FixtureServer) -> None:
    serve_repository(http_server)
    serve(http_server, {"verb": "ListMetadataFormats"}, "list-metadata-formats.xml")
    records, source = harvest(source_config(http_server, lom_prefix="ieee_lom"))
    assert len(records) == 3
    assert oai_queries(http_server)[2] == {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    assert "the repository does not offer ieee_lom; harvesting oai_dc" in source.notes


def test_a_bad_resumption_token_restarts_the_list_once_without_duplicates(http_server: FixtureServer) -> None:
    serve_repository(http_server)
    http_server.route(
        OAI_PATH,
        query={"verb": "ListRecords", "resumptionToken": "page-2"},
        responses=[xml_reply("error-bad-resumption-token.xml"), xml_reply("list-2.xml")],
    )
    records, source = harvest(source_config(http_server))
    want = expected("expected-full.json", http_server)
    assert [r.source_id for r in records] == [w["source_id"] for w in want["records"]]
    sent = oai_queries(http_server)
    assert sent[1] == sent[3] == {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    assert sent[2] == sent[4] == {"verb": "ListRecords", "resumptionToken": "page-2"}
    assert source.warnings == ["badResumptionToken 'page-2': restarted the list from the beginning"]
    assert source.cursor_out is not None


def test_a_bad_resumption_token_restart_keeps_the_runs_from(http_server: FixtureServer) -> None:
    serve_repository(http_server)
    config = source_config(http_server)
    _, first = harvest(config)
    serve(
        http_server,
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-03-06T00:00:00Z"},
        "list-1.xml",
    )
    http_server.route(
        OAI_PATH,
        query={"verb": "ListRecords", "resumptionToken": "page-2"},
        responses=[xml_reply("error-bad-resumption-token.xml"), xml_reply("list-2.xml")],
    )
    http_server.requests.clear()
    harvest(config, first.cursor_out)
    firsts = [q for q in oai_queries(http_server) if "metadataPrefix" in q]
    assert [q.get("from") for q in firsts] == ["2024-03-06T00:00:00Z", "2024-03-06T00:00:00Z"]


def test_a_bad_resumption_token_again_after_the_restarts_fails(http_server: FixtureServer) -> None:
    serve_repository(http_server)
    serve(http_server, {"verb": "ListRecords", "resumptionToken": "page-2"}, "error-bad-resumption-token.xml")
    with pytest.raises(ParseError) as caught:
        harvest(source_config(http_server, max_restarts=1))
    assert "badResumptionToken 'page-2' after 1 restarts of the list" in caught.value.reason
    assert len(oai_queries(http_server)) == 5  # Identify, then two tries of page 1 + page 2


def test_a_repeated_resumption_token_stops_the_list_with_a_warning(http_server: FixtureServer) -> None:
    serve_repository(http_server)
    serve(http_server, {"verb": "ListRecords", "resumptionToken": "page-2"}, "list-1.xml")
    records, source = harvest(source_config(http_server))
    assert [r.source_id for r in records] == [
        "oai:learn.example.edu.cn:res/1001",
        "oai:learn.example.edu.cn:res/1002",
    ]
    assert len(oai_queries(http_server)) == 3
    assert source.warnings == [
        "resumptionToken 'page-2' came back a second time; stopped the list to avoid a loop, the cursor is not advanced"
    ]
    assert source.cursor_out is None


def test_max_pages_stops_the_list_with_a_warning_and_no_cursor(http_server: FixtureServer) -> None:
    serve_repository(http_server)
    records, source = harvest(source_config(http_server, max_pages=1))
    assert len(records) == 2 and len(oai_queries(http_server)) == 2
    assert source.warnings[0].startswith("stopped after max_pages=1 ListRecords pages")
    assert source.cursor_out is None


@pytest.mark.parametrize(
    ("document_name", "error", "message"),
    [
        ("error-bad-argument.xml", ParseError, "OAI-PMH error badArgument: Illegal date format for from"),
        (
            "error-cannot-disseminate-format.xml",
            SourceConfigError,
            "refused ListRecords: cannotDisseminateFormat",
        ),
        (
            "error-no-set-hierarchy.xml",
            SourceConfigError,
            "noSetHierarchy: This repository does not support sets",
        ),
    ],
)
def test_oai_error_codes_fail_with_a_clear_error(
    http_server: FixtureServer, document_name: str, error: type[Exception], message: str
) -> None:
    serve(http_server, {"verb": "Identify"}, "identify.xml")
    serve(http_server, {"verb": "ListRecords"}, document_name)
    with pytest.raises(error) as caught:
        harvest(source_config(http_server))
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (document("list-1.xml")[:900], "not well-formed XML"),
        (b"", "not well-formed XML"),
        (document("not-oai.html"), "not an OAI-PMH response (root element 'html')"),
        (b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><GetRecord/></OAI-PMH>', "no <ListRecords>"),
    ],
)
def test_a_malformed_list_fails_the_run_naming_the_page(http_server: FixtureServer, body: bytes, reason: str) -> None:
    serve(http_server, {"verb": "Identify"}, "identify.xml")
    serve(http_server, {"verb": "ListRecords"}, body)
    with pytest.raises(ParseError) as caught:
        harvest(source_config(http_server))
    assert reason in caught.value.reason
    assert "verb=ListRecords" in caught.value.url


@pytest.mark.parametrize("document_name", ["billion-laughs.xml", "external-entity.xml"])
def test_documents_declaring_entities_are_refused_unexpanded(http_server: FixtureServer, document_name: str) -> None:
    serve(http_server, {"verb": "Identify"}, document_name)
    started = time.monotonic()
    with pytest.raises(ParseError) as caught:
        harvest(source_config(http_server))
    assert "declares XML entities" in caught.value.reason
    assert "root:" not in str(caught.value) and "lollollol" not in str(caught.value)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("document_name", ["billion-laughs.xml", "external-entity.xml"])
def test_entity_declarations_in_utf16_are_refused_too(document_name: str) -> None:
    text = (
        document(document_name)
        .decode("utf-8")
        .replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    )
    with pytest.raises(ParseError) as caught:
        parse_xml(text.encode("utf-16"), url="http://x/")
    assert "declares XML entities" in caught.value.reason or "amplification" in caught.value.reason


def test_entity_references_are_never_expanded_by_the_parser() -> None:
    root = parse_xml(b"<a>&amp;&#20013;</a>", url="http://x/")
    assert root.text == "&中"
    with pytest.raises(ParseError):
        parse_xml(b"<a>&undeclared;</a>", url="http://x/")


def test_a_503_with_retry_after_is_waited_out_then_harvested(http_server: FixtureServer) -> None:
    serve_repository(http_server)
    http_server.route(
        OAI_PATH,
        query={"verb": "ListRecords", "resumptionToken": "page-2"},
        responses=[Reply(status=503, headers={"Retry-After": "7"}, body=b"busy"), xml_reply("list-2.xml")],
    )
    sleep = RecordingSleep()
    fetcher = Fetcher(SETTINGS.model_copy(update={"retries": 2}), obey_robots=False, sleep=sleep)
    records, source = harvest(source_config(http_server), fetcher=fetcher)
    assert sleep.calls == [7.0]
    assert len(records) == 3 and source.cursor_out is not None


def test_a_503_that_persists_fails_the_run(http_server: FixtureServer) -> None:
    serve(http_server, {"verb": "Identify"}, "identify.xml")
    http_server.route(OAI_PATH, query={"verb": "ListRecords"}, status=503, headers={"Retry-After": "1"})
    sleep = RecordingSleep()
    fetcher = Fetcher(SETTINGS.model_copy(update={"retries": 1}), obey_robots=False, sleep=sleep)
    with pytest.raises(FetchError) as caught:
        harvest(source_config(http_server), fetcher=fetcher)
    assert caught.value.status == 503 and sleep.calls == [1.0]


def test_a_record_alive_after_its_deletion_in_one_run_is_not_deleted(http_server: FixtureServer) -> None:
    serve_repository(http_server)
    revived = document("list-2.xml").replace(b"res/1003", b"res/0999")
    serve(http_server, {"verb": "ListRecords", "resumptionToken": "page-2"}, revived)
    records, source = harvest(source_config(http_server))
    assert "oai:learn.example.edu.cn:res/0999" in [r.source_id for r in records]
    assert source.deleted_ids == []


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("2024-03-06", "2024-03-06T00:00:00+00:00"),
        ("2024-03-06T08:15:00Z", "2024-03-06T08:15:00+00:00"),
        ("2024-03-06T16:15:00+08:00", "2024-03-06T08:15:00+00:00"),
        ("06/03/2024", None),
        (None, None),
    ],
)
def test_datestamps_are_read_as_utc(value: str | None, want: str | None) -> None:
    stamp = parse_datestamp(value)
    assert (stamp.isoformat() if stamp else None) == want


def test_from_is_formatted_at_the_granularity() -> None:
    stamp = parse_datestamp("2024-03-06T08:15:09Z")
    assert stamp is not None
    assert format_from(stamp, "YYYY-MM-DD") == "2024-03-06"
    assert format_from(stamp, "YYYY-MM-DDThh:mm:ssZ") == "2024-03-06T08:15:09Z"


@pytest.mark.parametrize(
    ("value", "want"),
    [("PT1H20M", 4800), ("PT45M", 2700), ("P1DT30S", 86430), ("P", None), ("45 分钟", None)],
)
def test_lom_durations_become_seconds(value: str, want: int | None) -> None:
    assert iso_duration_seconds(value) == want


def test_a_harvest_run_writes_the_repository_into_a_sqlite_index(tmp_path: Path, http_server: FixtureServer) -> None:
    serve_repository(http_server)
    settings = Settings(data_dir=tmp_path, http=SETTINGS)
    backend = SqliteBackend(settings.index_path)
    try:
        report = run_harvest(
            source_config(http_server),
            settings=settings,
            backend=backend,
            builder=RecordBuilder(load_themes()),
        )
        assert report.error is None and report.status == "partial"  # three records without usable metadata
        assert (report.fetched, report.new, report.rejected, report.written) == (6, 3, 3, 3)
        assert backend.count("oai_test") == 3
        record = backend.get("oai_test:oai:learn.example.edu.cn:res/1001")
        assert record is not None
        assert (record.title, record.subtitle, record.record_type) == (
            "太极拳入门（第一讲）",
            "二十四式简化太极拳",
            "video",
        )
        assert [p.name for p in record.instructors] == ["李振华", "周敏"] and record.provider is not None
        assert record.updated_at is not None and record.updated_at.isoformat() == "2024-03-02T08:15:00+00:00"
        assert ["体育健身", "太极拳"] in record.categories_raw
        again = run_harvest(
            source_config(http_server),
            settings=settings,
            backend=backend,
            builder=RecordBuilder(load_themes()),
        )
        assert (again.new, again.updated, again.unchanged, again.written) == (0, 0, 3, 0)
    finally:
        backend.close()
