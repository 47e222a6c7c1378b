"""The theme rules an Elasticsearch index's documents were classified by, and classifying every document again in
place.

The index mapping's `_meta.edufed_themes` (es_mapping.THEMES_META) says which themes version (indexer
.themes_version) every document was classified by: an index is created saying its opener's (the first index, and
a rebuild's new one, whose records are all built again), and an index that says none was written before versions
were recorded (UNRECORDED), so older. `edufed reindex --themes-only` (ElasticsearchBackend.reclassify_all) reads
every document page by page, classifies its stored record again, and updates those whose themes or evidence
changed (the `theme` field, the stored record and its content hash) only if the document is still the one read
(`if_seq_no`: a harvest's newer write is never overwritten with the old record); then the version is set.
Stopped part-way, the index keeps its older version and the next run starts again.

As with the record linkage (es_linkage), an older edufed opening an index of newer rules lowers the version to
its own, since the documents it writes are classified its way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from indexer.backends.es_analysis import index_meta
from indexer.backends.es_mapping import THEMES_META, document_record
from indexer.record import Record
from indexer.themes_version import UNRECORDED, Reclassify, ThemesPass, newer_notice, status_of

logger = logging.getLogger(__name__)

PAGE = 500
_FIELDS = ["uid", "payload"]


def index_themes_version(client: Any, *, index: str) -> str:
    return str(index_meta(client, index).get(THEMES_META) or UNRECORDED)  # null: cleared (noida-db merges _meta)


def record_themes(client: Any, *, index: str, ours: str) -> None:
    """On opening the index: a newer version than `ours` is lowered to it (see the module's docstring)."""
    version = index_themes_version(client, index=index)
    if status_of(version, ours) == "newer":
        logger.warning("index %s: %s", index, newer_notice(version, ours))
        mark_themes(client, index=index, version=ours)


def mark_themes(client: Any, *, index: str, version: str) -> None:
    meta = index_meta(client, index)
    meta[THEMES_META] = version
    client.indices.put_mapping(index=index, meta=meta)


def reclassify_documents(
    client: Any, *, index: str, reclassify: Reclassify, on_page: Callable[[ThemesPass], None] | None = None
) -> tuple[ThemesPass, list[Record]]:
    """Every document's stored record classified again, the changed ones updated where the document is still the
    one read; (what was done, the records written: for the OAI-PMH change log)."""
    done, written = ThemesPass(), []
    for hits in _pages(client, index=index):
        done.read += len(hits)
        operations: list[dict[str, Any]] = []
        changed: dict[str, Record] = {}
        for hit in hits:
            again = reclassify(document_record(hit["_source"]))
            if again is None:
                continue
            changed[again.uid] = again
            guard = {"if_seq_no": hit["_seq_no"], "if_primary_term": hit["_primary_term"]}
            doc = {"theme": list(again.themes), "content_hash": again.content_hash, "payload": again.model_dump_json()}
            operations += [{"update": {"_index": index, "_id": again.uid, **guard}}, {"doc": doc}]
        if operations:
            answer = client.bulk(operations=operations, refresh=False)
            for item in answer.get("items", []):
                info = item.get("update", {})
                if info.get("status", 200) < 300:
                    written.append(changed[info["_id"]])
                elif info.get("status") != 409:  # 409: written meanwhile, classified by its writer
                    logger.warning("themes of %s not updated: %s", info.get("_id"), info.get("error"))
        done.written = len(written)
        if on_page is not None:
            on_page(done)
    client.indices.refresh(index=index)
    return done, written


def _pages(client: Any, *, index: str) -> Iterator[list[dict[str, Any]]]:
    """The index's documents (their uid and stored record, with the sequence number each was read at), a page at
    a time in uid order."""
    after: list[Any] | None = None
    while True:
        extra = {"search_after": after} if after is not None else {}
        hits = client.search(index=index, query={"match_all": {}}, sort=[{"uid": "asc"}], size=PAGE, source=_FIELDS,
                             seq_no_primary_term=True, track_total_hits=False, **extra)["hits"]["hits"]  # fmt: skip
        if hits:
            yield hits
        if len(hits) < PAGE:
            return
        after = hits[-1]["sort"]
