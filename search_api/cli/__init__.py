"""The `edufed` command line: serve the catalogue, harvest sources, manage sources, runs, keys and holds, rebuild.

Importing this package loads only the argument parser, so `edufed --help` answers at once; a command's own modules
(the harvest engine, the index, the web app) load when that command runs. One module per subcommand sits beside
this one (`serve.py`, `harvest.py`, `sources.py`, ...); `parser.py` holds every subcommand's arguments.
"""

from __future__ import annotations

from collections.abc import Sequence

from search_api.cli.console import Console
from search_api.cli.parser import build_parser

__all__ = ["Console", "build_parser", "main"]


def main(argv: Sequence[str] | None = None, *, console: Console | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 1 a harvest or the index failed, 2 usage or config)."""
    console = console or Console()
    args = build_parser().parse_args(argv)  # --help and usage errors end here, before anything heavy loads
    from search_api.cli.dispatch import run_command  # the settings, errors and command modules: loaded to run

    return run_command(args, console)
