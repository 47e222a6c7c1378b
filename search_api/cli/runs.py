"""`edufed runs [--source S] [--failed]`: the harvest run history, newest first."""

from __future__ import annotations

import argparse

from config.settings import Settings
from search_api.cli.console import EXIT_OK, Console
from search_api.cli.context import open_state
from search_api.cli.tables import runs_json, runs_table


def run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Print the runs as a table or JSON."""
    limit = max(1, min(args.limit, 1000))
    with open_state(settings) as store:
        if args.failed:  # failed and timed-out runs, merged newest first
            found = store.runs.find(source_id=args.source, status="failed", limit=limit)
            found += store.runs.find(source_id=args.source, status="timed_out", limit=limit)
            found = sorted(found, key=lambda past: (past.started_at, past.id), reverse=True)[:limit]
        else:
            found = store.runs.find(source_id=args.source, limit=limit)
    console.result(runs_json(found) if args.json else runs_table(found))
    return EXIT_OK
