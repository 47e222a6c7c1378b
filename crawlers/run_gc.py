"""The garbage collector's settings: fewer, smaller collections while harvest runs go (restored after) and in a
serving process."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

GC_YOUNG_THRESHOLD = 50_000
_gc_lock = threading.Lock()
_relaxed_runs = 0
_thresholds_before: tuple[int, int, int] = gc.get_threshold()
_started_frozen = False
"""Whether a serving process froze what it holds once started (`freeze_started`), to freeze again after a run."""


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Fewer, smaller garbage collections while a run goes; the collector's settings are restored after.

    Building a record allocates hundreds of small containers, so at Python's default threshold (700) the
    collector ran every few records, and its older generations walked every object the process holds (modules,
    dictionaries, the batch waiting to be written): ~10% of a harvest's time. During a run the young generation
    is collected every GC_YOUNG_THRESHOLD allocations (the garbage waiting for it is bounded by that count, not
    by the run's length), and what existed before the run is frozen out of the collections' walks.

    The settings are process-wide: with runs in several threads, the first to start changes them and the last
    to end puts them back.
    """
    global _relaxed_runs, _thresholds_before
    with _gc_lock:
        if _relaxed_runs == 0:
            _thresholds_before = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(max(_thresholds_before[0], GC_YOUNG_THRESHOLD), *_thresholds_before[1:])
        _relaxed_runs += 1
    try:
        yield
    finally:
        with _gc_lock:
            _relaxed_runs -= 1
            if _relaxed_runs == 0:
                gc.set_threshold(*_thresholds_before)
                gc.unfreeze()
                if _started_frozen:  # what the serving process holds now, frozen again (its garbage collected first)
                    gc.collect()
                    gc.freeze()


def serving_collections() -> None:
    """Collect the young generation of a serving process every GC_YOUNG_THRESHOLD allocations (not 700).

    A search page allocates thousands of small containers (records, highlights, facets), so at the default the
    collector ran several times a search, and the recent-results memory of the SQLite backend (whole pages of
    records) kept its older generations busy: 0.25-0.5 ms of a typical 3 ms search at 100k records went to it
    (bench/RESULTS.md, the hit path). Cyclic garbage waits for at most that many allocations. Harvest runs in the
    same process relax the collector further and restore these settings after (`fewer_collections`).
    """
    with _gc_lock:
        young, *older = gc.get_threshold()
        gc.set_threshold(max(young, GC_YOUNG_THRESHOLD), *older)


def freeze_started() -> None:
    """Freeze what a serving process holds once it has started (modules, the query vocabulary and its thesaurus,
    the app, the index's readers) out of the collector's walks, after collecting the garbage of starting.

    Those ~290k objects live as long as the process, yet every full collection walked them all: ~60 ms, which
    showed as the slowest search of a run (bench/RESULTS.md, issue 17's 1M runs); with them frozen a full
    collection walks what the searches made since (~20k objects at 100k records, 10 ms). Objects are still freed
    by their reference counts as ever; only cyclic garbage among the frozen ones would stay, and start-up makes
    none that later turns into garbage. A harvest run in the same process freezes and unfreezes around itself
    (`fewer_collections`), and freezes again after."""
    global _started_frozen
    with _gc_lock:
        gc.collect()
        gc.freeze()
        _started_frozen = True
