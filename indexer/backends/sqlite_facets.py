"""Facet counts and totals from in-memory facet columns (numpy arrays indexed by rowid).

Counting facets in SQL means visiting every matched row several times; with the facet columns of every
record held in arrays (about 26 bytes a record), a search fetches only the matched rowids from FTS5 and
counts each facet with vectorized masks and `bincount`. Browsing without a query counts over all live rows.

The arrays follow the index file through a generation number: every write transaction bumps
`meta.generation` and stamps the rows it writes (`docs.gen`) and removes (`removed.gen`), so a reader, in
any process, brings its arrays up to date by reading only what changed since the generation it last saw.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from indexer.backends.base import FACET_FIELDS
from indexer.backends.sqlite_schema import FACET_COLUMNS, MASK_FACETS, FacetCodes

_DTYPES = {
    "theme_mask": np.int64, "aud_mask": np.int64, "platform_id": np.int32, "media_id": np.int32,
    "rtype_id": np.int32, "free": np.int8,
}  # fmt: skip
_COLUMNS = tuple(_DTYPES)
IntArray = npt.NDArray[np.int64]


@dataclass
class Filters:
    """Active filters as integer conditions: a bit mask (theme, audience) or a set of codes (others)."""

    masks: dict[str, int] = field(default_factory=dict)
    codes: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def facets(self) -> list[str]:
        return [*self.masks, *self.codes]

    def sql(self, *, without: str | None = None) -> str:
        """The filters as an SQL condition over `docs` columns (values are our own integers)."""
        parts = [f"({FACET_COLUMNS[f]} & {m}) != 0" for f, m in self.masks.items() if f != without]
        parts += [
            f"{FACET_COLUMNS[f]} IN ({', '.join(str(c) for c in codes)})"
            for f, codes in self.codes.items()
            if f != without
        ]
        return " AND ".join(parts) or "1"


class FacetColumns:
    """The facet columns of every record, kept in step with the index file (see module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = -1
        self._live = np.zeros(0, dtype=np.bool_)
        self._columns = {name: np.zeros(0, dtype=dtype) for name, dtype in _DTYPES.items()}

    def sync(self, conn: sqlite3.Connection) -> bool:
        """Apply the writes committed since the last sync (call inside the reader's transaction).

        Returns True when something changed (the caller then reloads the facet value codes too).
        """
        generation = int(conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])
        if generation <= self._generation:
            return False
        with self._lock:
            if generation <= self._generation:
                return False
            removed = [
                i for (i,) in conn.execute("SELECT id FROM removed WHERE gen > ?", (self._generation,))
            ]
            changed = conn.execute(
                f"SELECT id, {', '.join(_COLUMNS)} FROM docs WHERE gen > ?", (self._generation,)
            ).fetchall()
            self._apply(removed, changed)
            self._generation = generation
        return True

    def _apply(self, removed: Sequence[int], changed: Sequence[tuple[int, ...]]) -> None:
        top = max([0, *removed, *(row[0] for row in changed)])
        if top >= len(self._live):
            self._grow(top + 1)
        if removed:
            self._live[np.asarray(removed, dtype=np.int64)] = False
        if changed:
            table = np.asarray(changed, dtype=np.int64)
            ids = table[:, 0]
            for index, name in enumerate(_COLUMNS, start=1):
                self._columns[name][ids] = table[:, index]
            self._live[ids] = True

    def _grow(self, size: int) -> None:
        size = max(size, len(self._live) * 3 // 2, 1024)
        live = np.zeros(size, dtype=np.bool_)
        live[: len(self._live)] = self._live
        columns = {}
        for name, old in self._columns.items():
            columns[name] = np.zeros(size, dtype=old.dtype)
            columns[name][: len(old)] = old
        self._live, self._columns = live, columns

    def count(
        self, rowids: IntArray | None, *, filters: Filters, codes: FacetCodes, with_facets: bool
    ) -> tuple[int, dict[str, dict[str, int]]]:
        """Total and facets of the matched rows (None: all live rows); each facet ignores its own filter."""
        live, columns = self._live, self._columns
        if rowids is None:
            base = live
            values = columns
        else:
            rowids = rowids[rowids < len(live)]
            base = live[rowids]
            values = {name: column[rowids] for name, column in columns.items()}
        passing = {f: _passes(values[FACET_COLUMNS[f]], filters, f) for f in filters.facets()}
        everything = _all(base, passing.values())
        total = int(np.count_nonzero(everything))
        if not with_facets:
            return total, {}
        facets = {}
        for facet in FACET_FIELDS:
            selected = _all(base, (p for f, p in passing.items() if f != facet))
            column = values[FACET_COLUMNS[facet]][selected]
            facets[facet] = _sorted(_facet_counts(facet, column, codes))
        return total, facets


def _passes(column: npt.NDArray[np.int64], filters: Filters, facet: str) -> npt.NDArray[np.bool_]:
    if facet in filters.masks:
        return (column & filters.masks[facet]) != 0
    return np.isin(column, np.asarray(filters.codes[facet], dtype=np.int64))


def _all(base: npt.NDArray[np.bool_], conditions: object) -> npt.NDArray[np.bool_]:
    result = base
    for condition in conditions:  # type: ignore[attr-defined]
        result = result & condition
    return result


def _facet_counts(facet: str, column: npt.NDArray[np.int64], codes: FacetCodes) -> dict[str, int]:
    if facet == "is_free":
        free = int(np.count_nonzero(column))
        return {name: n for name, n in (("true", free), ("false", len(column) - free)) if n}
    counts: dict[str, int] = {}
    if facet in MASK_FACETS:
        present = int(np.bitwise_or.reduce(column)) if len(column) else 0
        for bit in range(present.bit_length()):
            if present >> bit & 1:
                _add(counts, codes.value(facet, bit), int(np.count_nonzero(column & (1 << bit))))
        return counts
    per_code = np.bincount(column) if len(column) else np.zeros(0, dtype=np.int64)
    for code in np.flatnonzero(per_code):
        if code:
            _add(counts, codes.value(facet, int(code)), int(per_code[code]))
    return counts


def _add(counts: dict[str, int], name: str | None, n: int) -> None:
    if name is not None and n:
        counts[name] = counts.get(name, 0) + n


def _sorted(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
