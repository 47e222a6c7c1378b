"""Giving a SQLite index file's free pages back to the file system: VACUUM, with the checks an admin needs first.

Pages that writes free (withdrawn records, an FTS5 index the tantivy engine emptied, a layout converted in place)
go to the file's free list, reused by later writes but never returned to the disk. VACUUM rewrites the file
without them: it copies the live pages into a temporary database in SQLite's temporary directory
(`sqlite_temp_directory`), then writes them back through the write-ahead log in one transaction, so a compaction
refused, interrupted or killed at any point leaves the file as it was. The file shrinks at the checkpoint that
follows, once no reader still holds a snapshot from before (a serving process's searches move on within
moments). Peak disk use: the live pages twice over (the temporary copy and the log) beside the old file.

VACUUM needs the write lock: a harvest, a reindex or an admin's write holding it makes it wait up to
`wait_seconds`, then the compaction is refused and nothing has changed. Readers (`edufed serve`'s searches) keep
answering throughout, from their snapshot.

Row ids: VACUUM keeps a table's row ids only where they are an INTEGER PRIMARY KEY column. The derived tantivy
index and the in-memory search columns key by `docs.id`, and `texts`, `payloads` and `removed` share it
(ROWID_TABLES), all so declared; the FTS5 table's row ids live in its shadow tables, keyed the same way, and in
its index blobs. `meta`, `codes` and `clusters` keep implicit row ids that nothing refers to (each is looked up by
its own columns); every other table is WITHOUT ROWID or has an INTEGER PRIMARY KEY too (tests/unit/
test_sqlite_compact.py holds this list). A file in which one of ROWID_TABLES is not so declared is refused rather
than compacted (its search engine index would point at other records after).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from indexer.backends.sqlite_schema import SCHEMA_VERSION
from indexer.errors import IndexBackendError

ROWID_TABLES = ("docs", "texts", "payloads", "removed")
"""Tables whose row ids other structures name; VACUUM must keep them (each needs an INTEGER PRIMARY KEY)."""
MIN_FREE_SHARE = 0.10
"""Below this share of free pages a compaction is not worth its copy: later writes reuse the free pages."""
DISK_HEADROOM = 1.05
"""Space asked beyond the estimate: the file system's own blocks, and what other processes write meanwhile."""
_WAL_FRAME_HEADER = 24
_PAGE_PRAGMAS = ("page_size", "page_count", "freelist_count")
PROGRESS_STEPS = 1000
"""SQLite virtual machine steps between two questions whether to stop (about 11,000 a VACUUM at 100k records,
5% of its time; every 100 steps cost 27%)."""


@dataclass(frozen=True)
class IndexFileSpace:
    """How an index file uses its pages: its size on disk (and its write-ahead log's), pages and free pages."""

    path: Path
    file_bytes: int
    wal_bytes: int
    page_size: int
    pages: int
    free_pages: int
    layout: str | None
    """The file's layout version (`meta.schema`), None when it has none."""

    @property
    def free_bytes(self) -> int:
        return self.free_pages * self.page_size

    @property
    def live_bytes(self) -> int:
        """The pages in use: at most what the file holds after VACUUM (which also packs half-empty pages)."""
        return (self.pages - self.free_pages) * self.page_size

    @property
    def free_share(self) -> float:
        return self.free_pages / self.pages if self.pages else 0.0

    def worth_compacting(self) -> bool:
        """Whether enough of the file is free pages for VACUUM to be worth its copy (MIN_FREE_SHARE)."""
        return self.free_share >= MIN_FREE_SHARE


@dataclass(frozen=True)
class DiskNeed:
    """Space VACUUM needs on one file system, where `directories` (the index's, SQLite's temporary one) live."""

    directories: tuple[Path, ...]
    needed: int
    available: int


@dataclass(frozen=True)
class Compaction:
    """What a compaction did: the file before and after, how long it took, and whether the checkpoint after it
    completed (else the file shrinks at the next one, the write-ahead log holding the compacted pages)."""

    before: IndexFileSpace
    after: IndexFileSpace
    seconds: float
    checkpointed: bool


def index_file_space(path: Path) -> IndexFileSpace:
    """The pages of the index file at `path`; IndexBackendError when it is missing or not an edufed index."""
    conn = _connect(path, wait_seconds=0)
    try:
        return _space(conn, path)
    except sqlite3.Error as exc:
        raise IndexBackendError(f"cannot read {path}: {exc}") from exc
    finally:
        conn.close()


def sqlite_temp_directory() -> Path:
    """Where SQLite's unix VFS puts VACUUM's temporary copy: the first writable directory of SQLITE_TMPDIR,
    TMPDIR, /var/tmp, /usr/tmp, /tmp and the working directory (as its unixTempFileDir looks them up)."""
    candidates = [os.environ.get("SQLITE_TMPDIR"), os.environ.get("TMPDIR"), "/var/tmp", "/usr/tmp", "/tmp"]
    for candidate in candidates:
        if candidate and os.path.isdir(candidate) and os.access(candidate, os.W_OK | os.X_OK):
            return Path(candidate)
    return Path(".")


def disk_needs(space: IndexFileSpace, *, temp_directory: Path | None = None) -> list[DiskNeed]:
    """The space VACUUM of `space`'s file needs on each file system it writes to: the live pages in the temporary
    directory, and as much again (with a frame header a page) in the write-ahead log beside the file."""
    temporary = sqlite_temp_directory() if temp_directory is None else temp_directory
    live_pages = space.pages - space.free_pages
    wal = space.live_bytes + live_pages * _WAL_FRAME_HEADER
    needs: dict[int, tuple[list[Path], int]] = {}
    for directory, needed in ((space.path.resolve().parent, wal), (temporary.resolve(), space.live_bytes)):
        directories, total = needs.get(directory.stat().st_dev, ([], 0))
        needs[directory.stat().st_dev] = ([*directories, directory], total + needed)
    return [
        DiskNeed(tuple(directories), int(total * DISK_HEADROOM), shutil.disk_usage(directories[0]).free)
        for directories, total in needs.values()
    ]


def compact_index(path: Path, *, wait_seconds: float, cancelled: Callable[[], bool] = lambda: False) -> Compaction:
    """VACUUM the index file at `path` and checkpoint its log, after checking the disk space and the row ids.

    IndexBackendError says why it was refused (not enough disk, another process writing for longer than
    `wait_seconds`, a table that would lose its row ids); the file is then unchanged. `cancelled` is asked while
    VACUUM runs (every PROGRESS_STEPS of SQLite's steps): once it answers True, VACUUM stops, its transaction
    rolled back, and KeyboardInterrupt is raised; a compaction that had finished is kept.
    """
    conn = _connect(path, wait_seconds=wait_seconds)
    try:
        before = _space(conn, path)
        _check_layout(conn, before)
        _check_disk(before)
        started = time.monotonic()
        conn.execute("PRAGMA temp_store = FILE")  # the copy goes to disk, where the space was checked, not to RAM
        conn.set_progress_handler(cancelled, PROGRESS_STEPS)
        if cancelled():
            raise KeyboardInterrupt
        _vacuum(conn, path, wait_seconds=wait_seconds)
        conn.set_progress_handler(None, 0)
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        seconds = time.monotonic() - started
        after = _space(conn, path)
    except sqlite3.Error as exc:
        raise IndexBackendError(f"cannot compact {path}: {exc}") from exc
    finally:
        conn.close()
    return Compaction(before=before, after=after, seconds=seconds, checkpointed=not busy)


def _connect(path: Path, *, wait_seconds: float) -> sqlite3.Connection:
    if not path.is_file():
        raise IndexBackendError(f"{path} does not exist or is not a file")
    try:
        return sqlite3.connect(path, timeout=wait_seconds, isolation_level=None)
    except sqlite3.Error as exc:
        raise IndexBackendError(f"cannot open {path}: {exc}") from exc


def _space(conn: sqlite3.Connection, path: Path) -> IndexFileSpace:
    try:
        tables = {str(name) for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise IndexBackendError(f"{path} is not a SQLite database: {exc}") from exc
    if not {"meta", "docs"} <= tables:
        raise IndexBackendError(f"{path} is not an edufed search index (no meta or docs table)")
    layout = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    page_size, pages, free = (int(conn.execute(f"PRAGMA {p}").fetchone()[0]) for p in _PAGE_PRAGMAS)
    wal = Path(f"{path}-wal")
    return IndexFileSpace(
        path=path, file_bytes=path.stat().st_size, wal_bytes=wal.stat().st_size if wal.exists() else 0,
        page_size=page_size, pages=pages, free_pages=free, layout=None if layout is None else str(layout[0]),
    )  # fmt: skip


def _check_layout(conn: sqlite3.Connection, space: IndexFileSpace) -> None:
    """Refuse a file of another layout version (open it first: that converts it), or one where a table others
    key by row id has no INTEGER PRIMARY KEY (VACUUM could renumber its rows)."""
    if space.layout != SCHEMA_VERSION:
        raise IndexBackendError(
            f"{space.path} has layout version {space.layout}, this edufed writes {SCHEMA_VERSION}: open it with "
            "this edufed first (it converts the file), then compact it"
        )
    renumbered = [table for table in ROWID_TABLES if not rowid_is_kept(conn, table)]
    if renumbered:
        raise IndexBackendError(
            f"{space.path} was not compacted: VACUUM may renumber the rows of {', '.join(renumbered)}, which the "
            "search engine index and the search columns refer to by row id (no INTEGER PRIMARY KEY); rebuild it "
            "instead: move it away and load a new one with `edufed reindex --from-sqlite MOVED_FILE`"
        )


def rowid_is_kept(conn: sqlite3.Connection, table: str) -> bool:
    """Whether VACUUM keeps `table`'s row ids: they must be its one INTEGER PRIMARY KEY column (a key column of
    another type, even INT, or a composite key leaves them implicit, free to be renumbered); no table, no ids."""
    columns = conn.execute("SELECT type, pk FROM pragma_table_info(?)", (table,)).fetchall()
    keys = [column_type for column_type, key in columns if key]
    return not columns or (len(keys) == 1 and str(keys[0]).upper() == "INTEGER")


def _check_disk(space: IndexFileSpace) -> None:
    short = [need for need in disk_needs(space) if need.available < need.needed]
    if short:
        where = "; ".join(
            f"{' and '.join(str(d) for d in need.directories)}: {megabytes(need.needed)} needed, "
            f"{megabytes(need.available)} free" for need in short
        )  # fmt: skip
        raise IndexBackendError(
            f"not enough disk space to compact {space.path}: VACUUM copies its {megabytes(space.live_bytes)} of "
            f"live pages to SQLite's temporary directory ({sqlite_temp_directory()}) and writes them again to the "
            f"write-ahead log beside the file ({where}). Free some space, or point SQLITE_TMPDIR at a directory "
            "on a disk with room; the file is unchanged"
        )


def _vacuum(conn: sqlite3.Connection, path: Path, *, wait_seconds: float) -> None:
    try:
        conn.execute("VACUUM")
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorname == "SQLITE_INTERRUPT":
            raise KeyboardInterrupt from exc
        if exc.sqlite_errorname.startswith("SQLITE_BUSY") or exc.sqlite_errorname.startswith("SQLITE_LOCKED"):
            raise IndexBackendError(
                f"{path} was not compacted: another process kept writing it for {wait_seconds:g} s (a harvest, "
                "`edufed serve` while its scheduler harvests, `edufed reindex`, or an admin's change); let it "
                "finish or stop it, then run `edufed compact` again (`--wait SECONDS` waits longer). The file is "
                "unchanged"
            ) from exc
        raise IndexBackendError(f"{path} was not compacted: {exc}; the file is unchanged") from exc


def megabytes(size: int) -> str:
    """A size in bytes as an admin reads it: MB with one decimal, GB with two from a gigabyte on."""
    if size >= 1_000_000_000:
        return f"{size / 1e9:.2f} GB"
    return f"{size / 1e6:.1f} MB"
