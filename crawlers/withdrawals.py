"""Taking records out of the catalogue: the mass-deletion guard, index-first withdrawal, admins' hold decisions.

Every withdrawal leaves the index before the state database marks it: a crash in between leaves a record the
state still counts as live but the index no longer has, which the source's next run repairs (crawlers/run_state.py
reconciles the two). The other order could leave a withdrawn record searchable for good.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from config.source_models import SourceBase
from crawlers.state import HeldDeletion, HoldAlreadyDecidedError, StateStore
from indexer.backends.base import IndexBackend

logger = logging.getLogger(__name__)


SOURCE_DELETION_REASON = "source deleted by "
"""How the reason of a hold made by deleting a whole source begins (the actor follows): its records leave
because the source does, whatever its platform still lists."""


@dataclass(frozen=True)
class HeldWithdrawal:
    """Withdrawals the mass-deletion guard kept back: the hold an admin decides on, its size, and why."""

    hold_id: int
    records: int
    reason: str


@dataclass
class Settlement:
    """What a complete run withdrew, or held back, and the lines its report shows about it."""

    withdrawn: int = 0
    held: HeldWithdrawal | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Listing:
    """What a listing that ran to its end says, in the terms of the one withdrawal rule every kind follows.

    `named` are the uids it listed (records, rejected items with an id, items whose records stand unchanged);
    `deleted` the uids the source reported deleted; `complete` that it names every current record (so missing
    from it counts); `current` that it shows what the source has now (complete, or a feed's window), so naming
    nothing where the source had records is suspect; `repeated` that the source saw it is the very listing of
    its last complete run (an unchanged catalogue version, every page 304): it names what that run named.
    """

    named: frozenset[str]
    deleted: frozenset[str] = frozenset()
    complete: bool = False
    current: bool = False
    repeated: bool = False
    fetched: int = 0


def settle(
    store: StateStore, backend: IndexBackend, source: SourceBase, *, run_id: str, listing: Listing
) -> Settlement:
    """Withdraw what a listing that ran to its end says is gone; call it only after all its records were written.

    The rule, the same for every kind:
    - reported deletions leave at once, unless the mass-deletion guard holds them (more than
      max_withdraw_share of the live records and at least min_held_reported_deletions of them);
    - after a complete listing (a repeated one names what the last complete run named), records missing from
      `withdraw_after_missed_runs` of them in a row leave too, unless the guard holds them;
    - a current listing (complete or a window) that names nothing while the source has live records is held
      whole for an admin: far more often a broken endpoint than a platform that closed;
    - a listing of changes (incomplete, not current) withdraws nothing but what the source reported deleted.
    A run holds at most one set of withdrawals: what the rules keep back goes to an admin together.
    """
    done = Settlement()
    seen = _named(store, source.id, listing, notes=done.notes)
    _release(store, source.id, seen, run_id=run_id, notes=done.notes)
    held: list[str] = []
    reasons: list[str] = []
    if listing.deleted:
        _reported(store, backend, source, listing.deleted, done=done, held=held, reasons=reasons)
    if listing.complete or listing.repeated:
        live = store.records.live_count(source.id)
        after = source.withdraw_after_missed_runs
        due = store.records.close_complete_run(source.id, seen=seen, withdraw_after=after)
        fetched = listing.fetched if not listing.repeated else len(seen)
        reason = guard_reason(due, live=live, listed=len(seen), fetched=fetched, share=source.max_withdraw_share)
        if reason is None:
            if due:
                count = withdraw(store, backend, source.id, due)
                done.withdrawn += count
                done.notes.append(f"{count} records missing from {after} complete listings in a row withdrawn")
        else:
            if not seen:  # the listing named nothing: what an admin approves is that every live record is gone
                due = _live(store, source.id)
            held.extend(due)
            reasons.append(reason)
    elif listing.current and not seen:
        live = store.records.live_count(source.id)
        reason = guard_reason([], live=live, listed=0, fetched=listing.fetched, share=source.max_withdraw_share)
        if reason is not None:
            held.extend(_live(store, source.id))
            reasons.append(reason)
    if reasons:
        uids = sorted(set(held))
        done.held = _hold(store, source.id, uids, run_id=run_id, reason="; ".join(reasons), notes=done.notes)
    return done


def _named(store: StateStore, source_id: str, listing: Listing, *, notes: list[str]) -> frozenset[str]:
    """The uids a listing named; for a repeated listing, those its source's last complete listing named."""
    if not listing.repeated:
        return listing.named
    last = {uid for uid, s in store.records.load(source_id).items() if not s.withdrawn and not s.missed_complete_runs}
    notes.append(f"the listing is the one the last complete run read: its {len(last)} records counted as listed")
    return listing.named | last


def _live(store: StateStore, source_id: str) -> list[str]:
    return sorted(uid for uid, state in store.records.load(source_id).items() if not state.withdrawn)


def _reported(
    store: StateStore,
    backend: IndexBackend,
    source: SourceBase,
    deleted: Collection[str],
    *,
    done: Settlement,
    held: list[str],
    reasons: list[str],
) -> None:
    """Withdraw the deletions the source reported, or keep them for the hold when the guard says so."""
    live = store.records.live_count(source.id)
    reported = store.records.live_among(source.id, deleted)
    reason = reported_guard_reason(
        len(reported), live=live, share=source.max_withdraw_share, floor=source.min_held_reported_deletions
    )
    if reason is None:
        count = withdraw(store, backend, source.id, deleted)  # the index too, whatever the state says
        done.withdrawn += count
        done.notes.append(f"the source reported {len(deleted)} records deleted; {count} withdrawn")
    else:
        held.extend(reported)
        reasons.append(reason)


def _release(store: StateStore, source_id: str, alive: Collection[str], *, run_id: str, notes: list[str]) -> None:
    """Take records this run listed alive out of the source's pending holds, so approving one never withdraws a
    record its platform still has (an incremental source would not list it again to bring it back). A held
    deletion of the whole source keeps every record: they leave with the source."""
    changed = store.holds.release(source_id, alive, by=f"run:{run_id}", unless_reason=SOURCE_DELETION_REASON)
    for hold, released in changed:
        closed = "; nothing is left to decide, so it is closed" if hold.status != "pending" else ""
        notes.append(f"{released} records of hold {hold.id} were listed alive again and leave the hold{closed}")
        logger.info("run %s released %d records of hold %d of %s", run_id, released, hold.id, source_id)


def _hold(
    store: StateStore, source_id: str, uids: list[str], *, run_id: str, reason: str, notes: list[str]
) -> HeldWithdrawal:
    """Keep withdrawals back for an admin; the same withdrawals already pending are not held twice."""
    pending = store.holds.find(source_id=source_id, status="pending")
    hold = next((h for h in pending if set(h.uids) == set(uids)), None)
    if hold is None:
        hold = store.holds.create(source_id, uids, run_id=run_id, reason=reason)
    else:
        notes.append(f"the same withdrawals already wait for an admin's decision in hold {hold.id}")
    notes.append(f"held {len(hold.uids)} withdrawals for an admin (hold {hold.id}): {reason}")
    logger.warning("run of %s held %d withdrawals (hold %d): %s", source_id, len(hold.uids), hold.id, reason)
    return HeldWithdrawal(hold.id, len(hold.uids), reason)


def guard_reason(due: Collection[str], *, live: int, listed: int, fetched: int, share: float) -> str | None:
    """Why the withdrawals a complete listing calls for must wait for an admin; None when they may go ahead.

    `live` is how many records the source had before the run, `listed` how many uids the listing named (records
    and rejected items with an id), `fetched` how many items it held in all, `share` the source's
    max_withdraw_share. A listing that suddenly names nothing is held even before anything is due: it is far
    more often a broken endpoint than a platform that closed.
    """
    if listed == 0 and live > 0:
        if fetched == 0:
            return f"the source listed no records; it had {live}"
        return f"none of the {fetched} items listed had a usable id; the source had {live} records"
    if due and len(due) > share * live:
        return f"would withdraw {len(due)} of {live} records ({_percent(len(due) / live)} > {_percent(share)})"
    return None


def reported_guard_reason(reported: int, *, live: int, share: float, floor: int) -> str | None:
    """Why deletions the source reported must wait for an admin; None when they may leave at once.

    `reported` counts the live records among them, `live` the source's live records before the run. Both
    limits must be passed: a repository suddenly reporting most of what it has deleted is far more often a
    reset or a migration than a cleanup, while a small one deleting a few records is ordinary.
    """
    if live and reported >= floor and reported > share * live:
        return (
            f"the source reported {reported} of its {live} records deleted "
            f"({_percent(reported / live)} > {_percent(share)})"
        )
    return None


def _percent(value: float) -> str:
    return f"{value * 100:.3g} %"


def withdraw(store: StateStore, backend: IndexBackend, source_id: str, uids: Iterable[str]) -> int:
    """Take records out of the index, then mark them withdrawn in the state; returns how many were there.

    Both steps are idempotent, so doing it again after a crash finishes the job.
    """
    targets = sorted(set(uids))
    if not targets:
        return 0
    removed = backend.withdraw(targets)
    marked = store.records.withdraw(source_id, targets)
    return max(removed, marked)


def apply_hold(store: StateStore, backend: IndexBackend, hold_id: int, *, actor: str) -> HeldDeletion:
    """Approve a pending hold and withdraw its records; raises StateNotFoundError or HoldAlreadyDecidedError.

    The records leave the index first; the approval, the state's withdrawal marks and the audit entry then
    commit together. A crash after the index step leaves the hold pending, and approving it again completes it.
    """
    hold = store.holds.get(hold_id)
    if hold.status != "pending":
        raise HoldAlreadyDecidedError(hold_id, status=hold.status)
    removed = backend.withdraw(hold.uids)
    with store.transaction() as tx:
        approved = tx.holds.approve(hold_id, by=actor)
        marked = tx.records.withdraw(hold.source_id, hold.uids)
        details = {"hold_id": hold_id, "uids": len(hold.uids), "withdrawn": max(removed, marked)}
        tx.audit.record(actor=actor, action="hold.approve", target=hold.source_id, details=details)
    logger.info(
        "hold %d of %s approved by %s: %d records withdrawn", hold_id, hold.source_id, actor, details["withdrawn"]
    )
    return approved


def reject_hold(store: StateStore, hold_id: int, *, actor: str) -> HeldDeletion:
    """Reject a pending hold: its records stay, and their missed-run counts start again from zero.

    Without the reset, the next complete listing that still misses them would make them due (and held) again
    at once. Raises StateNotFoundError or HoldAlreadyDecidedError.
    """
    with store.transaction() as tx:
        rejected = tx.holds.reject(hold_id, by=actor)
        kept = tx.records.keep(rejected.source_id, rejected.uids)
        details = {"hold_id": hold_id, "uids": len(rejected.uids), "kept": kept}
        tx.audit.record(actor=actor, action="hold.reject", target=rejected.source_id, details=details)
    logger.info("hold %d of %s rejected by %s: %d records kept", hold_id, rejected.source_id, actor, kept)
    return rejected
