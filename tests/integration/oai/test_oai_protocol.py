"""/oai answers to the letter of the OAI-PMH 2.0 specification (checks written from its sections 2, 3 and 4)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from crawlers.kinds.oai_metadata import read_lom
from search_api.oai.tokens import decode, encode
from tests.integration.oai.repository import REPOSITORY, Repository, course, serve_repository

O = "{http://www.openarchives.org/OAI/2.0/}"  # noqa: E741
DC = "{http://purl.org/dc/elements/1.1/}"
UTC_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
COUNT = 40
PAGE = 10


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Repository]:
    with serve_repository(tmp_path_factory.mktemp("oai"), records=[course(n) for n in range(COUNT)],
                          page_size=PAGE) as running:  # fmt: skip
        yield running


def ask(repository: Repository, **params: str) -> etree._Element:
    response = httpx.get(repository.oai, params=params, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    root = etree.fromstring(response.content)
    assert root.tag == f"{O}OAI-PMH"
    names = [etree.QName(c).localname for c in root]
    assert names[:2] == ["responseDate", "request"] and len(names) >= 3  # section 3.2: the order of the parts
    assert UTC_SECONDS.match(str(root.findtext(f"{O}responseDate")))
    return root


def error_codes(root: etree._Element) -> list[str]:
    return [e.get("code", "") for e in root.findall(f"{O}error")]


def identifier(n: int) -> str:
    return f"oai:{REPOSITORY}:{course(n).uid}"


def test_identify_gives_every_required_element_in_schema_order(repository: Repository) -> None:
    root = ask(repository, verb="Identify")
    identify = root.find(f"{O}Identify")
    assert identify is not None
    names = [etree.QName(c).localname for c in identify]
    assert names == ["repositoryName", "baseURL", "protocolVersion", "adminEmail", "earliestDatestamp",
                     "deletedRecord", "granularity", "description"]  # fmt: skip
    assert identify.findtext(f"{O}baseURL") == repository.oai == root.findtext(f"{O}request")
    assert identify.findtext(f"{O}protocolVersion") == "2.0"
    assert identify.findtext(f"{O}deletedRecord") == "persistent"
    assert identify.findtext(f"{O}granularity") == "YYYY-MM-DDThh:mm:ssZ"
    assert UTC_SECONDS.match(str(identify.findtext(f"{O}earliestDatestamp")))
    assert root.find(f"{O}request").attrib == {"verb": "Identify"}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "badVerb"),
        ({"verb": "Harvest"}, "badVerb"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "Identify", "metadataPrefix": "oai_dc"}, "badArgument"),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-01-01T00:00:00"}, "badArgument"),
        (
            {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-01-01", "until": "2024-02-01T00:00:00Z"},
            "badArgument",
        ),
        (
            {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-02-01", "until": "2024-01-01"},
            "badArgument",
        ),
        ({"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"}, "badArgument"),
        ({"verb": "ListIdentifiers", "metadataPrefix": "lom2"}, "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "metadataPrefix": "marc", "identifier": identifier(1)}, "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "le_ouchn:c00001"}, "idDoesNotExist"),
        ({"verb": "ListMetadataFormats", "identifier": f"oai:{REPOSITORY}:nobody:1"}, "idDoesNotExist"),
        ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": "2999-01-01"}, "noRecordsMatch"),
        ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "region:beijing"}, "noRecordsMatch"),
        ({"verb": "ListRecords", "resumptionToken": "eyJ2IjoxfQ.0000"}, "badResumptionToken"),
        ({"verb": "ListSets", "resumptionToken": "x"}, "badResumptionToken"),
    ],
)
def test_each_error_condition_has_its_code(repository: Repository, params: dict[str, str], code: str) -> None:
    root = ask(repository, **params)
    assert error_codes(root) == [code]
    request = root.find(f"{O}request")
    assert request is not None and request.text == repository.oai
    if code in ("badVerb", "badArgument"):  # section 3.2: no attributes after these two
        assert request.attrib == {}
    else:
        assert request.attrib == params


def test_a_repeated_argument_is_a_bad_argument(repository: Repository) -> None:
    response = httpx.get(f"{repository.oai}?verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=lom")
    assert error_codes(etree.fromstring(response.content)) == ["badArgument"]
    response = httpx.get(f"{repository.oai}?verb=Identify&verb=Identify")
    assert error_codes(etree.fromstring(response.content)) == ["badVerb"]


def _pages(repository: Repository, verb: str, **params: str) -> list[etree._Element]:
    pages = [ask(repository, verb=verb, **params)]
    while (token := pages[-1].find(f"{O}{verb}/{O}resumptionToken")) is not None and token.text:
        pages.append(ask(repository, verb=verb, resumptionToken=token.text))
    return pages


def test_resumption_tokens_carry_the_list_size_cursor_and_expiry_and_the_last_one_is_empty(
    repository: Repository,
) -> None:
    pages = _pages(repository, "ListIdentifiers", metadataPrefix="oai_dc")
    tokens = [p.find(f"{O}ListIdentifiers/{O}resumptionToken") for p in pages]
    assert len(pages) == COUNT // PAGE
    for number, token in enumerate(tokens):
        assert token is not None
        assert token.get("completeListSize") == str(COUNT) and token.get("cursor") == str(number * PAGE)
    assert all(UTC_SECONDS.match(str(t.get("expirationDate"))) for t in tokens[:-1] if t is not None)
    last = tokens[-1]
    assert last is not None and not last.text and last.get("expirationDate") is None
    headers = [h for p in pages for h in p.iterfind(f"{O}ListIdentifiers/{O}header")]
    assert len(headers) == COUNT == len({h.findtext(f"{O}identifier") for h in headers})
    for header in headers:
        assert [etree.QName(c).localname for c in header][:2] == ["identifier", "datestamp"]
        assert UTC_SECONDS.match(str(header.findtext(f"{O}datestamp")))
        assert header.findtext(f"{O}setSpec", "").startswith("platform:")


def test_one_page_lists_need_no_token(repository: Repository) -> None:
    root = ask(repository, verb="ListRecords", metadataPrefix="oai_dc", set="programme:nengzheweishi")
    assert root.find(f"{O}ListRecords/{O}resumptionToken") is None
    assert len(root.findall(f"{O}ListRecords/{O}record")) == len([n for n in range(COUNT) if n % 21 == 7])


def test_a_changed_or_expired_token_is_refused(repository: Repository) -> None:
    root = ask(repository, verb="ListRecords", metadataPrefix="oai_dc")
    token = str(root.findtext(f"{O}ListRecords/{O}resumptionToken"))
    data, check = token.split(".")
    assert error_codes(ask(repository, verb="ListRecords", resumptionToken=f"{data[:-2]}AA.{check}")) == [
        "badResumptionToken"]  # fmt: skip
    assert error_codes(ask(repository, verb="ListIdentifiers", resumptionToken=token)) == ["badResumptionToken"]
    position = decode(token, verb="ListRecords", now_seconds=time.time())
    expired = encode(position.__class__(**{**position.__dict__, "expires": int(time.time()) - 1}))
    assert error_codes(ask(repository, verb="ListRecords", resumptionToken=expired)) == ["badResumptionToken"]


def test_post_is_answered_as_get(repository: Repository) -> None:
    params = {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "platform:lndx"}
    posted = httpx.post(repository.oai, data=params)
    got = httpx.get(repository.oai, params=params)
    assert posted.status_code == 200
    strip = re.compile(rb"<responseDate>[^<]*</responseDate>|<resumptionToken[^>]*>[^<]*</resumptionToken>")
    assert strip.sub(b"", posted.content) == strip.sub(b"", got.content)
    plain = httpx.post(repository.oai, content=b"verb=Identify", headers={"Content-Type": "text/plain"})
    assert plain.status_code == 415


def test_list_sets_names_each_platform_theme_and_programme(repository: Repository) -> None:
    root = ask(repository, verb="ListSets")
    sets = {s.findtext(f"{O}setSpec"): s.findtext(f"{O}setName") for s in root.iterfind(f"{O}ListSets/{O}set")}
    assert sets["platform:lndx"] == "国家老年大学"
    assert sets["theme:yangshengbaojian"] == "养生保健"
    assert sets["programme:zhihuizhulao"] == "智慧助老"
    assert sets["programme:baixingxuexizhixing"] == "百姓学习之星"
    assert {"platform", "theme", "programme"} <= set(sets)
    assert all(re.fullmatch(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*", str(s)) for s in sets)


def test_list_metadata_formats_offers_oai_dc_and_lom(repository: Repository) -> None:
    root = ask(repository, verb="ListMetadataFormats", identifier=identifier(3))
    prefixes = [f.findtext(f"{O}metadataPrefix") for f in root.iterfind(f"{O}ListMetadataFormats/{O}metadataFormat")]
    assert prefixes == ["oai_dc", "lom"]


def test_records_carry_dublin_core_and_lom_that_edufed_reads_back(repository: Repository) -> None:
    record = course(8)
    dc = ask(repository, verb="GetRecord", metadataPrefix="oai_dc", identifier=identifier(8))
    metadata = dc.find(f"{O}GetRecord/{O}record/{O}metadata")
    assert metadata is not None
    assert [e.text for e in metadata.iter(f"{DC}title")] == [record.title]
    assert [e.text for e in metadata.iter(f"{DC}identifier")] == [record.url]
    assert [e.text for e in metadata.iter(f"{DC}subject")][: len(record.themes)] == record.themes
    lom = ask(repository, verb="GetRecord", metadataPrefix="lom", identifier=identifier(8))
    element = lom.find(f"{O}GetRecord/{O}record/{O}metadata")
    assert element is not None
    fields = read_lom(element[0]).fields
    assert fields["title"] == record.title and fields["themes"] == record.themes
    assert fields["instructors"] == [record.instructors[0].name]
    assert fields["duration_seconds"] == record.duration_seconds
    assert fields["categories"] == record.categories_raw


def test_a_withdrawn_record_answers_with_a_deleted_header_and_no_metadata(tmp_path: Path) -> None:
    with serve_repository(tmp_path, records=[course(n) for n in range(5)]) as repo:
        repo.backend.withdraw([course(2).uid])
        root = ask(repo, verb="GetRecord", metadataPrefix="oai_dc", identifier=identifier(2))
        record = root.find(f"{O}GetRecord/{O}record")
        assert record is not None and record.find(f"{O}metadata") is None
        header = record.find(f"{O}header")
        assert header is not None and header.get("status") == "deleted"
        assert header.findtext(f"{O}setSpec") == f"platform:{course(2).platform}"
        listed = ask(repo, verb="ListIdentifiers", metadataPrefix="lom", set=f"platform:{course(2).platform}")
        assert [h.get("status") for h in listed.iterfind(f"{O}ListIdentifiers/{O}header")] == ["deleted"]


def test_paging_is_stable_while_records_change_and_the_next_harvest_gets_the_changes(tmp_path: Path) -> None:
    with serve_repository(tmp_path, records=[course(n) for n in range(60)], page_size=10) as repo:
        start = ask(repo, verb="Identify").findtext(f"{O}responseDate")
        first = ask(repo, verb="ListIdentifiers", metadataPrefix="oai_dc")
        seen = [h.findtext(f"{O}identifier") for h in first.iterfind(f"{O}ListIdentifiers/{O}header")]
        token = first.findtext(f"{O}ListIdentifiers/{O}resumptionToken")
        early, late = course(int(seen[0].rsplit("c", 1)[1])), [course(n) for n in range(60)]  # type: ignore[union-attr]
        late = [r for r in late if f"oai:{REPOSITORY}:{r.uid}" not in seen][:5]
        repo.backend.upsert([early.model_copy(update={"title": "改过的标题", "content_hash": ""}), *[
            r.model_copy(update={"title": r.title + "（新版）", "content_hash": ""}) for r in late]])  # fmt: skip
        repo.backend.withdraw([late[0].uid])
        repo.backend.upsert([course(100)])
        while token:
            page = ask(repo, verb="ListIdentifiers", resumptionToken=token)
            seen += [h.findtext(f"{O}identifier") for h in page.iterfind(f"{O}ListIdentifiers/{O}header")]
            token = page.findtext(f"{O}ListIdentifiers/{O}resumptionToken")
        assert len(seen) == len(set(seen)) == 55  # nothing repeated; the 5 changed later move past the list's end
        again = _pages(repo, "ListIdentifiers", metadataPrefix="oai_dc", **{"from": str(start)})
        headers = {h.findtext(f"{O}identifier"): h.get("status") for p in again
                   for h in p.iterfind(f"{O}ListIdentifiers/{O}header")}  # fmt: skip
        assert set(seen) | set(headers) == {f"oai:{REPOSITORY}:{course(n).uid}" for n in [*range(60), 100]}
        assert headers[f"oai:{REPOSITORY}:{late[0].uid}"] == "deleted"


def test_anonymous_harvesters_are_held_to_a_request_rate(tmp_path: Path) -> None:
    with serve_repository(tmp_path, records=[course(1)], per_minute=3) as repo:
        answers = [httpx.get(repo.oai, params={"verb": "Identify"}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 503]
    assert int(answers[-1].headers["Retry-After"]) >= 1
    body: Any = answers[-1].json()
    assert body["error"]["code"] == "rate_limited"
