"""The opening sync of a SQLite index's derived search engine index, and what an admin is told while it waits.

A process opening an index file brings the derived tantivy index up to date in its warm thread (sqlite.py). Another
sync may hold it then: another process's or a write's in this one, a catch-up of well under a second or a rebuild
of minutes at a million records (after an engine version change, or of a directory that cannot be read). The warm
thread then says so once at info, with how far a rebuild has got (what it has written so far, beside the size of
the index it replaces), waits for it in short steps so that closing the backend is never held up for long, and says
when it is done. A sync that fails for another reason is a warning.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from indexer.backends.tantivy_index import EngineBusyError
from indexer.errors import IndexBackendError

logger = logging.getLogger(__name__)

TELL_AFTER_SECONDS = 2.0
"""How long the warm thread waits for another sync before saying it waits: a catch-up is over well before."""
STEP_SECONDS = 1.0
"""How long each later wait is, between looks at whether the backend is closing."""
_REBUILT_SUFFIX = ".new"
"""The directory a rebuild writes beside the one it replaces (tantivy_index: `<index file>.tantivy.new`)."""


def sync_when_free(
    sync: Callable[[float], None], *, directory: Path, index_path: Path, stopping: threading.Event
) -> None:
    """`sync(wait)` until it brings the derived index at `directory` up to date, waiting behind another sync as
    long as that goes on and the backend is not `stopping` (the first try is always made); logs as the module
    says."""
    started = time.monotonic()
    told = False
    while True:
        try:
            sync(STEP_SECONDS if told else TELL_AFTER_SECONDS)
        except EngineBusyError:
            if stopping.is_set():  # closing: a later open, write or search syncs
                return
            if not told:
                logger.info(
                    "%s: this process waits for it (its text searches may be asked to try again until then)",
                    _under_way(directory),
                )
                told = True
            continue
        except (sqlite3.Error, IndexBackendError, OSError) as exc:
            logger.warning("could not bring the search engine index of %s up to date: %s", index_path, exc)
            return
        if told:
            logger.info("search engine index of %s up to date after %.0f s behind another sync", index_path,
                        time.monotonic() - started)  # fmt: skip
        return


def _under_way(directory: Path) -> str:
    """What the other sync is doing, as far as the file system shows it."""
    fresh = Path(f"{directory}{_REBUILT_SUFFIX}")
    if not fresh.is_dir():
        return f"another process or thread is updating the search engine index {directory}"
    written = _megabytes(fresh)
    replaced = f", the index it replaces holds {_megabytes(directory):.0f} MB" if directory.is_dir() else ""
    return (
        f"the search engine index {directory} is being rebuilt by another process or thread "
        f"({written:.0f} MB written so far{replaced})"
    )


def _megabytes(directory: Path) -> float:
    total = 0
    try:
        for path in directory.rglob("*"):
            try:
                total += path.stat().st_size if path.is_file() else 0
            except OSError:  # a file the rebuild merged away meanwhile
                continue
    except OSError:
        pass
    return total / 1e6
