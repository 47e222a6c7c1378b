"""The state database that harvest runs, the scheduler and the admin API share (SQLite or PostgreSQL).

Open it once per process and pass it down::

    store = StateStore.open(state_url(settings))    # migrates to the newest schema (Alembic, in the package)

Every call is its own transaction; `with store.transaction() as tx:` groups calls made through `tx`.
Timestamps are timezone-aware UTC. Each part is an attribute of the store:

Scheduler (one job per source, many `edufed serve` processes may share one PostgreSQL):
    store.sources.seed(load_sources())                   # sources.yaml -> sources table, at start-up
    for s in store.sources.find(enabled=True): schedule s.config unless s.paused
    at each firing:
        if not store.leases.try_acquire(source_id, holder, ttl=LEASE_TTL): skip (another process runs it)
        store.runs.abandon_unfinished(source_id, reason="holder died")   # runs left by a dead holder
        renew with store.leases.renew(source_id, holder, ttl=LEASE_TTL) while running (False = lost: stop)
        store.leases.release(source_id, holder) at the end
    pause/resume: store.sources.set_paused(source_id, True | False)

Harvest run (crawlers/run.py):
    run = store.runs.start(source_id, trigger="schedule", holder=holder)
    cursors = store.cursors.get(source_id)               # ETag, Last-Modified, OAI from, catalogue version
    known = store.records.load(source_id)                # uid -> RecordState(content_hash, missed, withdrawn)
    per batch: store.records.observe(source_id, new_or_changed_or_reappeared, run_id=run.id)
               store.quarantine.add(source_id, rejected_items, run_id=run.id)
    OAI deleted records: withdraw from the index, then store.records.withdraw(source_id, uids)
    complete full listing: due = store.records.close_complete_run(source_id, seen=uids, withdraw_after=N)
        then the mass-deletion guard: too many -> store.holds.create(source_id, due, run_id=..., reason=...)
        and status "held"; else withdraw from the index and store.records.withdraw(source_id, due)
    with store.transaction() as tx:                      # the run's end and its cursors commit together
        tx.runs.finish(run.id, RunOutcome(status=..., counts=RunCounts(...), http=..., report=...))
        tx.cursors.put(source_id, new_cursors)
    A failed or partial run never calls close_complete_run and never writes cursors.

Admin / operator API (search_api/):
    store.keys.verify(bearer_key) -> ApiKeyInfo | None; store.keys.create(role=, platform=) -> CreatedKey
    store.health() -> {source_id: SourceHealth}; store.runs.find(source_id=, status=, before=, limit=)
    store.runs.get(run_id); store.quarantine.page(source_id=, run_id=, before=, limit=)
    store.holds.approve(hold_id, by=actor) -> withdraw its uids from the index, then store.records.withdraw
    every change: in one `store.transaction()` with tx.audit.record(actor=..., action=..., target=...)
    store.links.decide(uid, other, kind="split" | "join", by=actor); store.links.about([uid]) for the view;
    open the index with open_backend(settings, decisions=store.links) so its linker honours them
"""

from crawlers.state.db import utcnow
from crawlers.state.errors import (
    HoldAlreadyDecidedError,
    InvalidStateValueError,
    RunAlreadyFinishedError,
    SourceExistsError,
    StateDatabaseError,
    StateError,
    StateNotFoundError,
    StoredConfigInvalidError,
)
from crawlers.state.health import SourceHealth
from crawlers.state.holds import HeldDeletion
from crawlers.state.keys import ApiKeyInfo, CreatedKey
from crawlers.state.links import StoredLinkDecision
from crawlers.state.quarantine import QuarantinedRecord, QuarantineItem, QuarantinePage
from crawlers.state.records import RecordState
from crawlers.state.runs import STATUSES as RUN_STATUSES
from crawlers.state.runs import DurationHistogram, RunCounts, RunOutcome, RunRecord
from crawlers.state.source_registry import CONFIG_ACTOR, SeedResult, StoredSource
from crawlers.state.store import StateStore, state_url

__all__ = [
    "CONFIG_ACTOR",
    "RUN_STATUSES",
    "utcnow",
    "ApiKeyInfo",
    "CreatedKey",
    "DurationHistogram",
    "HeldDeletion",
    "HoldAlreadyDecidedError",
    "InvalidStateValueError",
    "QuarantineItem",
    "QuarantinePage",
    "QuarantinedRecord",
    "RecordState",
    "RunAlreadyFinishedError",
    "RunCounts",
    "RunOutcome",
    "RunRecord",
    "SeedResult",
    "SourceExistsError",
    "SourceHealth",
    "StateDatabaseError",
    "StateError",
    "StateNotFoundError",
    "StateStore",
    "StoredConfigInvalidError",
    "StoredLinkDecision",
    "StoredSource",
    "state_url",
]
