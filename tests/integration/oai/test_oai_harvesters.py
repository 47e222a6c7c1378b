"""Two independent OAI-PMH harvesters (sickle over GET, oaipmh-scythe over POST) page the whole catalogue."""

from __future__ import annotations

import re
from typing import Any

import httpx
import oaipmh_scythe
import oaipmh_scythe.exceptions as scythe_errors
import pytest
import sickle.oaiexceptions as sickle_errors
from lxml import etree
from oaipmh_scythe.config import HTTPConfig
from sickle import Sickle
from sickle.iterator import OAIResponseIterator

from config.themes import THEMES
from tests.integration.oai.conftest import CATALOGUE
from tests.integration.oai.repository import REPOSITORY, Repository, course

OAI = "{http://www.openarchives.org/OAI/2.0/}"


def identifier(uid: str) -> str:
    return f"oai:{REPOSITORY}:{uid}"


def response_date(repository: Repository) -> str:
    """The responseDate of an Identify now: where a harvester starts its next incremental harvest."""
    root = etree.fromstring(httpx.get(repository.oai, params={"verb": "Identify"}).content)
    return str(root.findtext(f"{OAI}responseDate"))


def scythe(repository: Repository) -> oaipmh_scythe.Scythe:
    return oaipmh_scythe.Scythe(repository.oai, http_config=HTTPConfig(http_method="POST", timeout=30))


def test_two_harvesters_get_the_whole_catalogue_then_only_the_changes_and_the_deletions(
    big_repository: Repository,
) -> None:
    expected = {identifier(course(n).uid) for n in range(CATALOGUE)}
    records = Sickle(big_repository.oai, max_retries=0).ListRecords(metadataPrefix="oai_dc")
    first = next(records)
    assert records.resumption_token.complete_list_size == str(CATALOGUE)
    assert records.resumption_token.cursor == "0"
    full = [first, *records]
    seen = [r.header.identifier for r in full]
    assert len(seen) == CATALOGUE and set(seen) == expected
    assert first.metadata["title"] and first.metadata["identifier"][0].startswith("https://")
    with scythe(big_repository) as client:
        headers = list(client.list_identifiers(metadata_prefix="lom"))
    assert {h.identifier for h in headers} == expected and len(headers) == CATALOGUE
    assert not any(h.deleted for h in headers)

    newest = max(r.header.datestamp for r in full)
    since = response_date(big_repository)
    while since <= newest:  # the next harvest starts in a later second than the catalogue's writes (poll the clock)
        since = response_date(big_repository)
    changed = [course(n, version=1) for n in range(0, 200, 10)]
    added = [course(n) for n in range(CATALOGUE, CATALOGUE + 5)]
    withdrawn = [course(n).uid for n in range(5, 105, 10)]
    big_repository.backend.upsert([*changed, *added])
    big_repository.backend.withdraw(withdrawn)

    again = {r.header.identifier: r for r in Sickle(big_repository.oai).ListRecords(metadataPrefix="oai_dc", **{
        "from": since})}  # fmt: skip
    assert set(again) == {identifier(r.uid) for r in [*changed, *added]} | {identifier(u) for u in withdrawn}
    assert {i for i, r in again.items() if r.deleted} == {identifier(u) for u in withdrawn}
    assert again[identifier(changed[0].uid)].metadata["title"] == [changed[0].title, "第2版"]
    with scythe(big_repository) as client:
        increment = {h.identifier: h.deleted for h in client.list_identifiers(from_=since, metadata_prefix="oai_dc")}
        gone = client.get_record(identifier(withdrawn[0]), metadata_prefix="lom")
    assert increment == {i: r.deleted for i, r in again.items()}
    assert gone.deleted and gone.header.datestamp >= since  # type: ignore[union-attr]


def test_both_harvesters_select_a_theme_set_and_agree(big_repository: Repository) -> None:
    theme = THEMES[2]
    spec = next(s.setSpec for s in Sickle(big_repository.oai).ListSets() if s.setName == theme)
    assert re.fullmatch(r"theme:[a-z]+", spec)
    by_sickle = {h.identifier for h in Sickle(big_repository.oai).ListIdentifiers(metadataPrefix="oai_dc", set=spec)}
    with scythe(big_repository) as client:
        by_scythe = {h.identifier for h in client.list_identifiers(metadata_prefix="oai_dc", set_=spec)}
    members = {identifier(course(n).uid) for n in range(CATALOGUE) if theme in course(n).themes}
    assert by_sickle == by_scythe
    assert members <= by_sickle  # and deleted or added members of the earlier test, if it ran first
    assert len(by_sickle - members) <= 20


_ERRORS: list[tuple[dict[str, Any], str]] = [
    ({"verb": "ListRecords"}, "BadArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-13-01"}, "BadArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-01-02", "until": "2024-01-01"}, "BadArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "CannotDisseminateFormat"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "2000-01-01"}, "NoRecordsMatch"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "theme:meiyou"}, "NoRecordsMatch"),
    ({"verb": "ListRecords", "resumptionToken": "not-a-token"}, "BadResumptionToken"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:elsewhere.org:1"}, "IdDoesNotExist"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": identifier("lndx:none")}, "IdDoesNotExist"),
    ({"verb": "ListMetadataFormats", "identifier": identifier("lndx:none")}, "IdDoesNotExist"),
    ({"verb": "ListSets", "resumptionToken": "x"}, "BadResumptionToken"),
    ({"verb": "Harvest"}, "BadVerb"),
]


@pytest.mark.parametrize(("query", "error"), _ERRORS, ids=[f"{q['verb']}-{e}-{i}" for i, (q, e) in enumerate(_ERRORS)])
def test_both_harvesters_read_the_same_error(big_repository: Repository, query: dict[str, Any], error: str) -> None:
    with pytest.raises(getattr(sickle_errors, error)):
        OAIResponseIterator(Sickle(big_repository.oai, max_retries=0), dict(query))
    with scythe(big_repository) as client, pytest.raises(getattr(scythe_errors, error)):
        client.harvest(query)
