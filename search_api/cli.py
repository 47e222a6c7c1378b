"""The `edufed` command line: serve the catalogue, harvest sources, list sources, rebuild the index."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import yaml

from config.errors import ConfigError
from config.loader import load_settings, load_sources, load_themes
from config.settings import Settings
from config.source_models import SourceBase
from crawlers.demo import DemoPlatforms, demo_sources
from crawlers.errors import HarvestError
from crawlers.logcontext import install as install_log_context
from crawlers.netguard import allow_source_hosts
from crawlers.run import RunReport, harvest
from crawlers.run_heartbeat import RunHeartbeat
from crawlers.schedule import new_holder
from crawlers.state import Principal, SourceHealth, StateError, StateStore, state_url
from crawlers.state.source_registry import CONFIG_ACTOR
from crawlers.supervise import LeaseKeeper
from indexer.backends import open_backend
from indexer.backends.base import IndexBackend
from indexer.backends.sqlite_file import SqliteIndexFile
from indexer.errors import BulkWriteError, IndexBackendError, IndexerError
from indexer.pipeline import RecordBuilder
from search_api import dump_commands, hold_commands, key_commands
from search_api.auth import ADMIN
from search_api.body_limits import MAX_DEPTH, json_depth
from search_api.errors import ApiError
from search_api.key_commands import demo_settings
from search_api.reindex import default_workers, reindex, stored_records, withdrawn_in_state
from search_api.reports import report_text, reports_json, source_yaml
from search_api.run_tables import ProgressBar, health_table, runs_json, runs_table
from search_api.serve import ServeOptions, serve
from search_api.source_actions import (
    create_source,
    defined_in_config_file,
    delete_source,
    deletion_hold,
    ensure_deletable,
)

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
REINDEX_FAILURES_SHOWN = 20
_CLI_ADMIN = Principal(key_id="cli", role=ADMIN, platform=None)
"""Who acts at the command line: whoever can run `edufed` on the server is an admin."""


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
    common.add_argument("--demo", action="store_true", help="the demo catalogue `make run` serves (edufed serve "
                        "--demo): its data directory data_dir/demo, its sources and runs, keys and index")  # fmt: skip
    parser = argparse.ArgumentParser(
        prog="edufed", description="One catalogue for lifelong-learning platforms."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = commands.add_parser("serve", parents=[common], help="serve the search API and web pages")
    s.add_argument("--host", help="listen address (default: settings server.host)")
    s.add_argument(
        "--port", type=int, help="listen port, 0 for any free port (default: settings server.port)"
    )

    h = commands.add_parser("harvest", parents=[common], help="harvest one source (or all) now")
    h.add_argument("source_id", nargs="?", help="id of the source to harvest")
    h.add_argument("--all", action="store_true", help="harvest every enabled source")
    h.add_argument("--dry-run", action="store_true", help="fetch and build records but write nothing")
    h.add_argument("--json", action="store_true", help="print the run report as JSON")

    src = commands.add_parser("sources", parents=[common], help="list, show, add or remove sources")
    src_commands = src.add_subparsers(dest="sources_command", required=True, metavar="list|show|add|remove")
    src_commands.add_parser("list", parents=[common], help="list the sources with their health")
    show = src_commands.add_parser("show", parents=[common], help="show one source's configuration")
    show.add_argument("source_id")
    add = src_commands.add_parser(
        "add", parents=[common], help="register a source from a file holding its YAML or JSON block (- = stdin)"
    )
    add.add_argument("file", metavar="FILE")
    remove = src_commands.add_parser(
        "remove", parents=[common], help="delete a registered source (its records are held for approval)"
    )
    remove.add_argument("source_id")

    runs = commands.add_parser("runs", parents=[common], help="show the harvest run history, newest first")
    runs.add_argument("--source", metavar="S", help="only this source's runs")
    runs.add_argument("--failed", action="store_true", help="only failed and timed-out runs")
    runs.add_argument("--limit", type=int, default=50, help="how many runs (default 50)")
    runs.add_argument("--json", action="store_true", help="print the runs as JSON")

    r = commands.add_parser("reindex", parents=[common], help="rebuild the index from the stored raw records")
    r.add_argument(
        "--from-sqlite", type=Path, metavar="PATH",
        help="load the configured index from the records of this SQLite index file (moving to Elasticsearch)",
    )  # fmt: skip
    r.add_argument("--workers", type=int, metavar="N", help="processes that rebuild records (default: every core "
                   "for 20,000 records or more, else 1)")  # fmt: skip
    key_commands.add_parser(commands, common)
    hold_commands.add_parsers(commands, common)
    dump_commands.add_parser(commands, common)
    return parser


def main(argv: Sequence[str] | None = None, *, console: Console | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 1 a harvest or the index failed, 2 usage or config)."""
    console = console or Console()
    args = build_parser().parse_args(argv)
    _configure_logging(verbose=args.verbose, quiet=args.command == "harvest")
    commands: dict[str, Callable[[argparse.Namespace, Settings, Console], int]] = {
        "serve": _serve, "harvest": _harvest, "sources": _sources, "reindex": _reindex, "runs": _runs,
        "keys": key_commands.run, "holds": hold_commands.run_holds, "quarantine": hold_commands.run_quarantine,
        "dump": dump_commands.run,
    }  # fmt: skip
    try:
        settings = load_settings(args.config)
        if args.demo:  # every command addresses the demo catalogue the one way: its own data directory
            settings = demo_settings(settings)
        return commands[args.command](args, settings, console)
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


def _configure_logging(*, verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    install_log_context(handler)  # every line says which source and run it is about
    logging.basicConfig(level=level, handlers=[handler])
    if not verbose:  # the scheduler's bookkeeping (job added, job ran) and the state database's migration
        # context lines (printed whenever a command opens it) say nothing our own lines do not
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)


@contextmanager
def _index(settings: Settings, store: StateStore | None = None) -> Iterator[IndexBackend]:
    """The index, its clusters honouring the admins' link decisions of `store` (the state database)."""
    backend = open_backend(settings, decisions=store.links if store is not None else None)
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
    """The demo platforms on the preferred port: started here, or those a running `edufed serve --demo` already
    serves there (so a harvest from another process stores links that keep working after it exits)."""
    if 1024 < preferred_port < 65536:
        platforms = DemoPlatforms(port=preferred_port)
        try:
            platforms.start_or_join()
            return platforms
        except OSError:
            logger.warning(
                "port %d is taken by something other than the demo platforms; they use a free port, and the links "
                "of the records harvested now stop working when this command ends",
                preferred_port,
            )
    return DemoPlatforms()


def _serve(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    load_themes(settings.themes_file)  # a broken themes file stops the start, not every later run
    host = args.host or settings.server.host
    port = settings.server.port if args.port is None else args.port
    with (
        _sources_for(settings, demo=args.demo, server_port=port) as sources,
        _state(settings) as store,
        _index(settings, store) as backend,
    ):
        _seed(store, sources)
        first_runs = args.demo or settings.scheduler.harvest_on_start
        options = ServeOptions(host=host, port=port, first_runs=first_runs)
        if args.demo:  # the demo platforms serve on loopback, which the SSRF guard refuses unless allowed
            settings = allow_source_hosts(settings, sources)
        serve(options, settings=settings, backend=backend, sources=sources, store=store)
    return EXIT_OK


def _seed(store: StateStore, sources: Sequence[SourceBase]) -> None:
    """Make the state database's sources match the configuration file; say what it could not take.

    A block whose source was deleted through the API (its held deletion pending or approved) is not seeded:
    the file would switch the source back on and its next run would bring the records back.
    """
    deleting = {s.id for s in sources if _being_deleted(store, s.id)}
    for source_id in sorted(deleting):
        logger.warning("source %s from the configuration is ignored: it was deleted through the API; "
                       "remove its block from the file", source_id)  # fmt: skip
    result = store.sources.seed([s for s in sources if s.id not in deleting])  # type: ignore[misc]
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
    builder = RecordBuilder(load_themes(settings.themes_file))
    reports: list[RunReport] = []
    busy: list[str] = []
    with _sources_for(settings, demo=args.demo) as sources:
        chosen = _pick(sources if args.demo else _with_registered(settings, sources), args)
        if args.demo:
            settings = allow_source_hosts(settings, sources)
        with ExitStack() as stack:
            store = None if args.dry_run else stack.enter_context(_state(settings))  # a dry run changes no state
            backend = stack.enter_context(_index(settings, store))
            if store is not None:
                _seed(store, sources)
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


def _sources(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    if args.sources_command == "add":
        return _add_source(args, settings, console)
    if args.sources_command == "remove":
        return _remove_source(args, settings, console)
    sources = _with_registered(settings, _configured(settings, demo=args.demo))
    if args.sources_command == "list":
        registered, health = _health(settings, [s.id for s in sources])
        console.result(health_table(sources, health, registered))
        return EXIT_OK
    for source in sources:
        if source.id == args.source_id:
            console.result(source_yaml(source))
            return EXIT_OK
    known = ", ".join(s.id for s in sources) or "(none configured)"
    raise UsageError(f"unknown source {args.source_id!r}; known sources: {known}")


def _configured(settings: Settings, *, demo: bool) -> list[SourceBase]:
    """The sources of the configuration file; with `demo`, the demo's (as `make run` seeded them, else as it
    would: its platforms on the port after the server's)."""
    if not demo:
        return list(load_sources(settings.sources_file))
    if _state_exists(settings):
        with _state(settings) as store:
            seeded: list[SourceBase] = [s.config for s in store.sources.find() if s.created_by == CONFIG_ACTOR]
        if seeded:
            return seeded
    return list(demo_sources(f"http://127.0.0.1:{settings.server.port + 1}"))


def _with_registered(settings: Settings, configured: list[SourceBase]) -> list[SourceBase]:
    """sources.yaml's sources and, after them, those registered through the API or `edufed sources add`.

    A registered source wins over a file block with its id (as when `edufed serve` seeds the file); sources
    deleted through the API (their held deletion approved, or still pending) are left out, file blocks too.
    """
    if not _state_exists(settings):
        return configured
    with _state(settings) as store:
        stored = store.sources.find()
        gone = {s.id for s in stored if _being_deleted(store, s.id)}
    added = [s.config for s in stored if s.created_by != CONFIG_ACTOR and s.id not in gone]
    taken = {s.id for s in added} | gone
    return [s for s in configured if s.id not in taken] + added


def _being_deleted(store: StateStore, source_id: str) -> bool:
    """Whether the source was deleted through the API: its held deletion approved, or waiting for an admin."""
    hold = deletion_hold(store, source_id)
    return hold is not None and hold.status in ("pending", "approved")


def _add_source(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Register a source from a file, with every check and the audit entry of the sources API."""
    block = _source_block(args.file)
    _not_in_file(settings, block.get("id"))
    with _state(settings) as store:
        source = create_source(store, _CLI_ADMIN, block, settings=settings, actor=_cli_actor())
    state = "enabled: it runs on its schedule" if source.enabled else "disabled: enable it to schedule it"
    console.result(f"added {source.id} ({source.kind}, platform {source.platform}), {state}; "
                   f"preview it with `edufed harvest {source.id} --dry-run`")  # fmt: skip
    return EXIT_OK


def _remove_source(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Delete a source as the API does: at once without records, else disabled with its records held; refused
    for a source the configuration file defines, by the rule the API applies."""
    ensure_deletable(settings, args.source_id)
    with _state(settings) as store, _index(settings, store) as backend:
        deletion = delete_source(store, backend, _CLI_ADMIN, args.source_id, actor=_cli_actor())
    if deletion.hold is None:
        console.result(f"removed {args.source_id}: it had no records in the catalogue")
    else:
        hold = deletion.hold
        console.result(
            f"{args.source_id} is disabled; its {len(hold.uids)} records leave the catalogue when held deletion "
            f"{hold.id} is approved: `edufed holds approve {hold.id}` (or reject it to keep them)"
        )
    return EXIT_OK


def _source_block(path: str) -> dict[str, object]:
    """The one source block a file (or stdin for `-`) holds, as YAML or JSON; also `sources: [block]`."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    if json_depth(text.encode("utf-8")) > MAX_DEPTH:  # YAML's parser recurses once per level
        raise UsageError(f"{path} nests arrays or mappings more than {MAX_DEPTH} levels deep")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not a YAML or JSON source block: {exc}") from exc
    except RecursionError as exc:  # block-style nesting by indentation, which the bracket count does not see
        raise UsageError(f"{path} nests mappings too deeply to read") from exc
    if isinstance(data, dict) and set(data) == {"sources"} and isinstance(data["sources"], list):
        data = data["sources"][0] if len(data["sources"]) == 1 else None
    if not isinstance(data, dict):
        raise UsageError(f"{path} must hold one source block (a mapping with id, kind, url, ...)")
    return data


def _not_in_file(settings: Settings, source_id: object) -> None:
    if defined_in_config_file(settings, source_id):
        raise UsageError(
            f"{source_id} is defined in {settings.sources_file}: change or remove its block there (once the "
            "block is gone and `edufed serve` restarted, `edufed sources remove` takes its records out)"
        )


def _cli_actor() -> str:
    """How the audit log names an admin at the command line."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _runs(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    limit = max(1, min(args.limit, 1000))
    with _state(settings) as store:
        if args.failed:  # failed and timed-out runs, merged newest first
            found = store.runs.find(source_id=args.source, status="failed", limit=limit)
            found += store.runs.find(source_id=args.source, status="timed_out", limit=limit)
            found = sorted(found, key=lambda run: (run.started_at, run.id), reverse=True)[:limit]
        else:
            found = store.runs.find(source_id=args.source, limit=limit)
    console.result(runs_json(found) if args.json else runs_table(found))
    return EXIT_OK


def _state_exists(settings: Settings) -> bool:
    """Whether there is a state database to read (a SQLite one is only created by commands that write)."""
    return settings.state_db_url is not None or Path(state_url(settings).removeprefix("sqlite:///")).exists()


def _health(settings: Settings, source_ids: list[str]) -> tuple[dict[str, bool], dict[str, SourceHealth]]:
    """Paused switches and health of the sources, from the state database (none before it exists)."""
    if not _state_exists(settings):
        return {}, {}
    with _state(settings) as store:
        registered = {s.id: s.paused for s in store.sources.find()}
        return registered, store.health([i for i in source_ids if i in registered])


def _expected_items(settings: Settings, source_id: str, store: StateStore | None) -> int | None:
    """How many items the source's last data-delivering run fetched: the size of the progress bar."""
    with ExitStack() as stack:
        store = store or stack.enter_context(_state(settings))
        for run in store.runs.find(source_id=source_id, limit=20):
            if run.status in ("succeeded", "partial", "held") and run.counts.fetched:
                return run.counts.fetched
    return None


def _reindex(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    sources = _configured(settings, demo=args.demo)  # only the record defaults matter when rebuilding
    builder = RecordBuilder(load_themes(settings.themes_file))
    with ExitStack() as stack:
        origin = stack.enter_context(_sqlite_origin(args.from_sqlite, settings)) if args.from_sqlite else None
        store = stack.enter_context(_state(settings)) if _state_exists(settings) else None
        backend = stack.enter_context(_index(settings, store))  # the rebuilt clusters keep the admins' decisions
        expected = origin.count() if origin else backend.count()
        workers = default_workers(expected) if args.workers is None else args.workers
        if workers < 1:
            raise UsageError(f"--workers must be at least 1, got {workers}")
        console.note(f"reindex: {expected} records from {origin.path if origin else 'the index itself'} "
                     f"into {_index_name(settings)}, rebuilt by {workers} process(es)")  # fmt: skip
        if settings.index.backend == "elasticsearch":
            console.note("reindex: harvests that write before the alias swap are lost: keep the scheduler paused")
        records = origin.stored() if origin else stack.enter_context(stored_records(settings))
        try:
            summary = reindex(backend, builder=builder, sources=sources, records=records, expected=expected,
                              withdrawn=withdrawn_in_state(settings), workers=workers, progress=console.err,
                              deleted=origin.deleted_changes() if origin else None)  # fmt: skip
        except BulkWriteError as exc:
            console.note(f"edufed: {exc}")
            for item in exc.failed[:REINDEX_FAILURES_SHOWN]:
                console.note(f"  {item.uid}: {item.error_type}: {item.reason}")
            return EXIT_FAILED
    console.result(summary.text())
    return EXIT_OK


def _sqlite_origin(path: Path, settings: Settings) -> SqliteIndexFile:
    """The index file `--from-sqlite` names, opened read-only; a usage error when it is not one."""
    if settings.index.backend == "sqlite" and path.resolve() == settings.index_path.resolve():
        raise UsageError(f"--from-sqlite {path} is the configured index itself: run `edufed reindex` without it")
    try:
        return SqliteIndexFile(path)
    except IndexBackendError as exc:
        raise UsageError(f"--from-sqlite: {exc}") from exc


def _index_name(settings: Settings) -> str:
    if settings.index.backend == "elasticsearch":
        return f"a new index behind Elasticsearch alias {settings.index.es_alias} at {settings.index.url}"
    return str(settings.index_path)
