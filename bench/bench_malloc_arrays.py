"""What glibc keeps of the arrays concurrent searches free at 1M records, with and without a fixed mmap threshold.

    .venv/bin/python -m bench.bench_malloc_arrays default      # glibc's own (dynamic) mmap threshold
    .venv/bin/python -m bench.bench_malloc_arrays 4194304      # arrays of 4 MiB and more mapped, unmapped when freed

A synthetic stand-in for the array work of a search with facets over 1,000,000 rows (a hit mask, the matched ids,
their scores, five facet counts, the top 10), in 8 threads at once, 30 searches each, two malloc arenas as the
SQLite backend sets: RSS before, after the threads ended, after `malloc_trim(0)`, and CPU per search. One
configuration a process (mallopt before numpy allocates).
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from pathlib import Path

_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
ROWS = 1_000_000


def rss_mb() -> int:
    line = next(x for x in Path("/proc/self/smaps_rollup").read_text().splitlines() if x.startswith("Rss:"))
    return int(line.split()[1]) // 1024


def main(argv: list[str]) -> int:
    libc = ctypes.CDLL(None)
    libc.mallopt(_M_ARENA_MAX, 2)
    if argv[0] != "default":
        libc.mallopt(_M_MMAP_THRESHOLD, int(argv[0]))
    import numpy as np

    rng = np.random.default_rng(1)
    live = np.ones(ROWS, dtype=np.bool_)
    columns = [rng.integers(0, 40, ROWS, dtype=np.int8) for _ in range(5)]

    def search(i: int) -> int:
        hits = rng.random(ROWS) < (0.8, 0.43, 0.1, 0.37, 1.0)[i % 5]  # the share of rows 老年, 健康... match
        ids = np.flatnonzero(live & hits)
        scores = rng.random(len(ids))
        for column in columns:
            np.bincount(column[ids], minlength=64)
        return int(ids[np.argpartition(-scores, 10)[:10]].sum())

    cpu: list[float] = []

    def worker() -> None:
        started = time.thread_time()
        for i in range(30):
            search(i)
        cpu.append(time.thread_time() - started)

    before = rss_mb()
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = rss_mb()
    libc.malloc_trim(0)
    sys.stdout.write(
        f"{argv[0]}: RSS {before} MB, after 8 threads x 30 searches {after} MB (+{after - before}), "
        f"after malloc_trim {rss_mb()} MB; CPU a search {1000 * sum(cpu) / (8 * 30):.1f} ms\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["default"]))
