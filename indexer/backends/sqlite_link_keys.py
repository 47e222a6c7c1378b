"""The linkage blocking keys of a SQLite index: one signed 64-bit code a (blocking key, teacher) (issue 17, disk).

What a record stores is indexer.linkage.incremental's rule (`stored_link_keys`): a record naming teachers stores
each blocking key once per teacher, a record naming none stores each key untaught. Here each of those is one
integer: the first 36 bits of blake2b of the blocking key above, and below them 28 bits that are 0 for an
untaught key and, for a taught one, 28 bits of blake2b of the key and the teacher's name (never 0). So every
record of one blocking key lies in one range of codes, its untaught records first (`key_range`): a look-up for
an untaught record reads that range (every record of the key, taught or not), a look-up for a taught record asks
for exactly its own teachers' codes and the key's untaught code, and the rebuild's union-find (sqlite_bulk_links)
reads the table once in key order. A code is the same integer in every process and Python version.

One table holds them: `link_key_ids (key, id)`, WITHOUT ROWID, primary key (key, id), a row per code and row id
(~13 a record: 12 LSH bands, a title key, sometimes a main-title key; 19 bytes a row on disk). Nothing stores a
record's codes by row id: removing or replacing a record computes the codes of its stored JSON again
(`delete_link_keys`: profile and codes, ~0.3 ms a record) and deletes those rows. That holds while the
codes of a record stay what they were when it was written: `LINK_KEYS` names the coding and the profile's
blocking keys and teachers, kept in `meta`; a file whose `link_keys` differs (an older layout, or a coding
changed since) has its table built again from its stored records when opened (`convert_link_keys`). Were a
record's codes to differ anyway, the rows left over would only add candidates, as a collision does.

A collision only adds candidates to a look-up or joins two groups of the rebuild's union-find: two blocking keys
sharing 36 bits (N distinct keys make ~N²/2^37 such pairs: none expected among the bench corpus's 14,177 keys
at 100k, ~120 at 4M keys), or two teachers of one key sharing 28 bits (m teachers of a key make ~m²/2^29: with
20 bits the corpus's 280 teachers of one title collided 45 times at 100k and joined groups, with 28 none).
The matcher judges every candidate by its own blocking keys, teachers and titles (Linker._matches, cluster), so
clusters stay what they would be.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Collection, Iterable, Sequence

from pydantic import ValidationError

from indexer.backends.sqlite_payload import payload_json
from indexer.errors import IndexBackendError
from indexer.linkage import LinkProfile, profile_of
from indexer.linkage.incremental import stored_key_pairs
from indexer.record import Record

logger = logging.getLogger(__name__)

TABLE_DDL = (
    "CREATE TABLE IF NOT EXISTS link_key_ids (key INTEGER NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (key, id)) "
    "WITHOUT ROWID"
)
DDL = TABLE_DDL + ";\n"

LINK_KEYS = "2"
"""The coding of the stored codes, in `meta` as `link_keys` (1, not written: a kind letter in the top bits and
a code per teacher-joined key plus one per taught record's own key, with `link_key_sets` listing each row id's
codes). Raise it when `key_code` or `stored_key_pairs` change: every
open file then has its codes computed again from its stored records, which `delete_link_keys` relies on
(tests/unit/test_sqlite_link_keys.py pins the codes of a few records to catch such a change). A change of the
linkage rules (a profile's blocking keys or teachers) bumps indexer.linkage.version.LINKAGE_VERSION instead: the
file's codes are computed again by `edufed reindex --links-only` (sqlite_linkage), with its clusters; until then
a replaced record's old codes may stay behind, which only adds candidates, as a collision does."""
TEACHER_BITS = 28
_TEACHER_MASK = (1 << TEACHER_BITS) - 1
_OFFSET = 1 << 63
_PAGE = 500
SCAN_SHARE = 200
"""Row ids removed at once by one scan of `link_key_ids` rather than by coding each stored record again, when they
are at least 1/SCAN_SHARE of the records: at 100k a scan costs ~0.2 s CPU (1.3M rows), coding ~0.35 ms a record,
so 5,000 replaced records take 0.3 s instead of ~1.7 s; at 1M the two cost about the same."""
_RANGES_PER_QUERY = 5000
_CONVERT_PAGE = 2000
_CONVERT_CACHE = -262144
"""KiB of page cache while a file's codes are built again: the table (~0.25 GB at 1M) stays in memory."""


def key_code(key: str, teacher: str | None = None) -> int:
    """The code of a blocking key, untaught (teacher None) or joined with one teacher's name."""
    high = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") >> TEACHER_BITS
    low = 0
    if teacher is not None:
        joined = hashlib.blake2b(f"{key}\x1f{teacher}".encode(), digest_size=8).digest()
        low = (int.from_bytes(joined, "big") & _TEACHER_MASK) or 1
    return ((high << TEACHER_BITS) | low) - _OFFSET


def key_range(key: str) -> tuple[int, int]:
    """The codes of every record of a blocking key, first to last (inclusive): the untaught code, then the taught."""
    first = key_code(key)
    return first, first + _TEACHER_MASK


def key_part(code: int) -> int:
    """The blocking key's part of a code: equal for every code of one key (its untaught and taught codes)."""
    return code >> TEACHER_BITS


def is_untaught(code: int) -> bool:
    return code & _TEACHER_MASK == 0


def record_codes(profile: LinkProfile) -> tuple[int, ...]:
    """The distinct codes a record stores, in order."""
    return tuple(sorted({key_code(key, teacher) for key, teacher in stored_key_pairs(profile)}))


def lookup_ranges(profiles: Iterable[LinkProfile]) -> list[tuple[int, int]]:
    """The codes (first, last: inclusive ranges) of the records a look-up for these records reads: for a record
    naming teachers, each blocking key's untaught code and its teachers' codes; for a record naming none, every
    code of each blocking key (taught by anyone or untaught). Sorted, overlapping ranges merged."""
    ranges: set[tuple[int, int]] = set()
    for profile in profiles:
        for key in profile.blocking_keys():
            if not profile.instructors:
                ranges.add(key_range(key))
                continue
            untaught = key_code(key)
            ranges.add((untaught, untaught))
            ranges.update((code, code) for code in (key_code(key, name) for name in profile.instructors))
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return merged


def ids_in_ranges(conn: sqlite3.Connection, ranges: Sequence[tuple[int, int]]) -> set[int]:
    """Row ids holding a code in any of these inclusive ranges (each range one search of the primary key)."""
    found: set[int] = set()
    for start in range(0, len(ranges), _RANGES_PER_QUERY):
        chunk = ranges[start : start + _RANGES_PER_QUERY]
        values = ", ".join("(?, ?)" for _ in chunk)
        sql = (
            f"WITH r(lo, hi) AS (VALUES {values}) "
            "SELECT k.id FROM r CROSS JOIN link_key_ids k WHERE k.key BETWEEN r.lo AND r.hi"
        )
        found.update(row_id for (row_id,) in conn.execute(sql, [bound for pair in chunk for bound in pair]))
    return found


def insert_link_keys(conn: sqlite3.Connection, rows: Sequence[tuple[int, Collection[int]]]) -> None:
    """Store the codes of these (row id, codes) rows (inside the caller's transaction)."""
    conn.executemany(
        "INSERT OR IGNORE INTO link_key_ids (key, id) VALUES (?, ?)",
        sorted((code, row_id) for row_id, codes in rows for code in codes),
    )


def delete_link_keys(conn: sqlite3.Connection, row_ids: Sequence[int], *, scan: bool | None = None) -> None:
    """Remove every code these row ids stored, computed again from their stored records (inside the caller's
    transaction, before their `payloads` rows go). A stored record that cannot be read any more (damaged, or
    of a record model it no longer fits) has its rows found by a scan of the whole table instead, and so do
    many row ids at once (SCAN_SHARE: a rebuild's chunk of replaced records); `scan` decides it instead."""
    if not row_ids:
        return
    if scan is None:
        (top,) = conn.execute("SELECT COALESCE(MAX(id), 0) FROM docs").fetchone()
        scan = len(row_ids) * SCAN_SHARE >= int(top)
    if scan:
        conn.execute(
            "DELETE FROM link_key_ids WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(row_ids)),)
        )
        return
    for start in range(0, len(row_ids), _PAGE):
        stored = stored_codes(conn, row_ids[start : start + _PAGE])
        conn.executemany(
            "DELETE FROM link_key_ids WHERE key = ? AND id = ?",
            sorted((code, row_id) for row_id, codes in stored if codes is not None for code in codes),
        )
        unread = [(row_id,) for row_id, codes in stored if codes is None]
        conn.executemany("DELETE FROM link_key_ids WHERE id = ?", unread)


def stored_codes(conn: sqlite3.Connection, row_ids: Sequence[int]) -> list[tuple[int, tuple[int, ...] | None]]:
    """(row id, codes) of these row ids' stored records, as they were written (None: the record cannot be read;
    rows without a record left out)."""
    marks = ", ".join("?" * len(row_ids))
    rows = conn.execute(f"SELECT id, json FROM payloads WHERE id IN ({marks})", list(row_ids)).fetchall()
    return [(int(row_id), _codes_of_json(int(row_id), payload, conn)) for row_id, payload in rows]


def _codes_of_json(row_id: int, payload: object, conn: sqlite3.Connection) -> tuple[int, ...] | None:
    try:
        record = Record.model_validate_json(payload_json(payload, conn))
    except (ValidationError, IndexBackendError) as exc:
        logger.warning("stored record %d cannot be read for its link keys: %s", row_id, str(exc).splitlines()[0])
        return None
    return record_codes(profile_of(record))


def convert_link_keys(conn: sqlite3.Connection) -> int | None:
    """Build `link_key_ids` again from the stored records when the file's codes are not of `LINK_KEYS` (a file
    of an older layout: the text table `link_keys`, or the codes with `link_key_sets`; or a coding changed
    since), inside the caller's write transaction; returns how many records were coded, None when the file's
    codes are current. The older tables are dropped: their pages are reused by later writes (VACUUM gives them
    back to the file system)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'link_keys'").fetchone()
    if row is not None and str(row[0]) == LINK_KEYS:
        return None
    started, cpu = time.perf_counter(), time.process_time()
    dropped = [
        str(name)
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('link_keys', 'link_key_sets')"
        )
    ]
    for name in dropped:
        conn.execute(f"DROP TABLE {name}")  # and its indexes
    conn.execute("DROP TABLE IF EXISTS link_key_ids")
    conn.execute(TABLE_DDL)
    (cache,) = conn.execute("PRAGMA cache_size").fetchone()
    conn.execute(f"PRAGMA cache_size = {_CONVERT_CACHE}")
    records = codes = 0
    try:
        last = 0
        while True:
            page = conn.execute(
                "SELECT id, json FROM payloads WHERE id > ? ORDER BY id LIMIT ?", (last, _CONVERT_PAGE)
            ).fetchall()
            if not page:
                break
            coded = [(int(row_id), _codes_of_json(int(row_id), payload, conn)) for row_id, payload in page]
            readable = [(row_id, found) for row_id, found in coded if found is not None]
            insert_link_keys(conn, readable)  # a record that cannot be read stores none (the warning names it)
            records += len(readable)
            codes += sum(len(c) for _, c in readable)
            last = int(page[-1][0])
    finally:
        conn.execute(f"PRAGMA cache_size = {int(cache)}")
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('link_keys', ?)", (LINK_KEYS,))
    if records or dropped:
        logger.info(
            "link keys coded again (coding %s) in %.1f s (%.1f s CPU): %d codes of %d records in link_key_ids%s",
            LINK_KEYS, time.perf_counter() - started, time.process_time() - cpu, codes, records,
            f"; {', '.join(dropped)} dropped (their pages are reused by later writes; VACUUM returns them to the "
            "file system)" if dropped else "",
        )  # fmt: skip
    return records
