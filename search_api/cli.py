"""The `edufed` command line: serve the catalogue, harvest sources, list sources, rebuild the index."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from config.errors import ConfigError
from config.loader import load_settings, load_sources, load_themes
from config.settings import Settings
from config.sources import SourceBase
from crawlers.demo import DemoPlatforms, demo_sources
from crawlers.errors import HarvestError
from crawlers.run import RunReport, harvest
from crawlers.state import StateError, StateStore
from indexer.backends import open_backend
from indexer.backends.base import IndexBackend
from indexer.errors import IndexerError
from indexer.pipeline import RecordBuilder
from search_api.reindex import reindex
from search_api.reports import ProgressLine, report_text, reports_json, source_yaml, sources_table
from search_api.serve import ServeOptions, serve

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
DEMO_SUBDIR = "demo"


class UsageError(Exception):
    """The command line asks for something that does not exist (exit code 2)."""


@dataclass
class Console:
    """Where the command writes: results to `out`, progress and messages to `err`."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    def result(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def note(self, text: str) -> None:
        self.err.write(text + "\n")
        self.err.flush()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", type=Path, metavar="SETTINGS.yaml", help="settings file (default: bundled)"
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser = argparse.ArgumentParser(
        prog="edufed", description="One catalogue for lifelong-learning platforms."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = commands.add_parser("serve", parents=[common], help="serve the search API and web pages")
    s.add_argument("--demo", action="store_true", help="also run the bundled demo platforms and harvest them")
    s.add_argument("--host", help="listen address (default: settings server.host)")
    s.add_argument(
        "--port", type=int, help="listen port, 0 for any free port (default: settings server.port)"
    )

    h = commands.add_parser("harvest", parents=[common], help="harvest one source (or all) now")
    h.add_argument("source_id", nargs="?", help="id of the source to harvest")
    h.add_argument("--all", action="store_true", help="harvest every enabled source")
    h.add_argument("--dry-run", action="store_true", help="fetch and build records but write nothing")
    h.add_argument("--demo", action="store_true", help="harvest the bundled demo platforms")
    h.add_argument("--json", action="store_true", help="print the run report as JSON")

    src = commands.add_parser("sources", parents=[common], help="list or show configured sources")
    src_commands = src.add_subparsers(dest="sources_command", required=True, metavar="list|show")
    src_commands.add_parser("list", parents=[common], help="list configured sources")
    show = src_commands.add_parser("show", parents=[common], help="show one source's configuration")
    show.add_argument("source_id")

    r = commands.add_parser("reindex", parents=[common], help="rebuild the index from the stored raw records")
    r.add_argument("--demo", action="store_true", help="rebuild the demo catalogue's index")
    return parser


def main(argv: Sequence[str] | None = None, *, console: Console | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 1 a harvest or the index failed, 2 usage or config)."""
    console = console or Console()
    args = build_parser().parse_args(argv)
    _configure_logging(verbose=args.verbose, quiet=args.command == "harvest")
    commands: dict[str, Callable[[argparse.Namespace, Settings, Console], int]] = {
        "serve": _serve, "harvest": _harvest, "sources": _sources, "reindex": _reindex,
    }  # fmt: skip
    try:
        settings = load_settings(args.config)
        return commands[args.command](args, settings, console)
    except ConfigError as exc:
        console.note(f"edufed: {exc}")
        return EXIT_USAGE
    except UsageError as exc:
        console.note(f"edufed: {exc}")
        return EXIT_USAGE
    except (IndexerError, HarvestError, StateError) as exc:
        console.note(f"edufed: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        console.note("edufed: interrupted")
        return 130


def _configure_logging(*, verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def _demo_settings(settings: Settings) -> Settings:
    """The demo catalogue lives in its own data directory, apart from the real one."""
    return settings.model_copy(update={"data_dir": settings.data_dir / DEMO_SUBDIR})


@contextmanager
def _index(settings: Settings) -> Iterator[IndexBackend]:
    backend = open_backend(settings)
    try:
        yield backend
    finally:
        backend.close()


@contextmanager
def _state(settings: Settings) -> Iterator[StateStore]:
    """The state database (migrated on open), closed when the command ends."""
    store = StateStore.for_settings(settings)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _sources_for(settings: Settings, *, demo: bool, server_port: int | None = None) -> Iterator[list[SourceBase]]:
    """The configured sources, or the demo sources while the demo platforms run.

    The demo platforms prefer the port after the server's, so the links stored in demo records keep working
    from one start to the next; a random free port is used when that one is taken.
    """
    if not demo:
        yield list(load_sources(settings.sources_file))
        return
    port = settings.server.port if server_port is None else server_port
    with _demo_platforms(preferred_port=port + 1 if port else 0) as platforms:
        yield list(demo_sources(platforms.base_url))


def _demo_platforms(*, preferred_port: int) -> DemoPlatforms:
    if 1024 < preferred_port < 65536:
        platforms = DemoPlatforms(port=preferred_port)
        try:
            platforms.start()
            return platforms
        except OSError:
            logger.info("port %d is taken; the demo platforms use a free port", preferred_port)
    return DemoPlatforms()


def _serve(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    if args.demo:
        settings = _demo_settings(settings)
    builder = RecordBuilder(load_themes(settings.themes_file))
    host = args.host or settings.server.host
    port = settings.server.port if args.port is None else args.port
    with (
        _sources_for(settings, demo=args.demo, server_port=port) as sources,
        _index(settings) as backend,
        _state(settings) as store,
    ):
        _seed(store, sources)
        on_start = sources if args.demo or settings.scheduler.harvest_on_start else []
        options = ServeOptions(host=host, port=port, harvest_sources=on_start)
        serve(options, settings=settings, backend=backend, builder=builder, sources=sources, store=store)
    return EXIT_OK


def _seed(store: StateStore, sources: Sequence[SourceBase]) -> None:
    """Make the state database's sources match the configuration file; say what it could not take."""
    result = store.sources.seed(sources)  # type: ignore[arg-type]
    for source_id in result.conflicts:
        logger.warning("source %s from the configuration is ignored: one with that id was added through the API",
                       source_id)
    for source_id in result.not_in_config:
        logger.info("source %s is no longer in the configuration; its state is kept", source_id)


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


def _harvest(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    if args.demo:
        settings = _demo_settings(settings)
    builder = RecordBuilder(load_themes(settings.themes_file))
    reports: list[RunReport] = []
    with _sources_for(settings, demo=args.demo) as sources:
        chosen = _pick(sources, args)
        with _index(settings) as backend:
            for source in chosen:
                report = harvest(source, settings=settings, backend=backend, builder=builder,
                                 dry_run=args.dry_run, progress=ProgressLine(console.err))  # fmt: skip
                reports.append(report)
    if args.json:
        console.result(reports_json(reports, single=not args.all))
    else:
        console.result("\n\n".join(report_text(r) for r in reports) or "no enabled sources to harvest")
    return EXIT_FAILED if any(r.status == "failed" for r in reports) else EXIT_OK


def _sources(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    sources = load_sources(settings.sources_file)
    if args.sources_command == "list":
        console.result(sources_table(sources))
        return EXIT_OK
    for source in sources:
        if source.id == args.source_id:
            console.result(source_yaml(source))
            return EXIT_OK
    known = ", ".join(s.id for s in sources) or "(none configured)"
    raise UsageError(f"unknown source {args.source_id!r}; known sources: {known}")


def _reindex(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    if args.demo:
        settings = _demo_settings(settings)
        sources = list(demo_sources("http://127.0.0.1"))  # only the record defaults matter when rebuilding
    else:
        sources = list(load_sources(settings.sources_file))
    builder = RecordBuilder(load_themes(settings.themes_file))
    with _index(settings) as backend:
        summary = reindex(backend, builder=builder, sources=sources, progress=console.err)
    console.result(summary.text())
    return EXIT_OK
