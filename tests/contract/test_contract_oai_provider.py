"""Contract: /oai serves the same OAI-PMH lists over every backend, read by an independent harvester (sickle)."""

from __future__ import annotations

from pathlib import Path

import httpx
from lxml import etree
from sickle import Sickle

from indexer.backends.base import IndexBackend
from tests.integration.oai.repository import REPOSITORY, course, serve_repository

COUNT = 45


def _identifiers(url: str, **params: str) -> dict[str, bool]:
    """identifier -> deleted, of every header of a ListIdentifiers list."""
    return {h.identifier: h.deleted for h in Sickle(url, max_retries=0).ListIdentifiers(**params)}


def test_every_backend_serves_the_catalogue_its_sets_changes_and_deletions(
    backend: IndexBackend, tmp_path: Path
) -> None:
    records = [course(n) for n in range(COUNT)]
    with serve_repository(tmp_path, records=records, backend=backend, page_size=7) as repository:
        full = _identifiers(repository.oai, metadataPrefix="oai_dc")
        assert full == {f"oai:{REPOSITORY}:{r.uid}": False for r in records}
        root = etree.fromstring(httpx.get(repository.oai, params={"verb": "Identify"}).content)
        since = str(root.findtext("{http://www.openarchives.org/OAI/2.0/}responseDate"))
        backend.upsert([course(3, version=1)])
        backend.withdraw([records[4].uid])
        changes = _identifiers(repository.oai, metadataPrefix="lom", **{"from": since})
        changed, withdrawn = (f"oai:{REPOSITORY}:{records[n].uid}" for n in (3, 4))
        assert changes[changed] is False and changes[withdrawn] is True
        assert [i for i, deleted in changes.items() if deleted] == [withdrawn]
        assert list(changes)[-2:] == [changed, withdrawn] or len(changes) == COUNT  # the list ends with the news
        health = _identifiers(repository.oai, metadataPrefix="oai_dc", set="theme:yangshengbaojian")
        assert set(health) == {f"oai:{REPOSITORY}:{r.uid}" for r in records if "养生保健" in r.themes}
        programme = _identifiers(repository.oai, metadataPrefix="oai_dc", set="programme")
        assert set(programme) == {f"oai:{REPOSITORY}:{r.uid}" for r in records if r.programmes}
        record = Sickle(repository.oai).GetRecord(identifier=changed, metadataPrefix="oai_dc")
        assert record.metadata["title"] == [records[3].title, "第2版"]
        gone = Sickle(repository.oai).GetRecord(identifier=withdrawn, metadataPrefix="lom")
        assert gone.deleted
