"""Clustering a whole index group by group: each group is records that may share a cluster, clustered alone.

Clusters form only along matches, and a match needs a shared blocking key, so records that share no key
(directly or through others) and no cluster can never share one: clustering each such group by itself
gives what clustering every record at once gives, while only one group's profiles are in memory. A group
travels as its members' stored JSON and the admins' decisions naming them, so a worker process can cluster
it (indexer.rebuild_pool) and only the cluster ids come back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from indexer.linkage.clusters import ClusterLink, cluster
from indexer.linkage.decisions import LinkDecision
from indexer.linkage.profile import profile_of
from indexer.record import Record

GroupLinks = dict[str, ClusterLink | None]
"""uid -> its cluster (None: a course on its own), for every member of one group."""


class LinkGroup(NamedTuple):
    """Records that may share a cluster: their stored JSON, and the admins' decisions naming any of them."""

    payloads: list[str]
    decisions: list[LinkDecision]


GroupClusterer = Callable[[Iterable[LinkGroup]], Iterator[GroupLinks]]
"""Clusters groups, results in the order given (in this process, or in a rebuild's worker processes)."""


def cluster_group(group: LinkGroup) -> GroupLinks:
    """The clusters of one group's members (the stored JSON parsed and profiled here)."""
    profiles = [profile_of(Record.model_validate_json(payload)) for payload in group.payloads]
    return cluster(profiles, decisions=group.decisions)


def cluster_here(groups: Iterable[LinkGroup]) -> Iterator[GroupLinks]:
    """GroupClusterer in the calling process."""
    for group in groups:
        yield cluster_group(group)
