"""Stored records rebuilt from their raw payloads, one at a time here or in worker processes, results in order.

    with RebuildPool(builder=builder, sources=sources, workers=2) as pool:
        for done in pool.rebuild(stored):          # stored: Record or StoredRecord (uid, JSON) items
            ...                                    # done.record, done.outcome: rebuilt | no_source | invalid

Rebuilding (parsing the stored JSON, normalizing, classifying) is most of a reindex's work and each record
is independent, so workers do it while the caller writes the index. Records travel in chunks, packed by
indexer.record_transfer; at most a few chunks per worker are in flight, so memory stays flat however large
the index. Results come back in input order: the index written is the one a single process writes.
With one worker, no process is started and the same function runs in the caller.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import islice
from multiprocessing import get_context
from types import TracebackType
from typing import Literal, NamedTuple, TypeVar

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from config.source_models import SourceBase
from config.themes import ThemeTable
from indexer.backends.sqlite_schema import PreparedRows
from indexer.errors import RebuildWorkerError, RecordInvalidError, UnreadableRecordError
from indexer.linkage.bulk import GroupLinks, LinkGroup, cluster_group, cluster_here
from indexer.linkage.profile import LinkProfile, profile_of, remember_profile
from indexer.pipeline import RecordBuilder
from indexer.record import Record
from indexer.record_text import analyse_ahead
from indexer.record_transfer import Packed, pack, unpack

CHUNK = 500
"""Records per task sent to a worker: large enough that sending costs little, small enough to keep all busy."""
IN_FLIGHT_PER_WORKER = 3
WORKER_GC_THRESHOLD = 50_000
"""A worker allocates hundreds of short-lived containers per record and keeps nothing: collect rarely."""
_PARENT_CHECK_SECONDS = 1.0
"""How often a worker checks that the process that started it is still there."""

Outcome = Literal["rebuilt", "no_source", "invalid"]


class StoredRecord(NamedTuple):
    """A record as an index file stores it: its uid and its JSON (parsed where it is rebuilt)."""

    uid: str
    json: str


@dataclass(frozen=True)
class RebuiltRecord:
    """One record after the rebuild: the new record, or the stored one kept (no source / cannot be rebuilt)."""

    record: Record | PreparedRows
    """The record, or only its index rows when the pool was asked to `prepare` them."""
    outcome: Outcome
    reason: str | None = None


def rebuild_one(
    stored: Record | StoredRecord, *, builder: RecordBuilder, sources: dict[str, SourceBase]
) -> RebuiltRecord:
    """The rebuild of one stored record with today's rules; kept as stored when that cannot be done."""
    record = stored if isinstance(stored, Record) else _parsed(stored)
    source = sources.get(record.source)
    if source is None:
        return RebuiltRecord(record, "no_source")
    try:
        rebuilt = builder.rebuild(record, source)
    except RecordInvalidError as exc:
        return RebuiltRecord(record, "invalid", exc.reason)
    if record.cluster_id and rebuilt.cluster_id is None:
        # kept until the rebuild's one linkage pass: a rebuild stopped before it leaves the old clusters whole
        rebuilt = rebuilt.model_copy(update={"cluster_id": record.cluster_id})
    return RebuiltRecord(rebuilt, "rebuilt")


def _parsed(stored: StoredRecord) -> Record:
    try:
        return Record.model_validate_json(stored.json)
    except ValidationError as exc:
        problem = f"{exc.error_count()} problem(s), first: {exc.errors()[0]['msg']}"
        raise UnreadableRecordError(stored.uid, problem) from exc


class RebuildPool:
    """Rebuilds stored records in `workers` processes (in the caller when 1), keeping their order."""

    def __init__(
        self, *, builder: RecordBuilder, sources: Sequence[SourceBase], workers: int, prepare: Prepare | None = None
    ) -> None:
        """`prepare`: what the workers send back instead of the record, made from it there (a SQLite index's
        rows: the writer then only codes facets and inserts, and no record crosses back)."""
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.builder = builder
        self.sources = {s.id: s for s in sources}
        self.workers = workers
        self.prepare = prepare
        self._executor: ProcessPoolExecutor | None = None
        if workers > 1:
            self._executor = ProcessPoolExecutor(
                max_workers=workers, mp_context=get_context("spawn"), initializer=_start_worker,
                initargs=(builder.themes, list(sources)),
            )  # fmt: skip

    def rebuild(self, stored: Iterable[Record | StoredRecord]) -> Iterator[RebuiltRecord]:
        """Every stored record rebuilt (or kept), in the order given."""
        if self._executor is None:
            for item in stored:
                yield rebuild_one(item, builder=self.builder, sources=self.sources)
            return
        yield from self._in_workers(self._executor, iter(stored))

    def _in_workers(
        self, executor: ProcessPoolExecutor, stored: Iterator[Record | StoredRecord]
    ) -> Iterator[RebuiltRecord]:
        pending: deque[Future[list[_Result]]] = deque()
        try:
            while True:
                while len(pending) < self.workers * IN_FLIGHT_PER_WORKER:
                    chunk = [item if isinstance(item, StoredRecord) else pack(item) for item in islice(stored, CHUNK)]
                    if not chunk:
                        break
                    pending.append(executor.submit(_rebuild_chunk, chunk, self.prepare))
                if not pending:
                    return
                for sent, outcome, reason, profile in _results(pending.popleft()):
                    if isinstance(sent, PreparedRows):
                        yield RebuiltRecord(sent, outcome, reason)
                        continue
                    record = unpack(sent)
                    if profile is not None:
                        remember_profile(record, profile)
                    yield RebuiltRecord(record, outcome, reason)
        finally:
            for future in pending:
                future.cancel()

    def cluster_groups(self, groups: Iterable[LinkGroup]) -> Iterator[GroupLinks]:
        """GroupClusterer: each group's clusters (indexer.linkage.bulk), in the workers, in the order given."""
        if self._executor is None:
            yield from cluster_here(groups)
            return
        pending: deque[Future[list[GroupLinks]]] = deque()
        stream = iter(groups)
        try:
            while True:
                while len(pending) < self.workers * IN_FLIGHT_PER_WORKER and (task := _task_of(stream)):
                    pending.append(self._executor.submit(_cluster_groups, task))
                if not pending:
                    return
                yield from _results(pending.popleft())
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> RebuildPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


_Result = tuple[Packed | PreparedRows, Outcome, str | None, LinkProfile | None]
Prepare = Callable[[Record], PreparedRows]
_T = TypeVar("_T")


def _results(future: Future[list[_T]]) -> list[_T]:
    try:
        return future.result()
    except BrokenProcessPool as exc:
        raise RebuildWorkerError(f"a process rebuilding records died, the rebuild stopped: {exc}") from exc


_worker_builder: RecordBuilder | None = None
_worker_sources: dict[str, SourceBase] = {}


def _start_worker(themes: ThemeTable, sources: list[SourceBase]) -> None:
    global _worker_builder, _worker_sources
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="edufed-parent-watch", daemon=True).start()
    _worker_builder = RecordBuilder(themes)
    _worker_sources = {s.id: s for s in sources}
    gc.freeze()  # the builder, rules and dictionaries live as long as the worker: keep them out of collections
    gc.set_threshold(WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])


def _exit_with_parent(parent: int) -> None:
    """End this worker once the process that started it is gone (killed, say: `kill -9` of `edufed reindex`).
    A worker waits for its next task on a pipe whose writing end every worker holds too, so it would never see
    end-of-file and would live on, holding its memory, for good."""
    while os.getppid() == parent:
        time.sleep(_PARENT_CHECK_SECONDS)
    os._exit(1)


def _rebuild_chunk(chunk: list[StoredRecord | Packed], prepare: Prepare | None = None) -> list[_Result]:
    assert _worker_builder is not None, "the worker was started without its builder"
    results: list[_Result] = []
    for item in chunk:
        stored = item if isinstance(item, StoredRecord) else unpack(item)
        done = rebuild_one(stored, builder=_worker_builder, sources=_worker_sources)
        assert isinstance(done.record, Record)
        prepared = _prepared(done.record, prepare) if prepare is not None else None
        if prepared is not None:
            results.append((prepared, done.outcome, done.reason, None))
            continue
        analyse_ahead(done.record)  # the index's analysis too: what is left to the writer is writing
        results.append((pack(done.record), done.outcome, done.reason, _profiled(done.record)))
    return results


def _task_of(groups: Iterator[LinkGroup]) -> list[LinkGroup]:
    """Groups of about CHUNK records together: one task for a worker."""
    task: list[LinkGroup] = []
    size = 0
    while size < CHUNK and (group := next(groups, None)) is not None:
        task.append(group)
        size += len(group.payloads)
    return task


def _cluster_groups(task: list[LinkGroup]) -> list[GroupLinks]:
    return [cluster_group(group) for group in task]


def _prepared(record: Record, prepare: Prepare) -> PreparedRows | None:
    """The record's rows; None when they cannot be made here (the record is sent, and the writer says why)."""
    try:
        return prepare(record)
    except PydanticSerializationError:
        return None


def _profiled(record: Record) -> LinkProfile | None:
    """The record's link profile with its blocking keys (MinHash bands) made, for the writer's index row and
    candidate look-ups; None for a record without a content hash (the writer hashes and profiles it)."""
    if not record.content_hash:
        return None
    profile = profile_of(record)
    profile.blocking_keys()  # cached on the profile, and pickled with it
    return profile
