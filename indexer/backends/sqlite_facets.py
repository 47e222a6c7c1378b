"""Filters, facet counts, totals and sort keys from in-memory columns (numpy arrays indexed by rowid).

Counting facets in SQL means visiting every matched row several times; with the facet and sort columns of
every record held in arrays (about 25 bytes a record: each code and mask column in the narrowest integer type its
values fit, a byte or two), a search fetches only the matched rowids (and bm25 scores) from FTS5, filters and
counts each facet with vectorized masks and `bincount`, and hands the surviving rows with their sort keys to
the pager. Browsing without a query works on all live rows.

The arrays follow the index file through a generation number: every write transaction bumps
`meta.generation` and stamps the rows it writes (`docs.gen`) and removes (`removed.gen`), so a reader, in
any process, brings its arrays up to date by reading only what changed since the generation it last saw.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from indexer.backends.base import FACET_FIELDS
from indexer.backends.sqlite_schema import FACET_COLUMNS, MASK_FACETS, FacetCodes

_DTYPES = {
    "theme_mask": np.int64, "aud_mask": np.int64, "platform_id": np.int32, "media_id": np.int32,
    "rtype_id": np.int32, "free": np.int8, "sort_date": np.int64, "popularity": np.int64, "region_id": np.int32,
}  # fmt: skip
_COLUMNS = tuple(_DTYPES)
_NARROW = ("theme_mask", "aud_mask", "platform_id", "media_id", "rtype_id", "free", "region_id")
"""Columns held in the narrowest of _WIDTHS their values fit, widened when a written value needs more (at 1M
records: 25 MB less than their full types); the sort keys stay int64."""
_WIDTHS = tuple(np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64))
_RANGES = {np.dtype(t): (int(np.iinfo(t).min), int(np.iinfo(t).max)) for t in (np.int8, np.int16, np.int32, np.int64)}
_BINCOUNT_BITS = 16
_LOAD_CHUNK = 65_536
"""Rows read into numpy at a time: loading 1M records holds 4 MB of rows at once, not 58 MB."""
_SCAN_CACHE = "PRAGMA cache_size = -2048"
"""The page cache of a connection while it reads every row (a reader's first sync, or one too far behind): a scan
reads each page once, and through the connection's own cache (64 MiB) it would leave that much memory taken by
pages no search wants (at 100k: 34 MB)."""
"""Mask facets with at most this many values are counted by one bincount over the masks."""
_ROW = np.dtype([("id", np.int64), *_DTYPES.items()])
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_] | None


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


class Matched:
    """Rows that match the query and pass every filter: rowids with their sort keys, and the facets. Each array is
    read from the columns when first asked for (a page orders by one sort key: at 1M rows, a copy of 8 MB less)."""

    def __init__(
        self,
        *,
        rows: IntArray | None,
        scores: FloatArray | None,
        values: dict[str, npt.NDArray[Any]],
        kept: Pick,
        total: int,
        facets: dict[str, dict[str, int]],
    ) -> None:
        self._rows, self._scores, self._values, self._kept = rows, scores, values, kept
        self.total = total
        self.facets = facets

    @functools.cached_property
    def ids(self) -> IntArray:
        if self._rows is not None:
            return _take(self._rows, self._kept)
        kept = self._kept  # every row of the columns: their rowids are the positions kept
        if kept is None:
            return np.arange(self.total, dtype=np.int64)
        return np.flatnonzero(kept) if kept.dtype == np.bool_ else kept.astype(np.int64, copy=False)

    @functools.cached_property
    def scores(self) -> FloatArray | None:
        return None if self._scores is None else _take(self._scores, self._kept)

    @functools.cached_property
    def sort_date(self) -> IntArray:
        return _take(self._values["sort_date"], self._kept)

    @functools.cached_property
    def popularity(self) -> IntArray:
        return _take(self._values["popularity"], self._kept)


class FacetColumns:
    """The facet columns of every record, kept in step with the index file (see module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = -1
        self._size = 0
        self._live = np.zeros(0, dtype=np.bool_)
        self._columns = {name: np.zeros(0, dtype=_WIDTHS[0] if name in _NARROW else d) for name, d in _DTYPES.items()}

    def sync(self, conn: sqlite3.Connection, *, generation: int | None = None) -> bool:
        """Apply the writes committed since the last sync (call inside the reader's transaction).

        Returns True when something changed (the caller then reloads the facet value codes too). A reader
        further behind than the pruned part of the `removed` log reloads every row. `generation`: the snapshot's,
        when the caller has read it: columns already holding it are up to date without reading `meta` (15 us of
        every search at 100k records).
        """
        if generation is not None and generation <= self._generation:
            return False
        meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('generation', 'pruned')"))
        generation, pruned = int(meta["generation"]), int(meta.get("pruned", 0))
        if generation <= self._generation:
            return False
        with self._lock:
            if generation <= self._generation:
                return False
            if 0 <= self._generation < pruned:
                self._generation = -1
                self._live[:] = False
            since = (self._generation,)
            with _scan_cache(conn) if self._generation < 0 else nullcontext():
                removed = np.fromiter(
                    (i for (i,) in conn.execute("SELECT id FROM removed WHERE gen > ?", since)), dtype=np.int64
                )
                if self._generation < 0:  # every row: room for all of them at once, not grown chunk by chunk
                    (top,) = conn.execute("SELECT COALESCE(MAX(id), 0) FROM docs").fetchone()
                    if int(top) >= len(self._live):
                        self._grow(int(top) + 1)
                cursor = conn.execute(f"SELECT id, {', '.join(_COLUMNS)} FROM docs WHERE gen > ?", since)
                self._apply(removed, np.array(cursor.fetchmany(_LOAD_CHUNK), dtype=_ROW))
                while rows := cursor.fetchmany(_LOAD_CHUNK):
                    self._apply(removed[:0], np.array(rows, dtype=_ROW))
            self._generation = generation
        return True

    def _apply(self, removed: IntArray, changed: npt.NDArray[np.void]) -> None:
        top = max(int(removed.max(initial=0)), int(changed["id"].max(initial=0)))
        if top >= len(self._live):
            self._grow(top + 1)
        self._size = max(self._size, top + 1)
        self._live[removed] = False
        self._widen(changed)
        ids = changed["id"]
        for name in _COLUMNS:
            self._columns[name][ids] = changed[name]
        self._live[ids] = True

    def _widen(self, changed: npt.NDArray[np.void]) -> None:
        """Give each narrow column a wider type when one of the changed rows' values does not fit in its own."""
        if not len(changed):
            return
        columns = dict(self._columns)
        for name in _NARROW:
            wanted = _fitting(columns[name].dtype, int(changed[name].min()), int(changed[name].max()))
            if wanted != columns[name].dtype:
                columns[name] = columns[name].astype(wanted)
        self._columns = columns

    def _grow(self, size: int) -> None:
        size = max(size, len(self._live) * 3 // 2, 1024)
        live = np.zeros(size, dtype=np.bool_)
        live[: len(self._live)] = self._live
        columns = {}
        for name, old in self._columns.items():
            columns[name] = np.zeros(size, dtype=old.dtype)
            columns[name][: len(old)] = old
        self._live, self._columns = live, columns

    def match(
        self,
        rowids: IntArray | None,
        *,
        scores: FloatArray | None = None,
        filters: Filters,
        codes: FacetCodes,
        with_facets: bool,
    ) -> Matched:
        """The matched live rows passing every filter (None: all live rows), with total and facets.

        `scores` (aligned with `rowids`) follow the rows that pass; each facet ignores its own filter.
        """
        live, columns = self._live, self._columns
        if rowids is None:
            size = self._size
            base, values = live[:size], {name: column[:size] for name, column in columns.items()}
        else:
            inside = rowids < len(live)
            if not inside.all():
                rowids = rowids[inside]
                scores = None if scores is None else scores[inside]
            base = live[rowids]
            values = {name: column[rowids] for name, column in columns.items()}
        every: Mask = None if base.all() else base  # None: every row, so no copies are made
        passing = {f: _passes(values[FACET_COLUMNS[f]], filters, f) for f in filters.facets()}
        picks: dict[tuple[str, ...], Pick] = {}
        left_out: dict[tuple[str, ...], IntArray] = {}

        def pick(used: tuple[str, ...]) -> Pick:
            """The rows kept by `every` and the filters of `used` (the same for every facet without a filter)."""
            if used not in picks:
                picks[used] = _pick(_all(every, (passing[f] for f in used)))
            return picks[used]

        everything = pick(tuple(passing))
        facets: dict[str, dict[str, int]] = {}
        if with_facets:
            for facet in FACET_FIELDS:
                used = tuple(f for f in passing if f != facet)
                column, picked = values[FACET_COLUMNS[facet]], pick(used)
                if picked is not None and picked.dtype == np.bool_:  # most rows: count them all, less the others
                    if used not in left_out:
                        left_out[used] = np.flatnonzero(~picked)
                    counts = _facet_counts(facet, column, codes, less=column[left_out[used]])
                else:
                    counts = _facet_counts(facet, _take(column, picked), codes)
                facets[facet] = _sorted(counts)
        if everything is None:
            total = len(base)
        else:
            total = int(np.count_nonzero(everything)) if everything.dtype == np.bool_ else len(everything)
        return Matched(rows=rowids, scores=scores, values=values, kept=everything, total=total, facets=facets)

    def rows_in(self, filters: Filters, facet: str) -> IntArray:
        """The live rowids passing one facet's filter (call after `sync`)."""
        size = self._size
        live, column = self._live[:size], self._columns[FACET_COLUMNS[facet]][:size]
        return np.flatnonzero(live & _passes(column, filters, facet)).astype(np.int64)


@contextmanager
def _scan_cache(conn: sqlite3.Connection) -> Iterator[None]:
    """The connection with a small page cache for a full scan, its own cache size back afterwards."""
    (size,) = conn.execute("PRAGMA cache_size").fetchone()
    conn.execute(_SCAN_CACHE)
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {int(size)}")


def _fitting(dtype: np.dtype[Any], low: int, high: int) -> np.dtype[Any]:
    """The narrowest of _WIDTHS, at least as wide as `dtype`, holding every value from `low` to `high`."""
    for wider in _WIDTHS:
        if wider.itemsize >= dtype.itemsize and _RANGES[wider][0] <= low and high <= _RANGES[wider][1]:
            return wider
    return _WIDTHS[-1]


def _passes(column: npt.NDArray[np.int64], filters: Filters, facet: str) -> npt.NDArray[np.bool_]:
    if facet in filters.masks:  # the mask as int64: it may hold a bit no row has, beyond the column's type
        return (column & np.int64(filters.masks[facet])) != 0
    return np.isin(column, np.asarray(filters.codes[facet], dtype=np.int64))


def _all(base: Mask, conditions: Iterable[npt.NDArray[np.bool_]]) -> Mask:
    result = base
    for condition in conditions:
        result = condition if result is None else result & condition
    return result


Pick = npt.NDArray[np.bool_] | IntArray | None
"""The rows a selection keeps: None (every row), its boolean mask, or their indices (`_pick`)."""
_DENSE = 0.75
"""A selection keeping more than this share of its rows is read through its mask, a sparser one by indices."""


def _pick(selected: Mask) -> Pick:
    """How `_take` reads the rows of a selection, once for every column read with it: the indices of the rows it
    keeps (one pass over the mask, then each column read at those rows only), or its mask when it keeps most rows.
    A mask of scattered rows is slow to read through: 9 columns of 100k rows 1.5 ms at 10 % kept and 4.1 ms at
    50 % through the mask, 0.14 and 0.98 ms by indices; at 95 % kept the mask is faster (1.5 against 2.2 ms)."""
    if selected is None or np.count_nonzero(selected) > _DENSE * len(selected):
        return selected
    return np.flatnonzero(selected)


def _take(values: npt.NDArray[Any], selected: Pick) -> npt.NDArray[Any]:
    return values if selected is None else values[selected]


def _facet_counts(
    facet: str, column: npt.NDArray[np.int64], codes: FacetCodes, *, less: npt.NDArray[np.int64] | None = None
) -> dict[str, int]:
    """Value -> rows of `column` holding it, less those of `less` (some of the same rows: a selection keeping most
    rows is counted over the whole column, then the few it leaves out are taken off, with no copy of the column)."""
    less = column[:0] if less is None else less
    if facet == "is_free":
        free = int(np.count_nonzero(column)) - int(np.count_nonzero(less))
        rows = len(column) - len(less)
        return {name: n for name, n in (("true", free), ("false", rows - free)) if n}
    counts: dict[str, int] = {}
    if facet in MASK_FACETS:
        present = int(np.bitwise_or.reduce(column)) if len(column) else 0  # a bit only `less` holds counts 0
        for (bit, n), (_, taken) in zip(_bit_counts(column, present), _bit_counts(less, present), strict=True):
            _add(counts, codes.value(facet, bit), n - taken)
        return counts
    per_code = np.bincount(column) if len(column) else np.zeros(0, dtype=np.int64)
    if len(less):
        per_code = per_code - np.bincount(less, minlength=len(per_code))
    for code in np.flatnonzero(per_code):
        if code:
            _add(counts, codes.value(facet, int(code)), int(per_code[code]))
    return counts


def _bit_counts(column: npt.NDArray[np.int64], present: int) -> list[tuple[int, int]]:
    """(bit, rows with that bit set) for every bit of `present`; one bincount when the masks are small."""
    bits = [bit for bit in range(present.bit_length()) if present >> bit & 1]
    if present.bit_length() > _BINCOUNT_BITS:
        return [(bit, int(np.count_nonzero(column & (1 << bit)))) for bit in bits]
    per_mask = np.bincount(column, minlength=1 << present.bit_length())
    masks = np.arange(len(per_mask))
    return [(bit, int(per_mask[(masks >> bit) & 1 == 1].sum())) for bit in bits]


def _add(counts: dict[str, int], name: str | None, n: int) -> None:
    if name is not None and n:
        counts[name] = counts.get(name, 0) + n


def _sorted(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
