"""`edufed serve`'s catch-up of an index written with an older text analysis, in a low-priority child process.

The child opens the index and re-analyses its records batch by batch (indexer.backends.sqlite_analysis for a
SQLite file, es_analysis for an Elasticsearch index) until it is current or the service stops; the serving process
keeps answering searches from the same index meanwhile, each batch reaching them as any write does. A child killed
or stopped part-way leaves the index's cursor at its last batch, and the next `edufed serve` (or `edufed reindex
--analysis-only`) goes on from there. Progress is in the index: the health endpoint, `edufed status` and the admin
console read it.

One catch-up at a time per SQLite file: the child holds an exclusive lock on `<index file>.analysis.lock` (fcntl,
non-blocking) for its lifetime, so a second serving process on the same file (another `edufed serve`, or API
workers) says once that another process is catching up and starts none; a holder killed in any way releases the
lock with its death, and the next start goes on from the cursor. Both catching up would still be correct (a batch
is written only where no other wrote first), only the analysis CPU would be spent twice. An Elasticsearch index has
no file beside it here: a catch-up per serving process, each batch written only if no other moved the cursor.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Protocol, runtime_checkable

from config.settings import Settings
from indexer.analysis_version import index_analysis
from indexer.errors import IndexBackendError

logger = logging.getLogger(__name__)

NICE = 10
"""The niceness the catch-up runs at: searches in the serving process come first."""
STOP_SECONDS = 30.0
WAIT_STEP = 1.0
"""Seconds between tries of a lock another process holds (`catch_up_lock`)."""
_UNLOCKED = -1


@runtime_checkable
class CatchingUp(Protocol):
    """An index that catches its records up to this edufed's text analysis (both backends)."""

    def catch_up_analysis(self, *, stop: Callable[[], bool]) -> tuple[int, int]: ...


class AnalysisCatchUp:
    """The child process catching the configured index up to this edufed's text analysis."""

    def __init__(self, settings: Settings) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop: Event = context.Event()
        self.process = context.Process(target=_child, args=(settings, self._stop), name="edufed-analysis", daemon=True)

    @classmethod
    def for_serving(cls, settings: Settings, backend: object) -> AnalysisCatchUp | None:
        """Log what the index's analysis asks of an admin, and start the catch-up when the index needs one."""
        try:
            state = index_analysis(backend)
        except IndexBackendError as exc:
            logger.warning("cannot read which text analysis the index holds: %s", exc)
            return None
        if state is None or state.current:
            return None
        logger.warning("index: %s", state.notice)
        if state.status == "newer":
            return None
        lock = lock_path(settings)
        if lock is not None:
            probe = _exclusive(lock)
            if probe is None:
                logger.info("another process is catching the index up (it holds %s): this one starts no catch-up",
                            lock)  # fmt: skip
                return None
            if probe != _UNLOCKED:
                os.close(probe)  # the child takes it for its lifetime (a second process racing in: one child wins)
        catch_up = cls(settings)
        catch_up.process.start()
        logger.info("re-analysing the index's records in the background (process %s)", catch_up.process.pid)
        return catch_up

    def stop(self) -> None:
        """Ask the child to stop after its batch; end it when it does not within STOP_SECONDS (it resumes later)."""
        self._stop.set()
        self.process.join(STOP_SECONDS)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()
        if self.process.exitcode not in (0, None):
            logger.warning("the text analysis catch-up ended with exit code %s; the next start goes on from where it "
                           "stopped", self.process.exitcode)  # fmt: skip


def lock_path(settings: Settings) -> Path | None:
    """The file whose lock the catch-up of the configured index holds: beside a SQLite file; None on Elasticsearch."""
    if settings.index.backend != "sqlite":
        return None
    return Path(f"{settings.index_path}.analysis.lock")


@contextlib.contextmanager
def catch_up_lock(settings: Settings, *, waiting: Callable[[], None]) -> Iterator[None]:
    """Hold the configured index's catch-up lock (`lock_path`) while the body runs: `edufed reindex --analysis-only`
    beside a serving process's background catch-up. While another process holds it, `waiting` is called about every
    WAIT_STEP seconds (to show that process's progress) until it is released. Nothing to hold on Elasticsearch, or
    when the lock file cannot be opened (the work is correct without it, perhaps done twice)."""
    lock = lock_path(settings)
    held = _exclusive(lock) if lock is not None else _UNLOCKED
    while held is None:
        waiting()
        time.sleep(WAIT_STEP)
        held = _exclusive(lock) if lock is not None else _UNLOCKED
    try:
        yield
    finally:
        if held != _UNLOCKED:
            os.close(held)


def _exclusive(path: Path) -> int | None:
    """A descriptor holding the exclusive lock on `path` (closing it releases it), or None when another holds it;
    _UNLOCKED when the lock file cannot be opened (the catch-up goes on without it: correct, perhaps twice)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        logger.warning("cannot open %s (%s): the text analysis catch-up runs without it", path, exc)
        return _UNLOCKED
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _child(settings: Settings, stop: Event) -> None:
    from indexer.backends import open_backend

    lock = lock_path(settings)
    held = _exclusive(lock) if lock is not None else None
    if lock is not None and held is None:
        logger.info("another process is catching the index up (it holds %s): nothing to do here", lock)
        return
    current = os.nice(0)
    if current < NICE:
        os.nice(NICE - current)
    try:
        backend = open_backend(settings)
        try:
            if isinstance(backend, CatchingUp):
                backend.catch_up_analysis(stop=stop.is_set)
        finally:
            backend.close()
    finally:
        if held is not None and held != _UNLOCKED:
            os.close(held)  # and if this process is killed, the system releases the lock with it
