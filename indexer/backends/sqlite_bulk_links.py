"""Clustering every stored record of a SQLite index once, group by group, in bounded memory (a full rebuild).

The groups come from the index alone, without reading a record: two rows are in one group when they store a
link key a look-up of the other would ask for (one blocking key with the same teacher, or untaught, or an
untaught and a taught record of one blocking key: indexer.linkage.incremental), when they share a stored
cluster now, or when an admin joined them. That is a union-find over row ids (a few bytes per record);
then each group's stored JSON is read and clustered (indexer.linkage.bulk), and its cluster ids written,
a few groups per transaction. Memory holds the row ids and one batch of groups, never every profile.

A group larger than MAX_GROUP (a generic title shared by thousands of untaught records would chain
teachers together) is linked as incremental linking does, 500 stored records at a time, each with the
records that match it.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass

from indexer.backends.sqlite_link_keys import is_untaught, key_part
from indexer.backends.sqlite_links import SqliteLinkStore
from indexer.backends.sqlite_payload import payload_text
from indexer.linkage.bulk import GroupClusterer, LinkGroup, cluster_here
from indexer.linkage.decisions import LinkDecisions
from indexer.linkage.incremental import Linker
from indexer.record import Record

logger = logging.getLogger(__name__)

MAX_GROUP = 20_000
"""Records of one group clustered at once (their profiles, ~5 KB each, are in memory together)."""
BATCH_RECORDS = 5_000
"""Records whose cluster ids are written per transaction."""
_DECISION_CHUNK = 5_000
_PAGE = 500

Transaction = Callable[[], AbstractContextManager[sqlite3.Connection]]
"""Opens one write transaction on the index (the backend's own, serialized with every other writer)."""


@dataclass
class LinkPassSummary:
    """What one pass did: records in clusters at its end, groups clustered, the largest group."""

    linked: int = 0
    groups: int = 0
    largest: int = 0
    big_groups: int = 0
    seconds: float = 0.0


class _RowSets:
    """Union-find over row ids (a list indexed by id: 8 bytes a record)."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def stored_groups(conn: sqlite3.Connection, *, joined: Collection[tuple[str, str]] = ()) -> Iterator[list[int]]:
    """Row ids of every group of more than one record, and of each record alone that holds a cluster id now,
    in order of their smallest row id. `joined`: uid pairs an admin joined."""
    top = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM docs").fetchone()[0])
    rows = _RowSets(top + 1)
    _union_by_keys(conn, rows)
    clustered: set[int] = set()
    previous: tuple[str | None, int] = (None, 0)
    for cluster_id, row_id in conn.execute(
        "SELECT cluster_id, id FROM docs WHERE cluster_id IS NOT NULL ORDER BY cluster_id"
    ):
        clustered.add(row_id)
        if cluster_id == previous[0]:
            rows.union(previous[1], row_id)
        previous = (cluster_id, row_id)
    for a, b in joined:
        found = [i for (i,) in conn.execute("SELECT id FROM docs WHERE uid IN (?, ?)", (a, b))]
        if len(found) == 2:
            rows.union(found[0], found[1])
    ids = [row_id for (row_id,) in conn.execute("SELECT id FROM docs ORDER BY id")]
    sizes = [0] * (top + 1)
    for row_id in ids:
        sizes[rows.find(row_id)] += 1
    members: dict[int, list[int]] = {}
    for row_id in ids:
        root = rows.find(row_id)
        if sizes[root] > 1 or row_id in clustered:
            members.setdefault(root, []).append(row_id)
    for root in sorted(members):
        yield members[root]


def _union_by_keys(conn: sqlite3.Connection, rows: _RowSets) -> None:
    """Join rows that a candidate look-up would bring together (indexer.linkage.incremental's stored keys, as
    the codes of sqlite_link_keys): the same blocking key with the same teacher, or untaught; and every record
    of a blocking key with its untaught records. One pass in key order: a key's codes are one range, its untaught
    code first. Two keys sharing a code only join two groups, which are then clustered together as the matcher
    judges them: the clusters stay the same."""
    last_code, last_id = None, -1
    key, untaught = None, None
    for code, row_id in conn.execute("SELECT key, id FROM link_key_ids ORDER BY key, id"):
        if code == last_code:
            rows.union(last_id, row_id)
            continue
        last_code, last_id = code, row_id
        if key_part(code) != key:
            key, untaught = key_part(code), (row_id if is_untaught(code) else None)
        elif untaught is not None:
            rows.union(untaught, row_id)


def link_stored(
    transaction: Transaction,
    *,
    linker: Linker,
    clusterer: GroupClusterer | None = None,
    max_group: int = MAX_GROUP,
) -> LinkPassSummary:
    """Cluster every stored record group by group under the linker's decisions and write the cluster ids;
    a group of more than `max_group` records is linked 500 records at a time instead."""
    summary = LinkPassSummary()
    started = time.perf_counter()
    with transaction() as conn:
        joined = _joins(conn, linker.decisions)
        groups = list(stored_groups(conn, joined=joined))
    summary.groups, summary.largest = len(groups), max((len(g) for g in groups), default=0)
    small = [g for g in groups if len(g) <= max_group]
    summary.big_groups = len(groups) - len(small)
    _link_groups(transaction, small, linker=linker, clusterer=clusterer or cluster_here)
    for group in groups:
        if len(group) > max_group:
            _link_big(transaction, group, linker=linker)
    with transaction() as conn:
        summary.linked = int(conn.execute("SELECT COUNT(*) FROM docs WHERE cluster_id IS NOT NULL").fetchone()[0])
    summary.seconds = time.perf_counter() - started
    logger.info(
        "clustered the stored records in %.1f s: %d groups (largest %d, %d linked 500 at a time), %d records in "
        "clusters", summary.seconds, summary.groups, summary.largest, summary.big_groups, summary.linked,
    )  # fmt: skip
    return summary


def _link_groups(
    transaction: Transaction, groups: Sequence[list[int]], *, linker: Linker, clusterer: GroupClusterer
) -> None:
    """Each group read, clustered (the clusterer asks for groups as it has room: workers keep busy while this
    process writes) and its cluster ids written, a transaction per BATCH_RECORDS records written."""
    befores: deque[dict[str, str | None]] = deque()
    with ExitStack() as open_transaction:
        conn = open_transaction.enter_context(transaction())

        def read() -> Iterator[LinkGroup]:
            for group in groups:
                rows = _rows(conn, group)
                uids = [uid for uid, _, _ in rows]
                befores.append({uid: cluster_id for uid, cluster_id, _ in rows})
                yield LinkGroup([payload for _, _, payload in rows], linker.decisions.decisions_for(uids))

        written = 0
        for links in clusterer(read()):
            before = befores.popleft()
            SqliteLinkStore(conn).write_cluster_ids(links, before=before)
            written += len(before)
            if written >= BATCH_RECORDS:
                open_transaction.close()  # commits
                conn = open_transaction.enter_context(transaction())
                written = 0


def _joins(conn: sqlite3.Connection, decisions: LinkDecisions) -> list[tuple[str, str]]:
    """The uid pairs admins joined, among the stored records (asked for a few thousand uids at a time)."""
    joined: set[tuple[str, str]] = set()
    last = 0
    while True:
        page = conn.execute("SELECT id, uid FROM docs WHERE id > ? ORDER BY id LIMIT ?", (last, _DECISION_CHUNK))
        rows = page.fetchall()
        if not rows:
            return sorted(joined)
        last = rows[-1][0]
        joined.update((d.a, d.b) for d in decisions.decisions_for([uid for _, uid in rows]) if d.kind == "join")


def _rows(conn: sqlite3.Connection, ids: list[int]) -> list[tuple[str, str | None, str]]:
    """(uid, cluster id, stored JSON) of these row ids."""
    found: list[tuple[str, str | None, str]] = []
    for start in range(0, len(ids), _PAGE):
        chunk = ids[start : start + _PAGE]
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT d.uid, d.cluster_id, p.json FROM docs d JOIN payloads p ON p.id = d.id WHERE d.id IN ({marks})"
        rows = conn.execute(sql, chunk)
        found.extend((uid, cluster_id, payload_text(payload, conn)) for uid, cluster_id, payload in rows)
    return found


def _link_big(transaction: Transaction, group: list[int], *, linker: Linker) -> None:
    """A group too large to hold: its records re-linked 500 at a time with what matches them (incremental)."""
    for start in range(0, len(group), _PAGE):
        with transaction() as conn:
            records = [
                Record.model_validate_json(payload) for _, _, payload in _rows(conn, group[start : start + _PAGE])
            ]
            old_clusters = {r.cluster_id for r in records if r.cluster_id}
            linker.relink(SqliteLinkStore(conn), arrived=records, old_clusters=old_clusters)
