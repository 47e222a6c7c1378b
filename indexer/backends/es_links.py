"""Linkage on an Elasticsearch index: candidates by the `link_keys` field, cluster ids written by bulk update.

Each member document carries its cluster's id and evidence (`cluster_evidence`, stored, not indexed) and its
stored record JSON is rewritten with the new id, so `get` and "also on" agree.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from indexer.backends.es_mapping import document_record
from indexer.linkage import ClusterLink, LinkEvidence, LinkProfile
from indexer.linkage.incremental import lookup_keys
from indexer.record import Record

_BULK_LINES = 2000


class EsLinkStore:
    """indexer.linkage.LinkStore on one index (or alias) of a client."""

    def __init__(self, client: Any, *, index: str) -> None:
        self.client = client
        self.index = index

    def _records(self, query: dict[str, Any], *, limit: int, sort: list[Any] | None = None) -> list[Record]:
        ordered: dict[str, Any] = {"sort": sort} if sort else {}
        hits = self.client.search(index=self.index, query=query, size=limit, source=["payload"], **ordered)
        hits = hits["hits"]["hits"]
        return [document_record(hit["_source"]) for hit in hits]

    def link_candidates(self, profiles: Sequence[LinkProfile], *, skip: Collection[str], limit: int) -> list[Record]:
        keys = {key for profile in profiles for key in lookup_keys(profile)}
        query = {"bool": {
            "filter": [{"terms": {"link_keys": sorted(keys)}}], "must_not": [{"ids": {"values": sorted(skip)}}],
        }}  # fmt: skip
        return self._records(query, limit=limit, sort=[{"uid": "asc"}])

    def cluster_members(self, cluster_ids: Collection[str]) -> list[Record]:
        return self._records({"terms": {"cluster_id": sorted(cluster_ids)}}, limit=1000)

    def write_links(self, links: Mapping[str, ClusterLink | None], *, records: Mapping[str, Record]) -> None:
        operations: list[dict[str, Any]] = []
        for uid, link in links.items():
            record = records[uid]
            cluster_id = link.cluster_id if link else None
            record = record.model_copy(update={"cluster_id": cluster_id})
            operations.append({"update": {"_index": self.index, "_id": uid}})
            operations.append({"doc": {
                "cluster_id": cluster_id, "payload": record.model_dump_json(),
                "cluster_evidence": [[e.a, e.b, e.text] for e in link.evidence] if link else None,
            }})  # fmt: skip
        for start in range(0, len(operations), _BULK_LINES):
            self.client.bulk(operations=operations[start : start + _BULK_LINES], refresh=True)


def cluster_view_of(client: Any, *, index: str, uid: str) -> tuple[str, list[Record], list[LinkEvidence]] | None:
    """(cluster id, members, evidence) of a record's cluster, or None."""
    found = client.options(ignore_status=404).get(
        index=index, id=uid, source_includes=["cluster_id", "cluster_evidence"]
    )
    source = found.get("_source") if found.get("found") else None
    if not source or not source.get("cluster_id"):
        return None
    members = EsLinkStore(client, index=index).cluster_members([source["cluster_id"]])
    evidence = [LinkEvidence(a=a, b=b, text=t) for a, b, t in source.get("cluster_evidence") or []]
    return source["cluster_id"], sorted(members, key=lambda r: r.uid), evidence
