"""`edufed holds list|approve|reject` and `edufed quarantine list|show`: held deletions and rejected items."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from config.settings import Settings
from crawlers import apply_hold, reject_hold
from crawlers.state import HeldDeletion, HoldAlreadyDecidedError, QuarantinedRecord, StateNotFoundError, StateStore
from indexer.backends import open_backend
from search_api.cli.console import CLI_ACTOR, EXIT_OK, EXIT_USAGE, Output
from search_api.cli.tables import cli_time
from search_api.services.admin_actions import hold_dict, quarantined_dict

REASON_CHARS = 80


def run_holds(args: argparse.Namespace, settings: Settings, console: Output) -> int:
    """Run one holds command; 2 for an unknown hold or one already decided."""
    with StateStore.for_settings(settings) as store:
        if args.holds_command == "list":
            found = store.holds.find(source_id=args.source, status=args.status, limit=1000)
            if args.json:
                console.result(json.dumps([hold_dict(h) for h in found], ensure_ascii=False, indent=2))
            else:
                console.result(_holds_table(found))
            return EXIT_OK
        try:
            hold = _decide(store, settings, args.hold_id, approve=args.holds_command == "approve")
        except StateNotFoundError:
            console.note(f"edufed: no held deletion {args.hold_id}")
            return EXIT_USAGE
        except HoldAlreadyDecidedError:
            decided = store.holds.get(args.hold_id)
            console.note(f"edufed: held deletion {decided.id} was already {decided.status} by {decided.decided_by} "
                         f"at {_when(decided)}; nothing changed")  # fmt: skip
            return EXIT_USAGE
    verb = "withdrawn from the catalogue" if hold.status == "approved" else "kept in the catalogue"
    console.result(f"held deletion {hold.id} {hold.status}: {len(hold.uids)} records of {hold.source_id} {verb}")
    return EXIT_OK


def _decide(store: StateStore, settings: Settings, hold_id: int, *, approve: bool) -> HeldDeletion:
    if not approve:
        return reject_hold(store, hold_id, actor=CLI_ACTOR)
    store.holds.get(hold_id)  # an unknown id fails before the index is opened
    backend = open_backend(settings, decisions=store.links)
    try:
        return apply_hold(store, backend, hold_id, actor=CLI_ACTOR)
    finally:
        backend.close()


def run_quarantine(args: argparse.Namespace, settings: Settings, console: Output) -> int:
    """Run one quarantine command; 2 for an unknown item."""
    with StateStore.for_settings(settings) as store:
        if args.quarantine_command == "list":
            page = store.quarantine.page(source_id=args.source, run_id=args.run, limit=max(1, min(args.limit, 1000)))
            if args.json:
                console.result(json.dumps([quarantined_dict(i) for i in page.items], ensure_ascii=False, indent=2))
            else:
                console.result(_quarantine_table(page.items, total=page.total))
            return EXIT_OK
        try:
            item = store.quarantine.get(args.entry_id)
        except StateNotFoundError:
            console.note(f"edufed: no quarantined item {args.entry_id}")
            return EXIT_USAGE
    console.result(_item_text(item))
    return EXIT_OK


def _when(hold: HeldDeletion) -> str:
    return cli_time(hold.decided_at) if hold.decided_at else "?"


def _holds_table(holds: list[HeldDeletion]) -> str:
    if not holds:
        return "no held deletions"
    rows = [("ID", "SOURCE", "STATUS", "RECORDS", "CREATED", "RUN", "REASON")]
    rows += [(str(h.id), h.source_id, h.status, str(len(h.uids)), cli_time(h.created_at),
              h.run_id, h.reason[:REASON_CHARS]) for h in holds]  # fmt: skip
    return _columns(rows)


def _quarantine_table(items: list[QuarantinedRecord], *, total: int) -> str:
    if not items:
        return "no quarantined items"
    rows = [("ID", "SOURCE", "ITEM", "RUN", "CREATED", "REASON")]
    rows += [(str(i.id), i.source_id, i.item_id or "(no id)", i.run_id or "-",
              cli_time(i.created_at), i.reason[:REASON_CHARS]) for i in items]  # fmt: skip
    shown = "" if total <= len(items) else f"\n({len(items)} of {total} shown; --limit shows more)"
    return _columns(rows) + shown


def _columns(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]) for row in rows)


def _item_text(item: QuarantinedRecord) -> str:
    payload: Any = item.payload
    shown = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, indent=2)
    return "\n".join([
        f"quarantined item {item.id} of {item.source_id} (run {item.run_id or '-'}, "
        f"{cli_time(item.created_at)})",
        f"item id: {item.item_id or '(none)'}",
        f"reason:  {item.reason}",
        "payload:",
        shown,
    ])  # fmt: skip
