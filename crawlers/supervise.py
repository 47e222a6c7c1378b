"""Run one harvest in a child process that can be killed: the only sure way to stop a fetch that hangs.

A Python thread blocked in a socket read cannot be interrupted, and a Scrapy crawl runs its own reactor, so
the scheduler never harvests in its own threads. It starts `run_child` in a fresh (spawned) process that
opens its own index backend and state store and calls `crawlers.run.harvest`, which records the run. The
parent waits, keeps the lease alive (`LeaseKeeper`), and kills the child when the time limit passes, the
lease is lost or the service stops; it then records what the child could not (timed_out, failed).
A child whose parent dies exits at once, so a crashed service never leaves a harvest running unowned.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy.exc import SQLAlchemyError

from config.settings import Settings
from config.source_models import SourceBase
from config.themes import ThemeTable
from crawlers.logcontext import install, log_context
from crawlers.run import harvest
from crawlers.run_heartbeat import RunHeartbeat
from crawlers.state import RunOutcome, RunRecord, StateStore
from crawlers.state.errors import RunAlreadyFinishedError, StateError
from indexer.backends import open_backend
from indexer.backends.base import IndexBackend
from indexer.pipeline import RecordBuilder
from indexer.themes_version import themes_version

logger = logging.getLogger(__name__)

EXIT_ORPHANED = 3
_POLL_SECONDS = 0.1
Ending = Literal["exited", "timed_out", "lease_lost", "stopped"]


@dataclass(frozen=True)
class ChildRun:
    """Everything a child process needs to harvest one source (picklable: sent to the spawned process). The
    theme table is the one the scheduler loaded at start, so a child reads no configuration file."""

    source_id: str
    trigger: str
    holder: str
    state_url: str
    settings: Settings
    themes: ThemeTable
    log_level: int = logging.INFO
    run_id: str | None = None
    """The run recorded (queued) for this attempt, which the child takes over; None: the child records one."""


@dataclass(frozen=True)
class AttemptResult:
    """How one supervised run ended: the run's id (None if it never started) and its recorded status."""

    source_id: str
    holder: str
    run_id: str | None
    status: str
    exit_code: int | None


def run_child(request: ChildRun) -> None:
    """The child process's entry point: harvest one source, recorded in the state store, then exit."""
    handler = logging.StreamHandler(sys.stderr)
    install(handler)
    logging.basicConfig(level=request.log_level, handlers=[handler], force=True)
    _exit_with_parent()
    with log_context(source_id=request.source_id):
        store = StateStore.open(request.state_url, upgrade=False)
        try:
            backend = open_backend(  # the clusters honour the admins' splits and joins
                request.settings, decisions=store.links, themes_version=themes_version(request.themes)
            )
            try:
                builder = RecordBuilder(request.themes)
                config = store.sources.get(request.source_id).config
                _harvest(config, request=request, store=store, backend=backend, builder=builder)
            finally:
                backend.close()
        finally:
            store.close()


def _exit_with_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()
        os._exit(EXIT_ORPHANED)  # the service is gone: nobody renews our lease any more

    threading.Thread(target=watch, name="edufed-parent-watch", daemon=True).start()


def _harvest(
    config: SourceBase, *, request: ChildRun, store: StateStore, backend: IndexBackend, builder: RecordBuilder
) -> None:
    """Harvest one source; the run records itself (start, counts, cursor, withdrawals) in the state store."""
    beat = RunHeartbeat(store, source_id=request.source_id, holder=request.holder)
    harvest(config, settings=request.settings, backend=backend, builder=builder, state=store,
            trigger=request.trigger, holder=request.holder, run_id=request.run_id, progress=beat)  # fmt: skip


def supervise(
    request: ChildRun,
    *,
    store: StateStore,
    limit_seconds: float,
    lease_lost: threading.Event,
    stopping: threading.Event,
) -> AttemptResult:
    """Harvest in a child process, end it when needed, and make sure the run's final state is recorded."""
    process = multiprocessing.get_context("spawn").Process(
        target=run_child, args=(request,), name=f"edufed-harvest-{request.source_id}"
    )
    process.start()
    try:
        ending = _wait(process, deadline=time.monotonic() + limit_seconds, lease_lost=lease_lost,
                       stopping=stopping)  # fmt: skip
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        exit_code = process.exitcode
        process.close()
    return _settle(store, request, ending=ending, exit_code=exit_code, limit_seconds=limit_seconds)


def _wait(
    process: multiprocessing.process.BaseProcess,
    *,
    deadline: float,
    lease_lost: threading.Event,
    stopping: threading.Event,
) -> Ending:
    while True:
        process.join(timeout=_POLL_SECONDS)
        if process.exitcode is not None:
            return "exited"
        if stopping.is_set():
            return "stopped"
        if lease_lost.is_set():
            return "lease_lost"
        if time.monotonic() >= deadline:
            return "timed_out"


_ENDINGS: dict[str, tuple[str, str, str]] = {
    "timed_out": ("timed_out", "RunTimedOut", "the run was still going after {limit:g} s and was stopped"),
    "lease_lost": ("failed", "RunLeaseLost", "this process lost the source's lease and stopped the run"),
    "stopped": ("failed", "RunInterrupted", "the service stopped during the run"),
    "exited": ("failed", "HarvestProcessDied", "the harvest process exited with code {code}"),
}


def _settle(
    store: StateStore, request: ChildRun, *, ending: Ending, exit_code: int | None, limit_seconds: float
) -> AttemptResult:
    """Record the end the child could not record itself; return the run's id and final status."""
    mine = [run for run in store.runs.find(source_id=request.source_id, limit=20) if run.holder == request.holder]
    unfinished = [run for run in mine if run.status == "running"]
    if mine and not unfinished:  # the child recorded its whole run (whatever happened after)
        return AttemptResult(request.source_id, request.holder, mine[0].id, mine[0].status, exit_code)
    status, error_type, template = _ENDINGS[ending]
    message = template.format(limit=limit_seconds, code=exit_code)
    if unfinished and all(run.queued for run in unfinished):  # recorded when asked for, never taken over
        message += "; the harvest process never began the run"
    outcome = RunOutcome(status=status, error_type=error_type, error_message=message)
    if not unfinished:  # the child never got as far as starting the run: record one so admins see it
        unfinished = [store.runs.start(request.source_id, trigger=request.trigger, holder=request.holder)]
    finished = [_finish(store, run, replace(outcome, counts=run.counts)) for run in unfinished]  # as far as it got
    logger.warning("run %s of %s ended: %s", finished[0].id, request.source_id, outcome.error_message)
    return AttemptResult(request.source_id, request.holder, finished[0].id, finished[0].status, exit_code)


def _finish(store: StateStore, run: RunRecord, outcome: RunOutcome) -> RunRecord:
    try:
        return store.runs.finish(run.id, outcome)
    except RunAlreadyFinishedError:  # the child finished it just as we stopped it
        return store.runs.get(run.id)


class LeaseKeeper:
    """Renews every lease this process holds, well before it lapses; flags a lease it could not keep."""

    def __init__(self, store: StateStore, *, ttl: float) -> None:
        self._store = store
        self._ttl = ttl
        self._held: dict[str, tuple[str, threading.Event, float]] = {}  # holder, lost, last renewed
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="edufed-lease-keeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def hold(self, source_id: str, holder: str) -> threading.Event:
        """Keep renewing this lease (already acquired); the event is set if it is lost."""
        lost = threading.Event()
        with self._lock:
            self._held[source_id] = (holder, lost, time.monotonic())
        return lost

    def release(self, source_id: str, holder: str) -> None:
        """Stop renewing and give the lease back."""
        with self._lock:
            if source_id in self._held and self._held[source_id][0] == holder:
                del self._held[source_id]
        try:
            self._store.leases.release(source_id, holder)
        except (StateError, SQLAlchemyError) as exc:  # it lapses by itself after the ttl
            logger.warning("could not release the lease on %s: %s", source_id, exc)

    def _loop(self) -> None:
        while not self._stopping.wait(self._ttl / 3):
            with self._lock:
                held = list(self._held.items())
            for source_id, (holder, lost, renewed) in held:
                self._renew(source_id, holder, lost, renewed)

    def _renew(self, source_id: str, holder: str, lost: threading.Event, renewed: float) -> None:
        try:
            kept = self._store.leases.renew(source_id, holder, ttl=self._ttl)
        except Exception as exc:  # a database hiccup: try again next round; the lease outlives a few
            logger.warning("could not renew the lease on %s: %s", source_id, exc)
            kept = time.monotonic() - renewed < self._ttl  # past the ttl another process may have it
            if kept:
                return
        if kept:
            with self._lock:
                if source_id in self._held and self._held[source_id][0] == holder:
                    self._held[source_id] = (holder, lost, time.monotonic())
            return
        lost.set()
        with self._lock:
            self._held.pop(source_id, None)
