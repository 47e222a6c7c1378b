"""`edufed compact [--force] [--wait SECONDS]`: give the SQLite index file's free pages back to the disk (VACUUM).

The state database is left alone: it mostly grows (runs, the audit log and the quarantine are kept, not pruned), so
it has few free pages to give back, and it may be PostgreSQL, which vacuums itself.
"""

from __future__ import annotations

import argparse
import signal
import threading

from config.settings import Settings
from indexer.backends import open_backend
from indexer.backends.sqlite_compact import (
    MIN_FREE_SHARE,
    Compaction,
    IndexFileSpace,
    compact_index,
    index_file_space,
    megabytes,
)
from indexer.backends.sqlite_schema import SCHEMA_VERSION
from search_api.cli.console import EXIT_OK, Console, UsageError


def run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Compact the configured SQLite index file; 0 when compacted or when there is nothing to do (the
    IndexBackendError of a refused compaction is reported by the CLI, exit code 1)."""
    if settings.index.backend == "elasticsearch":
        console.result(f"compact: the index is in Elasticsearch ({settings.index.url}), which merges its segments and "
                       "reclaims the space of deleted documents itself: nothing to compact here")  # fmt: skip
        return EXIT_OK
    if args.wait < 0:
        raise UsageError(f"--wait must be 0 seconds or more, got {args.wait:g}")
    path = settings.index_path
    if not path.exists():
        raise UsageError(f"there is no index file at {path} to compact (the settings' data_dir and index.sqlite_file)")
    space = index_file_space(path)
    if space.layout != SCHEMA_VERSION:  # what any edufed opening it does first; its freed pages are compacted too
        console.note(f"compact: {path} has layout {space.layout}: converting it to layout {SCHEMA_VERSION} first")
        open_backend(settings).close()
        space = index_file_space(path)
    console.note(f"compact: {describe(space)}")
    if not args.force and not space.worth_compacting():
        console.result(f"compact: nothing to do: free pages are under {MIN_FREE_SHARE:.0%} of {path}, and later "
                       "writes reuse them (--force compacts anyway)")  # fmt: skip
        return EXIT_OK
    interrupted = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda number, frame: interrupted.set())
    try:  # Ctrl-C is answered between SQLite's steps, where VACUUM can stop and roll back
        console.note(f"compact: copying {megabytes(space.live_bytes)} of live pages (waits up to {args.wait:g} s "
                     "for a write under way; searches keep answering)")  # fmt: skip
        done = compact_index(path, wait_seconds=args.wait, cancelled=interrupted.is_set)
    except KeyboardInterrupt:
        console.note(f"compact: interrupted before it finished: {path} is unchanged")
        raise
    finally:
        if previous is not None:  # None: a handler not installed from Python, which signal() cannot put back
            signal.signal(signal.SIGINT, previous)
    console.result(summary(done))
    return EXIT_OK


def describe(space: IndexFileSpace) -> str:
    """The file's size and how much of it is free pages."""
    wal = f" (and {megabytes(space.wal_bytes)} of write-ahead log)" if space.wal_bytes else ""
    return (f"{space.path} is {megabytes(space.file_bytes)}{wal}, {megabytes(space.free_bytes)} of it free pages "
            f"({space.free_share:.0%})")  # fmt: skip


def summary(done: Compaction) -> str:
    """Sizes before and after, and the seconds taken."""
    before, after = done.before, done.after
    compacted = after.pages * after.page_size
    text = (f"compact: {before.path} compacted in {done.seconds:.1f} s: {megabytes(before.file_bytes)} -> "
            f"{megabytes(compacted)} ({megabytes(before.file_bytes - compacted)} given back)")  # fmt: skip
    if not done.checkpointed:
        text += (f"; readers still held the old pages, so the file stays {megabytes(after.file_bytes)} on disk, "
                 f"the compacted pages in its write-ahead log ({megabytes(after.wal_bytes)}), until the next "
                 "checkpoint")  # fmt: skip
    return text
