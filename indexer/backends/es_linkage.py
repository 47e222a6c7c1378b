"""The record linkage an Elasticsearch index was linked by, and linking every document again in place.

The index mapping's `_meta.edufed_linkage` (es_mapping.LINKAGE_META) says which linkage rules (indexer.linkage
.version) made its documents' `link_keys` and clusters; every index is created from the template with this
edufed's, so a new index and a rebuilt one (`edufed reindex`) say it, and an index that says none was linked
before versions were recorded (UNRECORDED). An older one is linked again in place by `edufed reindex --links-only`:
each document's `link_keys` computed again from its stored record (a partial update where they differ), then
every record clustered at once with the admins' decisions, as a rebuild does (ElasticsearchBackend._link_all),
then the version set. Stopped part-way, the index keeps its older version and the next run starts again.

As with the text analysis (es_analysis), an older edufed opening an index of a newer linkage lowers the version to
its own, since the documents it writes are keyed and clustered its way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from indexer.backends.es_analysis import index_meta
from indexer.backends.es_mapping import LINKAGE_META, document_record
from indexer.linkage import profile_of
from indexer.linkage.incremental import stored_link_keys
from indexer.linkage.version import LINKAGE_VERSION, UNRECORDED, newer_notice

logger = logging.getLogger(__name__)

_BULK_DOCS = 500


def index_linkage_version(client: Any, *, index: str) -> int:
    return int(index_meta(client, index).get(LINKAGE_META) or UNRECORDED)  # null: cleared (noida-db merges _meta)


def record_linkage(client: Any, *, index: str) -> None:
    """On opening the index: a newer version than this edufed's is lowered to it (see the module's docstring)."""
    version = index_linkage_version(client, index=index)
    if version > LINKAGE_VERSION:
        logger.warning("index %s: %s", index, newer_notice(version))
        mark_linked(client, index=index)


def mark_linked(client: Any, *, index: str) -> None:
    meta = index_meta(client, index)
    meta[LINKAGE_META] = LINKAGE_VERSION
    client.indices.put_mapping(index=index, meta=meta)


def recode_link_keys(
    client: Any, documents: Iterable[dict[str, Any]], *, index: str, on_page: Callable[[int], None] | None = None
) -> int:
    """Each document's `link_keys` computed again from its stored record, updated where they differ; `documents`
    are the index's `uid`, `payload` and `link_keys`. Returns how many documents were read."""
    read = 0
    operations: list[dict[str, Any]] = []
    for source in documents:
        read += 1
        try:
            keys = stored_link_keys(profile_of(document_record(source)))
        except ValueError as exc:  # pydantic's ValidationError is one
            logger.warning("link keys of %s left as stored, its record cannot be read: %s", source.get("uid"),
                           str(exc)[:300])  # fmt: skip
            continue
        if source.get("link_keys") != keys:
            operations += [{"update": {"_index": index, "_id": source["uid"]}}, {"doc": {"link_keys": keys}}]
        if len(operations) >= 2 * _BULK_DOCS:
            _bulk(client, operations)
            operations = []
        if on_page is not None and read % _BULK_DOCS == 0:
            on_page(read)
    if operations:
        _bulk(client, operations)
    client.indices.refresh(index=index)
    return read


def _bulk(client: Any, operations: list[dict[str, Any]]) -> None:
    answer = client.bulk(operations=operations)
    for item in answer.get("items", []):
        info = item.get("update", {})
        if info.get("status", 200) >= 300:
            logger.warning("link keys of %s not updated: %s", info.get("_id"), info.get("error"))
