"""`edufed harvest SOURCE_ID | --all [--dry-run]`: one run of each chosen source now, under its lease, with a
progress bar and a run report."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from contextlib import ExitStack

from config.loader import load_themes
from config.settings import Settings
from config.source_models import SourceBase
from crawlers import LeaseKeeper, RunHeartbeat, RunReport, allow_source_hosts, harvest, new_holder
from crawlers.state import StateStore
from indexer.backends.base import IndexBackend
from indexer.pipeline import RecordBuilder
from search_api.cli.console import EXIT_FAILED, EXIT_OK, Console, UsageError
from search_api.cli.context import open_index, open_state, seed, sources_for, with_registered
from search_api.cli.reports import report_text, reports_json
from search_api.cli.tables import ProgressBar


def run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Harvest the chosen sources; 1 when one failed or was already running."""
    themes = load_themes(settings.themes_file)  # once, for the records and the index's query words
    builder = RecordBuilder(themes)
    reports: list[RunReport] = []
    busy: list[str] = []
    with sources_for(settings, demo=args.demo) as sources:
        chosen = _pick(sources if args.demo else with_registered(settings, sources), args)
        if args.demo:
            settings = allow_source_hosts(settings, sources)
        with ExitStack() as stack:
            store = None if args.dry_run else stack.enter_context(open_state(settings))  # a dry run changes no state
            backend = stack.enter_context(open_index(settings, store, themes=themes))
            if store is not None:
                seed(store, sources)
            for source in chosen:
                bar = ProgressBar(console.err, expected=_expected_items(settings, source.id, store))
                report: RunReport | None
                if store is None:
                    report = harvest(source, settings=settings, backend=backend, builder=builder, dry_run=True,
                                     progress=bar)  # fmt: skip
                else:
                    report = _harvest_leased(source, store=store, settings=settings, backend=backend,
                                             builder=builder, progress=bar, console=console)  # fmt: skip
                if report is None:
                    busy.append(source.id)
                else:
                    reports.append(report)
    if args.json:
        console.result(reports_json(reports, single=not args.all) if reports else "[]")
    else:
        console.result("\n\n".join(report_text(r) for r in reports) or _nothing_run(busy))
    return EXIT_FAILED if busy or any(r.status == "failed" for r in reports) else EXIT_OK


def _pick(sources: Sequence[SourceBase], args: argparse.Namespace) -> list[SourceBase]:
    if args.all == bool(args.source_id):
        raise UsageError("name one SOURCE_ID or pass --all")
    if args.all:
        return [s for s in sources if s.enabled]
    for source in sources:
        if source.id == args.source_id:
            return [source]
    known = ", ".join(s.id for s in sources) or "(none configured)"
    raise UsageError(f"unknown source {args.source_id!r}; known sources: {known}")


def _harvest_leased(
    source: SourceBase,
    *,
    store: StateStore,
    settings: Settings,
    backend: IndexBackend,
    builder: RecordBuilder,
    progress: ProgressBar,
    console: Console,
) -> RunReport | None:
    """Harvest under the source's lease, recorded in the state database; None when a run of it is going."""
    holder = new_holder()
    ttl = settings.scheduler.lease_ttl_seconds
    if not store.leases.try_acquire(source.id, holder, ttl=ttl):
        lease = store.leases.get(source.id)
        console.note(f"edufed: {source.id}: a run of it is going ({lease.holder if lease else 'just ended'}); "
                     "skipped, try again when it ends")  # fmt: skip
        return None
    keeper = LeaseKeeper(store, ttl=ttl)
    keeper.hold(source.id, holder)
    keeper.start()
    try:
        store.runs.abandon_unfinished(source.id, reason="the process running it stopped")
        beat = RunHeartbeat(store, source_id=source.id, holder=holder, then=progress)
        return harvest(source, settings=settings, backend=backend, builder=builder, progress=beat, state=store,
                       trigger="manual", holder=holder)  # fmt: skip
    finally:
        keeper.stop()
        keeper.release(source.id, holder)


def _nothing_run(busy: list[str]) -> str:
    return f"no run: {', '.join(busy)} already running" if busy else "no enabled sources to harvest"


def _expected_items(settings: Settings, source_id: str, store: StateStore | None) -> int | None:
    """How many items the source's last data-delivering run fetched: the size of the progress bar."""
    with ExitStack() as stack:
        store = store or stack.enter_context(open_state(settings))
        for past in store.runs.find(source_id=source_id, limit=20):
            if past.status in ("succeeded", "partial", "held") and past.counts.fetched:
                return past.counts.fetched
    return None
