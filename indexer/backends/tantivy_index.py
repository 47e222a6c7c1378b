"""The derived tantivy index beside a SQLite index file, kept up to date from it by write generation.

SQLite stays the one source of truth; the directory `<index file>.tantivy/` is a copy of its searchable text
and facet codes that can always be rebuilt. Its state file records the SQLite file's `instance` id, the layout
version and the generation it holds. Bringing it up to date (`sync`) runs under an exclusive lock on
`<index file>.tantivy.lock` (fcntl, so one writer at a time across processes; a killed holder's lock goes with
it): it deletes the rows `removed` since that generation, re-adds every `docs` row written since (delete by
rowid, then add: applying a change twice gives the same index), commits, then records the new generation.
A kill between the tantivy commit and the state file only means the next sync applies the same rows again.
A missing, unreadable or other-version directory, or one whose generation the SQLite file cannot explain
(another file, or fewer generations than it has, or older than the `removed` log reaches), is rebuilt from
SQLite into a fresh directory that then replaces it. Readers in any process reload when the state moves on.
A search that finds the directory behind waits at most SEARCH_WAIT_SECONDS for the lock (a write waits
LOCK_TIMEOUT_SECONDS), then raises IndexBackendError saying the index is being updated.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import tantivy

from indexer.backends.sqlite_text import decode_fields
from indexer.backends.tantivy_schema import ENGINE_VERSION, ID_FIELD, ROW_COLUMNS, TOKENIZER, analyzer, document, schema
from indexer.errors import IndexBackendError

logger = logging.getLogger(__name__)

STATE_FILE = "edufed-state.json"
LOCK_TIMEOUT_SECONDS = 120.0
"""How long a write's catch-up waits for the writer lock (another process's catch-up or rebuild)."""
SEARCH_WAIT_SECONDS = 10.0
"""How long a search waits for it: a catch-up takes well under a second, a full rebuild minutes at a million
records, and a learner is better told at once to try again (the API's 503 with Retry-After) than kept waiting."""
_LOCK_POLL_SECONDS = 0.01
_CHUNK = 5000
_WRITER_HEAP = 64_000_000
_REBUILD_HEAP = 256_000_000
_SELECT = f"SELECT {', '.join('d.' + c for c in ROW_COLUMNS)}, t.fields FROM docs d CROSS JOIN texts t ON t.id = d.id "
"""Each row's docs columns and its stored text (sqlite_text). CROSS JOIN keeps `docs` the outer loop (SQLite does
not reorder it), so `WHERE d.gen > ?` seeks by `docs_gen` and each row's text is read by rowid; with a plain
JOIN the planner scanned all of the text for a write of one record (0.66 s of each catch-up at 1M records)."""


class EngineBusyError(IndexBackendError):
    """Another sync (a catch-up or a rebuild, in this process or another) held the index longer than the wait."""


@dataclass(frozen=True)
class EngineState:
    """What the directory holds: the SQLite file it derives from, its layout version, build id and generation."""

    instance: str
    version: str
    build: str
    generation: int


class TantivyIndex:
    """The tantivy directory of one SQLite index file: sync it from SQLite, and search it (`searcher`)."""

    def __init__(self, sqlite_path: Path, *, instance: str) -> None:
        self.directory = Path(f"{sqlite_path}.tantivy")
        self.lock_path = Path(f"{sqlite_path}.tantivy.lock")
        self.schema = schema()
        self.analyzer = analyzer()
        self._instance = instance
        self._lock = threading.Lock()
        """One sync or reader refresh at a time in this process (the file lock is per process)."""
        self._index: tantivy.Index | None = None
        self._shown: EngineState | None = None
        """The state the open reader shows."""
        self.search_wait = SEARCH_WAIT_SECONDS
        """How long a search waits for another sync to end before raising EngineBusyError."""

    # -- state ----------------------------------------------------------------------------------------

    def state(self) -> EngineState | None:
        """The state file's content, or None when it is missing or unreadable."""
        try:
            body = json.loads((self.directory / STATE_FILE).read_text("utf-8"))
            return EngineState(
                instance=str(body["instance"]), version=str(body["version"]), build=str(body["build"]),
                generation=int(body["generation"]),
            )  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_state(self, directory: Path, state: EngineState) -> None:
        temporary = directory / f"{STATE_FILE}.tmp"
        temporary.write_text(json.dumps(asdict(state)), "utf-8")
        os.replace(temporary, directory / STATE_FILE)

    def _usable(self, state: EngineState | None, *, generation: int, pruned: int) -> bool:
        """Whether `state` can be brought to `generation` incrementally."""
        return (
            state is not None and state.instance == self._instance and state.version == ENGINE_VERSION
            and pruned <= state.generation <= generation
        )  # fmt: skip

    # -- reading --------------------------------------------------------------------------------------

    def searcher(self, conn: sqlite3.Connection) -> tantivy.Searcher:
        """A searcher holding at least the generation of `conn`'s open read snapshot: synced first when behind."""
        generation, _ = _generations(conn)
        state = self.state()
        if (
            state is None
            or state.instance != self._instance
            or state.version != ENGINE_VERSION
            or (state.generation < generation)
        ):  # behind (or not ours): sync; at or ahead of this snapshot (a writer synced since it began): use it
            state = self.sync(conn, wait=self.search_wait)
        try:
            with self._in_process(self.search_wait):
                return self._reader(state).searcher()
        except IndexBackendError as exc:
            if isinstance(exc, EngineBusyError):
                raise
            logger.warning("rebuilding %s, which cannot be read: %s", self.directory, exc)
            state = self.sync(conn, rebuild=True, wait=self.search_wait)
            with self._in_process(self.search_wait):
                return self._reader(state).searcher()

    def _reader(self, state: EngineState) -> tantivy.Index:
        """The open index, reopened after a rebuild and reloaded after a sync (call with `_lock` held)."""
        shown = self._shown
        if self._index is None or shown is None or shown.build != state.build:
            self._index = self._open(self.directory)
            self._index.config_reader(reload_policy="manual")
        elif shown.generation != state.generation:
            self._index.reload()
        self._shown = state
        return self._index

    def _open(self, directory: Path) -> tantivy.Index:
        try:
            index = tantivy.Index.open(str(directory))
        except ValueError as exc:
            raise IndexBackendError(f"cannot open search engine index {directory}: {exc}") from exc
        index.register_tokenizer(TOKENIZER, self.analyzer)
        return index

    # -- writing --------------------------------------------------------------------------------------

    def sync(
        self, conn: sqlite3.Connection, *, rebuild: bool = False, wait: float = LOCK_TIMEOUT_SECONDS
    ) -> EngineState:
        """Bring the directory to the generation of `conn`'s open read snapshot (call inside a transaction);
        `rebuild` builds it anew whatever its state says. Waits at most `wait` seconds for another sync (in this
        process or another) to end, then raises EngineBusyError."""
        try:
            return self._sync(conn, rebuild=rebuild, wait=wait)
        except (OSError, ValueError) as exc:  # the file system or tantivy refused (a full disk, a bad lock path)
            raise IndexBackendError(f"cannot update search engine index {self.directory}: {exc}") from exc

    def _sync(self, conn: sqlite3.Connection, *, rebuild: bool, wait: float) -> EngineState:
        generation, pruned = _generations(conn)
        with self._exclusive(wait):
            state = None if rebuild else self.state()
            if state is not None and self._usable(state, generation=generation, pruned=pruned):
                if state.generation == generation:
                    return state
                try:
                    return self._apply(conn, state, generation=generation)
                except IndexBackendError as exc:
                    logger.warning("rebuilding %s, which cannot be updated: %s", self.directory, exc)
                    return self._rebuild(conn, generation=generation)
            if state is not None and state.instance == self._instance and state.generation > generation:
                # Another process synced to a later snapshot than ours: it is ahead, not wrong.
                return state
            if state is not None:
                logger.info("rebuilding %s: it holds %s, the index file is at generation %d", self.directory,
                            state, generation)  # fmt: skip
            return self._rebuild(conn, generation=generation)

    @contextmanager
    def _in_process(self, wait: float) -> Iterator[None]:
        """This process's lock on the index, waited for at most `wait` seconds."""
        if not self._lock.acquire(timeout=wait):
            raise self._busy(wait)
        try:
            yield
        finally:
            self._lock.release()

    @contextmanager
    def _exclusive(self, wait: float) -> Iterator[None]:
        """The cross-process writer lock, waited for by polling at most `wait` seconds (a killed holder releases
        it with its death)."""
        deadline = time.monotonic() + wait
        with self._in_process(wait):
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            raise self._busy(wait) from None
                        time.sleep(_LOCK_POLL_SECONDS)
                yield
            finally:
                os.close(fd)  # releases the lock

    def _busy(self, wait: float) -> EngineBusyError:
        return EngineBusyError(
            f"search engine index {self.directory} is being updated or rebuilt (waited {wait:.0f} s for it); "
            "try again shortly"
        )

    def _apply(self, conn: sqlite3.Connection, state: EngineState, *, generation: int) -> EngineState:
        """Re-apply every change after `state.generation` (idempotent: delete by rowid, then add)."""
        since = (state.generation,)
        stale = [int(i) for (i,) in conn.execute("SELECT id FROM removed WHERE gen > ?", since)]
        stale += [int(i) for (i,) in conn.execute("SELECT id FROM docs WHERE gen > ?", since)]
        if stale:  # writes that changed no row (unchanged records, cluster ids) need no tantivy commit
            self._write_changes(conn, stale, since=state.generation)
        done = EngineState(instance=self._instance, version=ENGINE_VERSION, build=state.build, generation=generation)
        self._write_state(self.directory, done)
        return done

    def _write_changes(self, conn: sqlite3.Connection, stale: list[int], *, since: int) -> None:
        index = self._open(self.directory)
        writer = _writer(index, heap=_WRITER_HEAP)
        try:
            for start in range(0, len(stale), _CHUNK):  # deletes first: they apply to documents added before them
                ids = stale[start : start + _CHUNK]
                writer.delete_documents_by_query(tantivy.Query.term_set_query(self.schema, ID_FIELD, ids))
            for row in conn.execute(_SELECT + "WHERE d.gen > ?", (since,)):
                writer.add_document(_document(row, conn))
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()  # also gives up tantivy's own writer lock

    def _rebuild(self, conn: sqlite3.Connection, *, generation: int) -> EngineState:
        """Build a fresh directory from every live row, then put it in place of the old one."""
        fresh = Path(f"{self.directory}.new")
        shutil.rmtree(fresh, ignore_errors=True)  # a build a killed process left half done
        fresh.mkdir(parents=True)
        index = tantivy.Index(self.schema, path=str(fresh))
        index.register_tokenizer(TOKENIZER, self.analyzer)
        writer = _writer(index, heap=_REBUILD_HEAP, threads=2)
        try:
            last = 0
            while rows := conn.execute(_SELECT + "WHERE d.id > ? ORDER BY d.id LIMIT ?", (last, _CHUNK)).fetchall():
                for row in rows:
                    writer.add_document(_document(row, conn))
                last = int(rows[-1][0])
            writer.commit()
        finally:
            writer.wait_merging_threads()
        state = EngineState(
            instance=self._instance, version=ENGINE_VERSION, build=uuid.uuid4().hex, generation=generation
        )
        self._write_state(fresh, state)
        old = Path(f"{self.directory}.old")
        shutil.rmtree(old, ignore_errors=True)
        if self.directory.exists():
            os.replace(self.directory, old)
        os.replace(fresh, self.directory)
        shutil.rmtree(old, ignore_errors=True)
        return state

    def close(self) -> None:
        with self._lock:
            self._index, self._shown = None, None


def _document(row: tuple[object, ...], conn: sqlite3.Connection) -> tantivy.Document:
    """The tantivy document of one `_SELECT` row (its text decompressed)."""
    return document((*row[:-1], *decode_fields(row[-1], conn)))


def _writer(index: tantivy.Index, *, heap: int, threads: int = 1) -> tantivy.IndexWriter:
    try:
        return index.writer(heap_size=heap, num_threads=threads)
    except ValueError as exc:  # LockBusy: a writer of ours outside the file lock (never expected)
        raise IndexBackendError(f"cannot write search engine index: {exc}") from exc


def _generations(conn: sqlite3.Connection) -> tuple[int, int]:
    meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('generation', 'pruned')"))
    return int(meta["generation"]), int(meta.get("pruned", 0))
