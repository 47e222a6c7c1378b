"""`edufed dump`: build the bulk data dump of the whole public catalogue now (the scheduler does it daily)."""

from __future__ import annotations

import argparse
import json

from config.settings import Settings
from indexer.backends import open_backend
from indexer.dump import build_dump, dump_directory, lower_priority
from search_api.cli.console import Output


def run(args: argparse.Namespace, settings: Settings, console: Output) -> int:
    """Build one dump into <data_dir>/dumps; 0 when published (an IndexerError is reported by the CLI).

    At the dump's low priority and pace, as the scheduler builds it: a running `edufed serve` keeps answering."""
    lower_priority()
    backend = open_backend(settings)
    try:
        manifest = build_dump(backend, directory=dump_directory(settings), settings=settings.dump)
    finally:
        backend.close()
    if args.json:
        console.result(json.dumps(manifest, ensure_ascii=False, indent=1))
    else:
        console.result(f"{manifest['file']}: {manifest['records']} records, {manifest['bytes']} bytes")
    return 0
