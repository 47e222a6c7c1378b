"""`edufed reindex [--from-sqlite PATH] [--workers N] [--analysis-only | --links-only | --themes-only]`: rebuild the
index from the stored raw records (or only analyse their text again, where the index holds an older text analysis,
or only link every record again, where it was linked by older record linkage rules, or only classify every record
into themes again, where other theme rules classified it)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from config.loader import load_themes
from config.settings import Settings
from crawlers import default_workers, reindex, stored_records, withdrawn_in_state
from indexer.analysis_catch_up import catch_up_lock
from indexer.analysis_version import CatchUpBatch
from indexer.backends.elasticsearch import ElasticsearchBackend
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_file import SqliteIndexFile
from indexer.errors import BulkWriteError, IndexBackendError
from indexer.pipeline import RecordBuilder
from indexer.rebuild_pool import RebuildPool
from indexer.reindex import ReindexProgress
from indexer.themes_version import Reclassifier, ThemesPass, themes_state
from search_api.cli.console import EXIT_FAILED, EXIT_OK, Console, UsageError
from search_api.cli.context import configured, open_index, open_state, state_exists

REINDEX_FAILURES_SHOWN = 20


def run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Rebuild every record into the configured index; 1 when records failed to write (the first ones shown)."""
    only = [flag for flag, asked in (("--analysis-only", args.analysis_only), ("--links-only", args.links_only),
                                     ("--themes-only", args.themes_only)) if asked]  # fmt: skip
    if len(only) > 1:
        raise UsageError(f"{' and '.join(only)} are separate commands: run one, then the other")
    if args.analysis_only:
        return _analysis_only(args, settings, console)
    if args.links_only:
        return _links_only(args, settings, console)
    if args.themes_only:
        return _themes_only(args, settings, console)
    sources = configured(settings, demo=args.demo)  # only the record defaults matter when rebuilding
    table = load_themes(settings.themes_file)
    builder = RecordBuilder(table)
    with ExitStack() as stack:
        origin = stack.enter_context(_sqlite_origin(args.from_sqlite, settings)) if args.from_sqlite else None
        store = stack.enter_context(open_state(settings)) if state_exists(settings) else None
        # the rebuilt clusters keep the admins' decisions
        backend = stack.enter_context(open_index(settings, store, themes=table))
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


def _analysis_only(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Analyse the stored records' text again where the index holds an older text analysis, with progress."""
    if args.from_sqlite:
        raise UsageError("--analysis-only works on the configured index: leave out --from-sqlite")
    with open_index(settings) as backend:
        assert isinstance(backend, SqliteBackend | ElasticsearchBackend)
        state = backend.analysis_state()
        if state.current:
            console.result(f"reindex: the index holds this edufed's text analysis (version {state.version})")
            return EXIT_OK
        console.note(f"reindex: {state.notice}")
        with catch_up_lock(settings, waiting=_waiting_note(backend, console)):
            state = backend.analysis_state()
            if state.current:
                console.result(f"reindex: another process brought the index to this edufed's text analysis "
                               f"(version {state.version})")  # fmt: skip
                return EXIT_OK
            meter = ReindexProgress(console.err, expected=state.total - state.done)
            counted = [0]

            def seen(outcome: CatchUpBatch) -> None:
                counted[0] += outcome.read
                meter.tick(counted[0])

            read, rewritten = backend.catch_up_analysis(on_batch=seen)
            meter.done(read)
    console.result(f"reindex: {read} records analysed again, {rewritten} of them rewritten: the index holds text "
                   f"analysis version {state.version}")  # fmt: skip
    return EXIT_OK


def _links_only(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Link every record again where the index was linked by older rules, keeping the admins' decisions."""
    if args.from_sqlite:
        raise UsageError("--links-only works on the configured index: leave out --from-sqlite")
    with ExitStack() as stack:
        store = stack.enter_context(open_state(settings)) if state_exists(settings) else None
        backend = stack.enter_context(open_index(settings, store))  # the clusters keep the admins' decisions
        assert isinstance(backend, SqliteBackend | ElasticsearchBackend)
        state = backend.linkage_state()
        if state.current:
            console.result(f"reindex: the index was linked by this edufed's record linkage (version {state.version})")
            return EXIT_OK
        console.note(f"reindex: {state.notice}")
        expected = backend.count()
        workers = default_workers(expected) if args.workers is None else args.workers
        if workers < 1:
            raise UsageError(f"--workers must be at least 1, got {workers}")
        how = f"by {workers} process(es)" if isinstance(backend, SqliteBackend) else "at once, as a rebuild does"
        console.note(f"reindex: linking {expected} records again, their blocking keys first, then their clusters "
                     f"(clustered {how})")  # fmt: skip
        meter = ReindexProgress(console.err, expected=expected)
        clusterer = None
        if isinstance(backend, SqliteBackend):  # group by group, in worker processes when there are some
            pool = RebuildPool(builder=RecordBuilder(load_themes(settings.themes_file)), sources=[], workers=workers)
            clusterer = stack.enter_context(pool).cluster_groups
        started = time.monotonic()
        linked = backend.relink_all(clusterer=clusterer, on_coded=meter.tick)
        console.note(f"reindex: {expected} records' keys coded and clustered in {time.monotonic() - started:.1f} s")
    console.result(f"reindex: {expected} records linked again, {linked} of them in clusters: the index holds record "
                   f"linkage version {state.version}")  # fmt: skip
    return EXIT_OK


def _themes_only(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Classify every stored record into themes again where other theme rules classified the index, with progress;
    only the records whose themes change are written."""
    if args.from_sqlite:
        raise UsageError("--themes-only works on the configured index: leave out --from-sqlite")
    table = load_themes(settings.themes_file)
    themes = Reclassifier(table)
    with open_index(settings, themes=table) as backend:
        assert isinstance(backend, SqliteBackend | ElasticsearchBackend)
        recorded = backend.themes_recorded()
        expected = backend.count()
        state = themes_state(recorded, ours=themes.version, records=expected)
        if state.current:
            console.result(f"reindex: the index's records were classified by this edufed's theme rules (version "
                           f"{state.version})")  # fmt: skip
            return EXIT_OK
        console.note(f"reindex: {state.notice}")
        meter = ReindexProgress(console.err, expected=expected)
        started = time.monotonic()

        def page(done: ThemesPass) -> None:
            meter.tick(done.read)

        done = backend.reclassify_all(themes, version=themes.version, on_page=page)
        console.note(f"reindex: {done.read} records classified again in {time.monotonic() - started:.1f} s")
    console.result(f"reindex: {done.read} records classified again, {done.written} of them written with new themes: "
                   f"the index's records hold theme rules version {themes.version}")  # fmt: skip
    return EXIT_OK


def _waiting_note(backend: SqliteBackend | ElasticsearchBackend, console: Console) -> Callable[[], None]:
    """What `--analysis-only` says while another process (a serving process's background catch-up) holds the
    index's catch-up: once that it waits, then that process's progress each time it has moved."""
    shown: list[int] = []

    def waiting() -> None:
        done = backend.analysis_state().done
        if not shown:
            console.note("reindex: another process (an edufed serve's background catch-up) is analysing this index; "
                         "waiting for it to finish or stop (Ctrl-C leaves both as they are)")  # fmt: skip
        if not shown or done != shown[-1]:
            console.note(f"reindex: the other process has analysed {done:,} records")
            shown.append(done)

    return waiting


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
