"""What admins see and do about record linkage: a record's cluster with its evidence, and split / join / undo.

A decision is stored in the state database with its audit entry in one transaction, then the index re-links the
two records at once (the backend of the service was opened with `decisions=store.links`, so its linker reads
the new decision); every later harvest and reindex reads it too.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crawlers.state import InvalidStateValueError, StateNotFoundError, StateStore, StoredLinkDecision
from indexer.backends.base import IndexBackend
from indexer.linkage import ClusterView
from indexer.record import Record
from search_api.http.errors import ApiError, InvalidRequestError, NotFoundError, ProblemDetail

Kind = Literal["split", "join"]
NOTE_CHARS = 500


class LinkDecisionBody(BaseModel):
    """POST body of a link decision on the record of the path."""

    model_config = ConfigDict(extra="forbid")
    other: str = Field(min_length=1, max_length=300, description="uid of the other record")
    kind: Kind = Field(description="split: never the same course; join: always the same course")
    note: str | None = Field(None, max_length=NOTE_CHARS, description="why (shown on the admin view)")


def record_or_404(backend: IndexBackend, uid: str) -> Record:
    """A record of the index, or 404 naming it."""
    record = backend.get(uid)
    if record is None:
        raise ApiError(404, "record_not_found", f"no record {uid!r} in the catalogue", [ProblemDetail("uid", uid)])
    return record


def _member(record: Record) -> dict[str, Any]:
    return {"uid": record.uid, "title": record.title, "platform": record.platform,
            "platform_name": record.platform_name, "url": str(record.url),
            "instructors": [p.name for p in record.instructors],
            "provider": record.provider.name if record.provider else None}  # fmt: skip


def decision_dict(decision: StoredLinkDecision) -> dict[str, Any]:
    """A stored decision as the API shows it."""
    return {"a": decision.a, "b": decision.b, "kind": decision.kind, "decided_by": decision.decided_by,
            "decided_at": decision.decided_at.isoformat(), "note": decision.note}  # fmt: skip


def record_links(store: StateStore, backend: IndexBackend, uid: str) -> dict[str, Any]:
    """The record's cluster (members, evidence) and the admins' decisions naming it; 404 for an unknown uid."""
    record = record_or_404(backend, uid)
    view: ClusterView | None = backend.cluster_of(uid)
    return {
        "uid": uid, "title": record.title, "platform": record.platform,
        "cluster_id": view.cluster_id if view else None,
        "members": [_member(m) for m in view.members] if view else [_member(record)],
        "evidence": [{"a": e.a, "b": e.b, "text": e.text} for e in view.evidence] if view else [],
        "decisions": [decision_dict(d) for d in store.links.about([uid])],
    }  # fmt: skip


def decide_link(
    store: StateStore, backend: IndexBackend, uid: str, *, other: str, kind: Kind, actor: str, note: str | None
) -> dict[str, Any]:
    """Split (never one cluster) or join (always one cluster) two records of the index, audited, applied now."""
    if note is not None and len(note) > NOTE_CHARS:  # the pages' form has no model in front of it
        note = note[:NOTE_CHARS]
    if other == uid:
        raise InvalidRequestError("a record cannot be split from or joined to itself",
                                  details=[ProblemDetail("other", "the same uid as the record")])  # fmt: skip
    record_or_404(backend, uid)
    record_or_404(backend, other)
    try:
        with store.transaction() as tx:
            decision = tx.links.decide(uid, other, kind=kind, by=actor, note=note or None)
            tx.audit.record(actor=actor, action=f"link.{kind}", target=uid,
                            details={"other": other, "note": note or None})  # fmt: skip
    except InvalidStateValueError as exc:
        raise InvalidRequestError("invalid link decision", details=[ProblemDetail(exc.field, str(exc))]) from exc
    backend.relink([uid, other])
    return {"decision": decision_dict(decision), "record": record_links(store, backend, uid)}


def undo_link(store: StateStore, backend: IndexBackend, uid: str, *, other: str, actor: str) -> dict[str, Any]:
    """Drop the decision on a pair (the matcher decides again), audited, applied now; 404 when there is none."""
    try:
        with store.transaction() as tx:
            decision = tx.links.remove(uid, other)
            tx.audit.record(actor=actor, action="link.undo", target=uid,
                            details={"other": other, "kind": decision.kind})  # fmt: skip
    except StateNotFoundError as exc:
        raise NotFoundError(f"no link decision on {uid!r} and {other!r}") from exc
    except InvalidStateValueError as exc:
        raise InvalidRequestError("invalid link decision", details=[ProblemDetail(exc.field, str(exc))]) from exc
    backend.relink([uid, other])
    return {"undone": decision_dict(decision), "record": record_links(store, backend, uid)}
