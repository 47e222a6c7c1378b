"""Admins' link decisions: two records split apart or joined as one course, kept across harvests and reindexes.

One decision per unordered pair of uids (the newer replaces the older). The store is also what the index's
linker reads (indexer.linkage.LinkDecisions), so a backend opened with `decisions=store.links` honours every
decision on each write and rebuild, including ones made by another process after it opened.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, delete, or_, select

from crawlers.state.db import Database, chunked, upsert_insert, utcnow
from crawlers.state.errors import InvalidStateValueError, StateNotFoundError
from crawlers.state.schema import ACTOR, UID, link_decisions
from indexer.linkage import LinkDecision

KINDS = ("join", "split")
NOTE_CHARS = 500
WHOLE_TABLE_FROM = 5000
"""Asked about this many uids or more (a rebuild), the whole table is read once instead of chunked lookups."""


@dataclass(frozen=True)
class StoredLinkDecision:
    """A decision as the admin view shows it: the pair, join or split, who and when, and why."""

    a: str
    b: str
    kind: str
    decided_by: str
    decided_at: datetime
    note: str | None

    def decision(self) -> LinkDecision:
        """The decision as linkage reads it."""
        if self.kind == "join":
            return LinkDecision(a=self.a, b=self.b, kind="join", by=self.decided_by)
        return LinkDecision(a=self.a, b=self.b, kind="split", by=self.decided_by)


def _to_decision(row: RowMapping) -> StoredLinkDecision:
    return StoredLinkDecision(
        a=row["uid_a"], b=row["uid_b"], kind=row["kind"], decided_by=row["decided_by"],
        decided_at=row["decided_at"], note=row["note"],
    )  # fmt: skip


def _pair(a: str, b: str) -> tuple[str, str]:
    for field, uid in (("uid", a), ("other", b)):
        if not uid or len(uid) > UID:
            raise InvalidStateValueError(field, uid)
    if a == b:
        raise InvalidStateValueError("other", b)
    return (a, b) if a < b else (b, a)


class LinkDecisionStore:
    """Record, undo and read link decisions; `decisions_for` is the linker's view (LinkDecisions)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def decide(self, a: str, b: str, *, kind: str, by: str, note: str | None = None) -> StoredLinkDecision:
        """Join or split the pair (replacing an earlier decision on it); audit it in the same transaction."""
        if kind not in KINDS:
            raise InvalidStateValueError("kind", kind, allowed=KINDS)
        uid_a, uid_b = _pair(a, b)
        values = {"kind": kind, "decided_by": by[:ACTOR], "decided_at": utcnow(),
                  "note": note[:NOTE_CHARS] if note else None}  # fmt: skip
        with self._db.begin() as connection:
            statement = upsert_insert(connection, link_decisions).values(uid_a=uid_a, uid_b=uid_b, **values)
            statement = statement.on_conflict_do_update(index_elements=["uid_a", "uid_b"], set_=values)
            connection.execute(statement)
            query = select(link_decisions).where(link_decisions.c.uid_a == uid_a, link_decisions.c.uid_b == uid_b)
            row = connection.execute(query).mappings().one()
        return _to_decision(row)

    def remove(self, a: str, b: str) -> StoredLinkDecision:
        """Undo the decision on the pair (the matcher decides again); StateNotFoundError when there is none."""
        uid_a, uid_b = _pair(a, b)
        where = (link_decisions.c.uid_a == uid_a, link_decisions.c.uid_b == uid_b)
        with self._db.begin() as connection:
            row = connection.execute(select(link_decisions).where(*where)).mappings().first()
            if row is None:
                raise StateNotFoundError("link decision", f"{uid_a} / {uid_b}")
            connection.execute(delete(link_decisions).where(*where))
        return _to_decision(row)

    def about(self, uids: Collection[str]) -> list[StoredLinkDecision]:
        """Every decision naming any of `uids`, newest first."""
        wanted = sorted(set(uids))
        if len(wanted) >= WHOLE_TABLE_FROM:
            named = set(wanted)
            found = [d for d in self.all() if d.a in named or d.b in named]
        else:
            found_by_pair: dict[tuple[str, str], StoredLinkDecision] = {}
            with self._db.begin() as connection:
                for chunk in chunked(wanted):
                    query = select(link_decisions).where(
                        or_(link_decisions.c.uid_a.in_(chunk), link_decisions.c.uid_b.in_(chunk))
                    )
                    for row in connection.execute(query).mappings():
                        decision = _to_decision(row)
                        found_by_pair[(decision.a, decision.b)] = decision
            found = list(found_by_pair.values())
        return sorted(found, key=lambda d: (d.decided_at, d.a, d.b), reverse=True)

    def all(self) -> list[StoredLinkDecision]:
        """Every decision."""
        with self._db.begin() as connection:
            return [_to_decision(row) for row in connection.execute(select(link_decisions)).mappings()]

    def decisions_for(self, uids: Collection[str]) -> list[LinkDecision]:
        """indexer.linkage.LinkDecisions: the decisions naming any of `uids`, read now."""
        return [d.decision() for d in self.about(uids)]
