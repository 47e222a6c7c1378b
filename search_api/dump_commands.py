"""`edufed dump`: build the bulk data dump of the whole public catalogue now (the scheduler does it daily)."""

from __future__ import annotations

import argparse
import json
from typing import Protocol

from config.settings import Settings
from indexer.backends import open_backend
from indexer.dump import build_dump, dump_directory, lower_priority


class Output(Protocol):
    """Where a command writes: `result` for what it prints, `note` for messages."""

    def result(self, text: str) -> None: ...

    def note(self, text: str) -> None: ...


def add_parser(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    """The `dump` subcommand."""
    dump = commands.add_parser("dump", parents=[common], help="write the bulk data dump (gzipped JSON Lines) now")
    dump.add_argument("--json", action="store_true", help="print the dump's manifest as JSON")


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
