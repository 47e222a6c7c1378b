"""Runs a parsed command: logging, the settings (`--demo`'s own data directory), the command's module, and the
exit code each kind of error means."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable
from typing import cast

from config.errors import ConfigError
from config.loader import load_settings
from config.settings import Settings
from crawlers import HarvestError, install_log_context
from crawlers.state import StateError
from indexer.errors import IndexerError
from search_api.cli.console import EXIT_FAILED, EXIT_USAGE, Console, UsageError
from search_api.cli.context import demo_settings
from search_api.http.errors import ApiError

Command = Callable[[argparse.Namespace, Settings, Console], int]

COMMANDS = {
    "serve": "serve:run", "harvest": "harvest:run", "sources": "sources:run", "runs": "runs:run",
    "reindex": "reindex:run", "keys": "keys:run", "holds": "holds:run_holds", "quarantine": "holds:run_quarantine",
    "dump": "dump:run", "compact": "compact:run", "status": "status:run",
}  # fmt: skip
"""Subcommand -> `module:function` in this package; the module is imported only when its command runs."""


def run_command(args: argparse.Namespace, console: Console) -> int:
    """Run the parsed command; an error becomes its message and exit code (2 usage or config, 1 the work failed)."""
    _configure_logging(verbose=args.verbose, quiet=args.command == "harvest")
    try:
        settings = load_settings(args.config)
        if args.demo:  # every command addresses the demo catalogue the one way: its own data directory
            settings = demo_settings(settings)
        return command(args.command)(args, settings, console)
    except ConfigError as exc:
        console.note(f"edufed: {exc}")
        return EXIT_USAGE
    except UsageError as exc:
        console.note(f"edufed: {exc}")
        return EXIT_USAGE
    except ApiError as exc:  # the checks the sources API makes, met from the command line
        console.note(f"edufed: {exc.message}")
        for problem in exc.details:
            zh = getattr(problem, "reason_zh", None)
            console.note(f"  {problem.field}: {problem.reason}" + (f"（{zh}）" if zh else ""))
        return EXIT_USAGE if exc.status < 500 else EXIT_FAILED
    except (IndexerError, HarvestError, StateError) as exc:
        console.note(f"edufed: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        console.note("edufed: interrupted")
        return 130


def command(name: str) -> Command:
    """The function that runs subcommand `name`, its module imported now."""
    module, function = COMMANDS[name].split(":")
    return cast(Command, getattr(importlib.import_module(f"search_api.cli.{module}"), function))


def _configure_logging(*, verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    install_log_context(handler)  # every line says which source and run it is about
    logging.basicConfig(level=level, handlers=[handler])
    if not verbose:  # the scheduler's bookkeeping (job added, job ran) and the state database's migration
        # context lines (printed whenever a command opens it) say nothing our own lines do not
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
