"""Clusters kept up to date as records arrive, change or leave: one group re-linked per write.

The group is what a change can affect: the written records, the records sharing a blocking key with them
(their candidates), and every member of a cluster any of those belonged to, so a member that left re-opens its
old cluster and the others' ids are rewritten. The index behind `LinkStore` stores the blocking keys of each
record (SQLite: a table, Elasticsearch: a keyword field) and writes the cluster ids and evidence it is given.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol

from indexer.linkage.clusters import ClusterLink, cluster
from indexer.linkage.decisions import LinkDecisions, NoDecisions
from indexer.linkage.profile import profile_of
from indexer.record import Record

CANDIDATE_LIMIT = 400
"""Records read per group through the blocking keys: a key shared by more is a generic title (书法入门),
whose real duplicates share a teacher and are found among the first ones anyway."""


class LinkStore(Protocol):
    """What linkage needs from an index inside one write."""

    def link_candidates(self, keys: Collection[str], *, limit: int) -> list[Record]:
        """Stored records holding any of the blocking keys."""

    def cluster_members(self, cluster_ids: Collection[str]) -> list[Record]:
        """Stored records of these clusters."""

    def write_links(self, links: Mapping[str, ClusterLink | None], *, records: Mapping[str, Record]) -> None:
        """Store each uid's cluster (None: on its own); `records` are the stored records of those uids."""


class Linker:
    """Re-links the group a write touches; `decisions` are the admins' splits and joins."""

    def __init__(self, decisions: LinkDecisions | None = None) -> None:
        self.decisions: LinkDecisions = decisions or NoDecisions()

    def relink(self, store: LinkStore, *, arrived: Sequence[Record], old_clusters: Iterable[str | None]) -> int:
        """Re-cluster after `arrived` were written and records of `old_clusters` changed or left; returns the
        size of the group re-linked."""
        group = {r.uid: r for r in arrived}
        keys = {key for r in arrived for key in profile_of(r).blocking_keys()}
        if keys:
            for record in store.link_candidates(keys, limit=CANDIDATE_LIMIT):
                group.setdefault(record.uid, record)
        written = {r.uid for r in arrived}
        clusters = {c for c in old_clusters if c}
        clusters.update(r.cluster_id for uid, r in group.items() if r.cluster_id and uid not in written)
        if clusters:
            for record in store.cluster_members(clusters):
                group.setdefault(record.uid, record)
        if not group:
            return 0
        links = cluster([profile_of(r) for r in group.values()], decisions=self.decisions.decisions_for(list(group)))
        store.write_links(links, records=group)
        return len(group)
