"""Clusters of one group of records: candidate pairs by blocking key, compared, merged strongest first.

Two groups merge only when no pair across them is vetoed (different level or season, another teacher, an
admin's split), so a chain of near matches can never put 书法入门 and 书法进阶 in one cluster. An admin's
join merges first and outweighs the matcher. A cluster's id is derived from its smallest uid, so it stays the
same while that member stays; its evidence is the list of links that made it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

from indexer.linkage.decisions import LinkDecision
from indexer.linkage.matcher import SUBTITLES_UNPROVEN, Verdict, compare
from indexer.linkage.profile import LinkProfile
from indexer.record import Record

SOFT_VETOES = {"标题不同", "除标题外无共同证据", "标题过短", SUBTITLES_UNPROVEN}
"""Verdicts that only say 'no evidence of a match': they do not forbid two records sharing a cluster through
others (a reworded title on a third platform)."""
BIG_BLOCK = 48
"""A block with more records is compared only within sub-blocks of a shared teacher, institution, lesson or
description sentence (an evidence-less pair can never match anyway)."""


@dataclass(frozen=True)
class LinkEvidence:
    """One link of a cluster: two members and why they are the same course (or who joined them)."""

    a: str
    b: str
    text: str


@dataclass(frozen=True)
class ClusterLink:
    """A record's cluster: its id and the evidence of the whole cluster."""

    cluster_id: str
    evidence: tuple[LinkEvidence, ...]


@dataclass(frozen=True)
class ClusterView:
    """A record's cluster as an admin sees it: its id, every member, and why they were merged."""

    cluster_id: str
    members: list[Record]
    evidence: list[LinkEvidence]


def cluster_id_for(uids: Iterable[str]) -> str:
    """The id of the cluster of these members: a hash of the smallest uid."""
    return "c" + hashlib.blake2b(min(uids).encode("utf-8"), digest_size=8).hexdigest()


def candidate_pairs(profiles: Sequence[LinkProfile]) -> set[tuple[int, int]]:
    """Index pairs (i < j) of profiles sharing a blocking key (sub-blocked when a block is big)."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, profile in enumerate(profiles):
        for key in profile.blocking_keys():
            blocks[key].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) <= BIG_BLOCK:
            pairs.update((i, j) for i, j in combinations(sorted(members), 2) if may_match(profiles[i], profiles[j]))
            continue
        for block, untaught in _sub_blocks(members, profiles):
            if untaught is None:
                pairs.update(combinations(sorted(block), 2))
            else:
                pairs.update((min(x, y), max(x, y)) for x in untaught for y in block if x != y)
    return pairs


def may_match(a: LinkProfile, b: LinkProfile) -> bool:
    """False for a pair the matcher always keeps apart: both name teachers and none is shared (主讲不同)."""
    return not (a.instructors and b.instructors and a.instructors.isdisjoint(b.instructors))


def _sub_blocks(members: list[int], profiles: Sequence[LinkProfile]) -> list[tuple[list[int], list[int] | None]]:
    """Sub-blocks of a big block: records sharing a teacher (every pair), and records sharing a lesson, the
    institution or a description sentence, of which only pairs with a record naming no teacher can match (two
    records naming different teachers are different courses), so only those pairs are listed (`untaught`)."""
    teachers: dict[str, list[int]] = defaultdict(list)
    others: dict[str, list[int]] = defaultdict(list)
    for i in members:
        p = profiles[i]
        for name in p.instructors:
            teachers[name].append(i)
        # every lesson and sentence, not the first ones: platforms list part of the lessons and reorder sentences
        keys = {f"l{lesson}" for lesson in p.lessons} | {f"d{sentence}" for sentence in p.sentences}
        keys |= {f"p{p.provider}"} if p.provider else set()
        keys |= {f"d{p.description[:24]}"} if p.description and not p.sentences else set()
        for key in sorted(keys):
            others[key].append(i)
    subs: list[tuple[list[int], list[int] | None]] = [
        (s, None) for s in teachers.values() if 1 < len(s) <= BIG_BLOCK * 4
    ]
    for block in others.values():
        untaught = [i for i in block if not profiles[i].instructors]
        if untaught and len(block) > 1 and len(untaught) <= BIG_BLOCK * 4:
            subs.append((block, untaught))
    return subs


def cluster(
    profiles: Sequence[LinkProfile],
    *,
    pairs: Iterable[tuple[int, int]] | None = None,
    decisions: Sequence[LinkDecision] = (),
) -> dict[str, ClusterLink | None]:
    """uid -> its cluster (None: a course on its own) for every profile of the group."""
    index = {p.uid: i for i, p in enumerate(profiles)}
    split = {frozenset((d.a, d.b)) for d in decisions if d.kind == "split"}
    joins = sorted(
        ((index[d.a], index[d.b], d) for d in decisions if d.kind == "join" and d.a in index and d.b in index),
        key=lambda join: (join[2].a, join[2].b),
    )
    verdicts: dict[tuple[int, int], Verdict] = {}
    edges: list[tuple[float, int, int, str]] = []
    for i, j in candidate_pairs(profiles) if pairs is None else pairs:
        if frozenset((profiles[i].uid, profiles[j].uid)) in split:
            continue
        verdict = verdicts[(i, j)] = compare(profiles[i], profiles[j])
        if verdict.same:
            edges.append((verdict.score, i, j, verdict.text()))
    groups = _Groups(len(profiles))
    for i, j, decision in joins:
        groups.merge(i, j, LinkEvidence(profiles[i].uid, profiles[j].uid, f"管理员合并（{decision.by}）"))
    # ties broken by uid, never by list position: the clusters must not depend on the order records arrived in
    for _, i, j, text in sorted(edges, key=lambda e: (-e[0], *_uids(profiles, e[1], e[2]))):
        if groups.find(i) != groups.find(j) and not _vetoed(groups, i, j, profiles, split, verdicts):
            groups.merge(i, j, LinkEvidence(*_uids(profiles, i, j), text))
    return groups.links(profiles)


def _uids(profiles: Sequence[LinkProfile], i: int, j: int) -> tuple[str, str]:
    a, b = profiles[i].uid, profiles[j].uid
    return (a, b) if a < b else (b, a)


def _vetoed(
    groups: _Groups,
    i: int,
    j: int,
    profiles: Sequence[LinkProfile],
    split: set[frozenset[str]],
    verdicts: dict[tuple[int, int], Verdict],
) -> bool:
    """Whether any pair across the two groups is known to be different courses."""
    for x in groups.members(i):
        for y in groups.members(j):
            if frozenset((profiles[x].uid, profiles[y].uid)) in split:
                return True
            key = (x, y) if x < y else (y, x)
            verdict = verdicts.get(key)
            if verdict is None:
                verdict = verdicts[key] = compare(profiles[key[0]], profiles[key[1]])
            if verdict.veto is not None and verdict.veto not in SOFT_VETOES:
                return True
    return False


class _Groups:
    """Union-find over profile indexes that remembers each group's members and links."""

    def __init__(self, size: int) -> None:
        self._parent = list(range(size))
        self._members: dict[int, list[int]] = {i: [i] for i in range(size)}
        self._evidence: dict[int, list[LinkEvidence]] = defaultdict(list)

    def find(self, i: int) -> int:
        while self._parent[i] != i:
            self._parent[i] = self._parent[self._parent[i]]
            i = self._parent[i]
        return i

    def members(self, i: int) -> list[int]:
        return self._members[self.find(i)]

    def merge(self, i: int, j: int, evidence: LinkEvidence) -> None:
        a, b = self.find(i), self.find(j)
        if a == b:
            return
        if len(self._members[a]) < len(self._members[b]):
            a, b = b, a
        self._parent[b] = a
        self._members[a].extend(self._members.pop(b))
        self._evidence[a].extend(self._evidence.pop(b, []))
        self._evidence[a].append(evidence)

    def links(self, profiles: Sequence[LinkProfile]) -> dict[str, ClusterLink | None]:
        out: dict[str, ClusterLink | None] = {}
        for root, members in self._members.items():
            if len(members) == 1:
                out[profiles[members[0]].uid] = None
                continue
            link = ClusterLink(
                cluster_id=cluster_id_for(profiles[m].uid for m in members),
                evidence=tuple(sorted(self._evidence[root], key=lambda e: (e.a, e.b))),
            )
            out.update((profiles[m].uid, link) for m in members)
        return out
