"""Clusters kept up to date as records arrive, change or leave: one group re-linked per write.

The group is what a change can affect: the written records, the records sharing a blocking key with them
(their candidates), and every member of a cluster any of those belonged to, so a member that left re-opens its
old cluster and the others' ids are rewritten. The index behind `LinkStore` stores the blocking keys of each
record (SQLite: a table, Elasticsearch: a keyword field) and writes the cluster ids and evidence it is given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol

from indexer.linkage.clusters import ClusterLink, cluster, may_match
from indexer.linkage.decisions import LinkDecisions, NoDecisions
from indexer.linkage.matcher import compare
from indexer.linkage.profile import LinkProfile, profile_of
from indexer.record import Record

CANDIDATE_LIMIT = 400
"""Records read per record whose candidates are looked up (a look-up for many records reads up to
MAX_CANDIDATES): a blocking key shared by more is a generic title (书法入门), whose real duplicates share a
teacher and are found among the first ones anyway."""
MAX_CANDIDATES = 10_000
"""The most records one candidate look-up reads (Elasticsearch's default result window)."""


def stored_link_keys(profile: LinkProfile) -> list[str]:
    """What an index stores beside a record for candidate look-ups. A record naming teachers stores each
    blocking key once per teacher, joined with the teacher's name (p), and once on its own (a); a record naming
    none stores its blocking keys as untaught (n). A look-up for a teacher's record so reads only the records
    of that teacher or of none: the matcher never links two records naming different teachers (主讲不同), and a
    generic title (书法入门) shared by hundreds of other teachers' courses is not read in every write."""
    keys = profile.blocking_keys()
    if not profile.instructors:
        return [f"n{key}" for key in keys]
    return [*(f"a{key}" for key in keys), *(_taught(key, name) for key in keys for name in sorted(profile.instructors))]


def stored_key_pairs(profile: LinkProfile) -> list[tuple[str, str | None]]:
    """`stored_link_keys` as (blocking key, teacher) pairs, for an index that codes them itself (SQLite): one per
    blocking key and teacher of a record naming teachers, (blocking key, None) for a record naming none. Unlike
    the text keys a taught record stores no key of its own: an index that keeps one key's pairs together (in
    one range of codes) finds every record of a key there."""
    keys = profile.blocking_keys()
    if not profile.instructors:
        return [(key, None) for key in keys]
    return [(key, name) for key in keys for name in sorted(profile.instructors)]


def lookup_keys(profile: LinkProfile) -> list[str]:
    """The stored keys of the records that may match this one (see `stored_link_keys`), and its plain
    blocking keys, which an index written before teacher keys holds."""
    keys = profile.blocking_keys()
    if not profile.instructors:
        return [*keys, *(f"n{key}" for key in keys), *(f"a{key}" for key in keys)]
    return [*keys, *(f"n{key}" for key in keys), *(_taught(key, name) for key in keys for name in profile.instructors)]


def _taught(key: str, name: str) -> str:
    return "p" + hashlib.blake2b(f"{key}\x1f{name}".encode(), digest_size=8).hexdigest()


class LinkStore(Protocol):
    """What linkage needs from an index inside one write."""

    def link_candidates(self, profiles: Sequence[LinkProfile], *, skip: Collection[str], limit: int) -> list[Record]:
        """Stored records that may match any of these records: holding a stored link key their look-up asks for
        (`lookup_keys`, or its equivalent in the index's own coding), but not those of the uids in `skip` (the
        group already read, the written records among them): the first `limit` in storage order."""

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
        size of the group re-linked.

        The group is closed under matching: every record that matches a member (or shares its old cluster) is
        a member too, found round by round. Clusters form only along matches, so clustering such a group gives
        what clustering the whole index would give it, whatever order or batches the records arrived in."""
        group: dict[str, Record] = {}
        frontier = list({r.uid: r for r in arrived}.values())
        written = {r.uid for r in frontier}  # their cluster_id is not the stored one: `old_clusters` says that
        clusters = {c for c in old_clusters if c}
        seen_clusters: set[str] = set()
        while frontier or clusters:
            group.update((r.uid, r) for r in frontier)
            if clusters:
                seen_clusters |= clusters
                members = [r for r in store.cluster_members(clusters) if r.uid not in group]
                group.update((r.uid, r) for r in members)
                frontier += members
            matched = self._matches(store, frontier, group)
            clusters = {r.cluster_id for r in [*frontier, *matched] if r.cluster_id and r.uid not in written}
            clusters -= seen_clusters
            frontier = matched
        if not group:
            return 0
        links = cluster([profile_of(r) for r in group.values()], decisions=self.decisions.decisions_for(list(group)))
        store.write_links(links, records=group)
        return len(group)

    def _matches(self, store: LinkStore, frontier: Sequence[Record], group: Mapping[str, Record]) -> list[Record]:
        """Stored records outside `group` that share a blocking key with a frontier record and match it."""
        by_key: dict[str, list[LinkProfile]] = {}
        profiles = [profile_of(record) for record in frontier]
        for profile in profiles:
            for key in profile.blocking_keys():
                by_key.setdefault(key, []).append(profile)
        if not by_key:
            return []
        limit = min(CANDIDATE_LIMIT * len(frontier), MAX_CANDIDATES)
        matched: dict[str, Record] = {}
        for candidate in store.link_candidates(profiles, skip=group.keys(), limit=limit):
            if candidate.uid in group or candidate.uid in matched:
                continue
            profile = profile_of(candidate)
            near = {p.uid: p for key in profile.blocking_keys() for p in by_key.get(key, [])}
            if any(may_match(profile, p) and compare(profile, p).same for p in near.values()):
                matched[candidate.uid] = candidate
        return list(matched.values())
