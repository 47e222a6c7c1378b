"""The text analysis a SQLite index file holds (`meta.analysis`), and its catch-up to this edufed's, batch by batch.

`meta.analysis` is the version (indexer.analysis_version) every record of the file was analysed with: a new
file gets this edufed's; a file that records none was written before versions were recorded (0). A file whose
version is older is caught up in place, in row id order, one batch per write transaction: each record's stored
JSON is analysed again (indexer.record_text, as a write would), and where its stored text, folded title or title
pinyin differ they are rewritten, with a new write generation so that the in-memory columns and the derived
tantivy index take them as any other write. The record itself, its content hash and its OAI-PMH datestamp stay.

Resumable: `meta.analysis_after` is the last row id caught up to `meta.analysis_to`; a catch-up killed at any
point leaves it at the last committed batch and the next one goes on from there (a batch is one transaction).
Rows written meanwhile are analysed the current way by their writer; the catch-up compares them, finds them equal
and leaves them. Several processes may catch up at once: a batch is written only if the cursor is still where it
was read, and a row only if no writer replaced it since (its `gen`). The version is set when the last row is done.

An older edufed opening a file of a newer analysis lowers `meta.analysis` to its own, since the records it writes
are analysed its way: the newer edufed catches the whole file up again.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

from indexer.analysis_version import (
    ANALYSIS_VERSION,
    AnalysisState,
    AnalysisStatus,
    CatchUpBatch,
    catch_up_batches,
    newer_notice,
    status_of,
)
from indexer.backends.sqlite_payload import payload_text
from indexer.backends.sqlite_text import FTS_COLUMNS, decode_fields, delete_texts, insert_texts
from indexer.record import Record
from indexer.record_text import record_text
from indexer.versions import rough_duration

logger = logging.getLogger(__name__)

BATCH = 1000
"""Records a catch-up batch reads, analyses and writes in one transaction (~0.3 s of analysis)."""
_VERSION, _AFTER, _TO = "analysis", "analysis_after", "analysis_to"
CATCH_UP_COMMAND = "edufed reindex --analysis-only"
CPU_SECONDS_A_RECORD = 0.0003
"""What re-analysing one record costs, measured at 100k (bench/RESULTS.md: 0.23-0.28 ms), for the notice's estimate."""

Writing = Callable[[], AbstractContextManager[tuple[sqlite3.Connection, int]]]
"""A write transaction with a new generation (the backend's `_writing`)."""
Plain = Callable[[], AbstractContextManager[sqlite3.Connection]]
"""A write transaction that keeps the generation (nothing searchable changes in it)."""


def record_analysis(conn: sqlite3.Connection, *, new_file: bool) -> None:
    """Say in `meta` which analysis the file holds, inside the opening write transaction: a new file this
    edufed's; a file recording none 0 (written before versions were recorded); a newer one this edufed's (see the
    module's docstring); a catch-up left by another edufed version starts again."""
    if new_file:
        _set(conn, _VERSION, ANALYSIS_VERSION)
        return
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, 0)", (_VERSION,))
    version = _get(conn, _VERSION)
    if version > ANALYSIS_VERSION:
        logger.warning("index: %s", newer_notice(version))
        _set(conn, _VERSION, ANALYSIS_VERSION)
        # rows this edufed writes anywhere are analysed its way: a newer one's catch-up starts again from the start
        conn.execute("DELETE FROM meta WHERE key IN (?, ?)", (_AFTER, _TO))
        version = ANALYSIS_VERSION
    if version < ANALYSIS_VERSION and _get(conn, _TO) != ANALYSIS_VERSION:
        _set(conn, _TO, ANALYSIS_VERSION)
        _set(conn, _AFTER, 0)


def analysis_state(conn: sqlite3.Connection) -> AnalysisState:
    """The file's analysis against this edufed's, with the catch-up's progress (read in one snapshot)."""
    conn.execute("BEGIN")
    try:
        version = _get(conn, _VERSION)
        total = int(conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0])
        done = 0
        if version < ANALYSIS_VERSION:
            done = int(conn.execute("SELECT COUNT(*) FROM docs WHERE id <= ?", (_get(conn, _AFTER),)).fetchone()[0])
    finally:
        conn.execute("COMMIT")
    status = status_of(version)
    if status == "current":
        return AnalysisState(ANALYSIS_VERSION, version, status, done=total, total=total)
    if status == "newer":
        return AnalysisState(ANALYSIS_VERSION, version, status, total=total, notice=newer_notice(version))
    catching: AnalysisStatus = "catching_up" if done else "older"
    cost = (total - done) * CPU_SECONDS_A_RECORD
    notice = (
        f"the index holds text analysis version {version}, this edufed's is {ANALYSIS_VERSION}: {done} of {total} "
        f"records analysed again so far; `edufed serve` goes on in the background (searches keep answering, "
        f"records not yet done miss what the new analysis finds), `{CATCH_UP_COMMAND}` does it at once "
        f"(about {rough_duration(cost)} of CPU for the {total - done} left)"
    )
    return AnalysisState(ANALYSIS_VERSION, version, catching, done=done, total=total, notice=notice)


def catch_up_batch(conn: sqlite3.Connection, *, writing: Writing, plain: Plain, size: int = BATCH) -> CatchUpBatch:
    """Analyse the next `size` records past the cursor again and write those that differ (one transaction)."""
    if _get(conn, _VERSION) >= ANALYSIS_VERSION:
        return CatchUpBatch(finished=True)
    after = _get(conn, _AFTER)
    rows = conn.execute(_BATCH_SQL, (after, size)).fetchall()
    changed = list(_changed(conn, rows))
    outcome = CatchUpBatch(read=len(rows))
    last = int(rows[-1][0]) if rows else after
    if changed:
        with writing() as (wconn, generation):
            if _get(wconn, _AFTER) == after and _get(wconn, _VERSION) < ANALYSIS_VERSION:
                outcome.rewritten = _rewrite(wconn, changed, generation=generation)
                outcome.finished = _advance(wconn, last, finished=len(rows) < size)
    else:
        with plain() as wconn:
            if _get(wconn, _AFTER) == after and _get(wconn, _VERSION) < ANALYSIS_VERSION:
                outcome.finished = _advance(wconn, last, finished=len(rows) < size)
    return outcome


_BATCH_SQL = (
    "SELECT d.id, d.gen, p.json, t.fields, d.title, d.title_fold, d.title_pinyin FROM docs d "
    "JOIN payloads p ON p.id = d.id LEFT JOIN texts t ON t.id = d.id WHERE d.id > ? ORDER BY d.id LIMIT ?"
)


@dataclass(frozen=True)
class _Reanalysed:
    row_id: int
    gen: int
    fields: tuple[str, ...]
    had_text: bool
    title: str | None
    title_fold: str
    title_pinyin: str


def _changed(conn: sqlite3.Connection, rows: list[tuple[object, ...]]) -> Iterator[_Reanalysed]:
    """The rows whose analysis today differs from what they store."""
    for row_id, gen, payload, fields, title, title_fold, title_pinyin in rows:
        try:
            record = Record.model_validate_json(payload_text(payload, conn))
        except ValueError as exc:  # pydantic's ValidationError is one: a stored record this edufed cannot read
            logger.warning("text analysis catch-up: record at row %s left as stored, it cannot be read: %s", row_id,
                           str(exc)[:300])  # fmt: skip
            continue
        text = record_text(record)
        fresh = _Reanalysed(
            row_id=int(str(row_id)), gen=int(str(gen)), fields=tuple(text.fields[c] for c in FTS_COLUMNS),
            had_text=fields is not None, title=None if record.title == text.folded_title else record.title,
            title_fold=text.folded_title, title_pinyin=text.title_pinyin,
        )  # fmt: skip
        stored = decode_fields(fields, conn) if fields is not None else None
        if (stored, title, title_fold, title_pinyin) != (
            fresh.fields,
            fresh.title,
            fresh.title_fold,
            fresh.title_pinyin,
        ):
            yield fresh


def _rewrite(conn: sqlite3.Connection, changed: list[_Reanalysed], *, generation: int) -> int:
    """Write the new analysis of the rows no writer replaced since they were read (inside the transaction)."""
    marks = ", ".join("?" * len(changed))
    now = dict(conn.execute(f"SELECT id, gen FROM docs WHERE id IN ({marks})", [r.row_id for r in changed]))
    kept = [r for r in changed if now.get(r.row_id) == r.gen]
    delete_texts(conn, [r.row_id for r in kept if r.had_text])
    insert_texts(conn, [(r.row_id, r.fields) for r in kept])
    conn.executemany(
        "UPDATE docs SET gen = ?, title = ?, title_fold = ?, title_pinyin = ? WHERE id = ?",
        [(generation, r.title, r.title_fold, r.title_pinyin, r.row_id) for r in kept],
    )
    return len(kept)


def _advance(conn: sqlite3.Connection, last: int, *, finished: bool) -> bool:
    if finished:
        _set(conn, _VERSION, ANALYSIS_VERSION)
        conn.execute("DELETE FROM meta WHERE key IN (?, ?)", (_AFTER, _TO))
    else:
        _set(conn, _AFTER, last)
    return finished


def _get(conn: sqlite3.Connection, key: str) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return 0 if row is None else int(row[0])


def _set(conn: sqlite3.Connection, key: str, value: int) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def catch_up(
    conn: sqlite3.Connection,
    *,
    writing: Writing,
    plain: Plain,
    size: int = BATCH,
    stop: Callable[[], bool] = lambda: False,
    on_batch: Callable[[CatchUpBatch], None] | None = None,
) -> tuple[int, int]:
    """Batches until the file is current or `stop()` says so; (records read, records rewritten)."""
    return catch_up_batches(lambda: catch_up_batch(conn, writing=writing, plain=plain, size=size), what="the file",
                            stop=stop, on_batch=on_batch)  # fmt: skip
