"""Admins' link decisions (split a wrong merge, join a missed one), as linkage reads them.

The decisions live in the state database (crawlers.state.links, audited); the index only reads them through
this protocol, so a decision outlives re-harvests and reindexes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class LinkDecision:
    """Two records an admin declared the same course (`join`) or different courses (`split`)."""

    a: str
    b: str
    kind: Literal["join", "split"]
    by: str


class LinkDecisions(Protocol):
    """The decisions that name any of some uids."""

    def decisions_for(self, uids: Collection[str]) -> list[LinkDecision]: ...


class NoDecisions:
    """No admin has decided anything (the default, and tests of the matcher alone)."""

    def decisions_for(self, uids: Collection[str]) -> list[LinkDecision]:
        return []


class FixedDecisions:
    """Decisions held in memory: what the state database gave at the start of a reindex, or a test's."""

    def __init__(self, decisions: Collection[LinkDecision]) -> None:
        self._by_uid: dict[str, list[LinkDecision]] = {}
        for decision in decisions:
            self._by_uid.setdefault(decision.a, []).append(decision)
            self._by_uid.setdefault(decision.b, []).append(decision)

    def decisions_for(self, uids: Collection[str]) -> list[LinkDecision]:
        found = {id(d): d for uid in uids for d in self._by_uid.get(uid, [])}
        return list(found.values())
