"""The text analysis an Elasticsearch index holds, and its catch-up in place, batch by batch.

The index mapping's `_meta.edufed_analysis` (es_mapping.ANALYSIS_META) says which analysis its documents were
written with; an index that says none was written before versions were recorded (0). An older one is caught up
in uid order: each document's stored record (`payload`) is analysed again as a write would (es_mapping
.record_document), and where its analysed fields differ they are replaced by a partial update that holds only if
the document is still the one read (`if_seq_no` / `if_primary_term`): a document a harvest rewrote meanwhile was
written the current way, and its conflict is passed over. Clusters, the payload and the OAI-PMH log are left alone.

Resumable: `_meta.edufed_analysis_after` is the last uid caught up to `_meta.edufed_analysis_to`, written after
each batch; a catch-up stopped anywhere goes on from there, and the version is set when the last document is done.
A batch writes `_meta` only if it still says what the batch read (a `_meta` has no transaction: an edufed opening
the index meanwhile may have moved it). `edufed reindex` (a new index, swapped in behind the alias) gives the same
result with every record rebuilt.

As on SQLite (sqlite_analysis), an older edufed opening an index of a newer analysis lowers the version to its own,
since the documents it writes are analysed its way, and drops a catch-up's cursor: the newer edufed catches the
whole index up again. A cursor left by a catch-up to another version than this edufed's starts again too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from indexer.analysis_version import ANALYSIS_VERSION, CatchUpBatch, catch_up_batches, newer_notice
from indexer.backends.es_mapping import ANALYSIS_META, document_record, record_document
from indexer.backends.weighted_fields import WEIGHTED_FIELDS

logger = logging.getLogger(__name__)

BATCH = 500
AFTER_META = "edufed_analysis_after"
TO_META = "edufed_analysis_to"
ANALYSED = ("text", "pinyin", "chars", *WEIGHTED_FIELDS.values(), "title_fold", "title_pinyin")
"""The document fields the analysis writes."""


def index_meta(client: Any, index: str) -> dict[str, Any]:
    """The index mapping's `_meta`. A key is cleared by writing it as null: Elasticsearch replaces `_meta` with
    what a mapping update gives, some compatible engines (noida-db) merge it into the old one."""
    found = client.indices.get_mapping(index=index)
    return dict(found[index].get("mappings", {}).get("_meta") or {})


def record_analysis(client: Any, *, index: str) -> None:
    """Say in `_meta` which analysis the index holds, on opening it: a newer version this edufed's, a catch-up's
    cursor toward another version than this edufed's dropped (see the module's docstring)."""
    meta = index_meta(client, index)
    before = dict(meta)
    version = int(meta.get(ANALYSIS_META, 0))
    if version > ANALYSIS_VERSION:
        logger.warning("index %s: %s", index, newer_notice(version))
        # documents this edufed writes anywhere are analysed its way: a newer one's catch-up starts again
        meta.update({ANALYSIS_META: ANALYSIS_VERSION, AFTER_META: None, TO_META: None})
        version = ANALYSIS_VERSION
    if version < ANALYSIS_VERSION and meta.get(TO_META) != ANALYSIS_VERSION:
        meta.update({AFTER_META: None, TO_META: ANALYSIS_VERSION})
    if meta != before:
        client.indices.put_mapping(index=index, meta=meta)


def documents_analysed_again(client: Any, *, index: str, why: str) -> None:
    """Have every document of `index` analysed again (its analysis recorded as 0, so `record_analysis` sets a
    catch-up going): for an index whose mapping gained fields only a document's analysis writes (es_mapping
    .WEIGHTED_ADDED). Until a document is caught up, it matches as before but scores nothing on those fields."""
    meta = index_meta(client, index)
    if int(meta.get(ANALYSIS_META, 0)) == 0:
        return
    logger.warning("index %s: %s: every document is analysed again in the background", index, why)
    meta.update({ANALYSIS_META: 0, AFTER_META: None, TO_META: None})
    client.indices.put_mapping(index=index, meta=meta)


def catch_up_batch(client: Any, *, index: str, size: int = BATCH) -> CatchUpBatch:
    """Analyse the next `size` documents past the cursor again and update those that differ."""
    meta = index_meta(client, index)
    if int(meta.get(ANALYSIS_META, 0)) >= ANALYSIS_VERSION:
        return CatchUpBatch(finished=True)
    after = meta.get(AFTER_META)
    extra = {"search_after": [after]} if after is not None else {}
    hits = client.search(
        index=index, query={"match_all": {}}, sort=[{"uid": "asc"}], size=size, seq_no_primary_term=True,
        source=["uid", "payload", *ANALYSED], track_total_hits=False, **extra,
    )["hits"]["hits"]  # fmt: skip
    operations: list[dict[str, Any]] = []
    for hit in hits:
        fresh = _analysed(hit["_source"])
        if fresh is None or all(hit["_source"].get(f) == fresh[f] for f in ANALYSED):
            continue
        operations.append({"update": {"_index": index, "_id": hit["_id"], "if_seq_no": hit["_seq_no"],
                                      "if_primary_term": hit["_primary_term"]}})  # fmt: skip
        operations.append({"doc": fresh})
    batch = CatchUpBatch(read=len(hits))
    if operations:
        answer = client.bulk(operations=operations, refresh=True)
        for item in answer.get("items", []):
            info = item.get("update", {})
            if info.get("status", 200) < 300:
                batch.rewritten += 1
            elif info.get("status") != 409:  # 409: a harvest rewrote it meanwhile, the current way
                logger.warning("text analysis catch-up: %s not updated: %s", info.get("_id"), info.get("error"))
    batch.finished = len(hits) < size
    read = dict(meta)
    if batch.finished:
        meta.update({ANALYSIS_META: ANALYSIS_VERSION, AFTER_META: None, TO_META: None})
    else:
        meta.update({AFTER_META: hits[-1]["sort"][0], TO_META: ANALYSIS_VERSION})
    if index_meta(client, index) == read:
        client.indices.put_mapping(index=index, meta=meta)
    else:  # another edufed moved it meanwhile (lowered it, or caught up past it): the next batch reads it again
        batch.finished = False
    return batch


def _analysed(source: dict[str, Any]) -> dict[str, Any] | None:
    try:
        record = document_record(source)
    except ValueError as exc:  # pydantic's ValidationError is one
        logger.warning("text analysis catch-up: %s left as stored, it cannot be read: %s", source.get("uid"),
                       str(exc)[:300])  # fmt: skip
        return None
    document = record_document(record)
    return {field: document[field] for field in ANALYSED}


def catch_up(
    client: Any,
    *,
    index: str,
    size: int = BATCH,
    stop: Callable[[], bool] = lambda: False,
    on_batch: Callable[[CatchUpBatch], None] | None = None,
) -> tuple[int, int]:
    """Batches until the index is current or `stop()`; (documents read, documents rewritten)."""
    return catch_up_batches(lambda: catch_up_batch(client, index=index, size=size), what=index, stop=stop,
                            on_batch=on_batch)  # fmt: skip
