"""Where the memory of a serving process goes (issue 17: RSS ≤ 500 MB at 1M records), stage by stage.

    .venv/bin/python -m bench.bench_memory --index bench/out/t17c-100k.sqlite3 [--http] [--json FILE]

In-process (default): this process imports edufed, warms the Chinese text pipeline (OpenCC, rjieba, pypinyin,
the word-rarity table), opens the SQLite backend on the tantivy engine (facet columns loaded), answers one
search, then the query mix of bench.search_mix the way bench_engines does (each class one at a time, then
`--clients` threads on the full mix, every request with its invisible suffix so none is answered from kept
results). After each stage it records RSS split into anonymous and file-backed memory (/proc/self/smaps_rollup),
the bytes SQLite holds (sqlite3_memory_used: page caches, statements, FTS5 buffers) and how many connections
the backend holds; at the end RSS per mapping (/proc/self/smaps: the index file, the tantivy segments, shared
libraries, anonymous memory), the facet columns' bytes and, with `--tracemalloc`, Python's own heap by file.

`--http`: the same mix against the API child process bench_search serves (uvicorn, FastAPI's thread pool),
and the child's smaps after it, as bench_engines's HTTP column measures its RSS.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import json
import os
import re
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.search_mix import Params, closed_loop, one_at_a_time, query_set, sqlite_settings, start_server

_MB = 1_048_576


def rollup(pid: int | str = "self") -> dict[str, float]:
    """RSS of a process in MB: all, anonymous, file-backed (smaps_rollup)."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            fields[name] = int(value.split()[0])
    rss, anon = fields.get("Rss", 0), fields.get("Anonymous", 0)
    return {"rss": round(rss / 1024, 1), "anon": round(anon / 1024, 1), "file": round((rss - anon) / 1024, 1)}


_MAPPING = re.compile(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$")


def mapping_kind(path: str) -> str:
    """The group a mapping's RSS counts under."""
    if not path:
        return "anonymous (malloc arenas, numpy, Rust heaps)"
    if path == "[heap]":
        return "[heap] (brk: Python objects, small mallocs)"
    if path.startswith("[stack"):
        return "thread stacks"
    if ".tantivy/" in path:
        return "tantivy segment files (mmap)"
    if re.search(r"\.sqlite3(-shm|-wal)?$", path):
        return "SQLite index file (mmap)" if path.endswith(".sqlite3") else "SQLite WAL index (-shm)"
    if ".so" in path:
        name = Path(path).name
        for known in ("tantivy", "rjieba", "opencc", "numpy", "pydantic_core", "zstandard", "libsqlite3", "orjson"):
            if known in path.lower():
                return f"code+data of {known}"
        return "code+data of other libraries" if "python3" not in name else "python interpreter"
    if path.endswith((".dat", ".ocd2", ".json", ".txt")):
        return "data files mapped (dictionaries)"
    return f"other mapped: {Path(path).name}"


def by_mapping(pid: int | str = "self") -> dict[str, dict[str, float]]:
    """RSS per mapping group in MB (anonymous part beside it), largest first."""
    groups: dict[str, list[int]] = {}
    kind = "?"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        header = _MAPPING.match(line)
        if header:
            kind = mapping_kind(header.group(1).strip())
            groups.setdefault(kind, [0, 0])
        elif line.startswith("Rss:"):
            groups[kind][0] += int(line.split()[1])
        elif line.startswith("Anonymous:"):
            groups[kind][1] += int(line.split()[1])
    rows = {k: {"rss": round(r / 1024, 1), "anon": round(a / 1024, 1)} for k, (r, a) in groups.items() if r >= 512}
    return dict(sorted(rows.items(), key=lambda item: -item[1]["rss"]))


def _sqlite_library() -> Any:
    library = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
    library.sqlite3_memory_used.restype = ctypes.c_int64
    library.sqlite3_memory_highwater.restype = ctypes.c_int64
    library.sqlite3_memory_highwater.argtypes = [ctypes.c_int]
    return library


def sqlite_mb() -> dict[str, float]:
    """What SQLite has allocated in this process now and at its peak (every connection's page cache included)."""
    library = _sqlite_library()
    return {"now": round(library.sqlite3_memory_used() / _MB, 1),
            "peak": round(library.sqlite3_memory_highwater(0) / _MB, 1)}  # fmt: skip


def trimmed() -> dict[str, Any]:
    """What glibc's malloc kept of the memory freed so far: RSS before and after `malloc_trim(0)` (which gives
    every free page of every arena back to the system) and how long that call took."""
    before = rollup()
    started = time.perf_counter()
    ctypes.CDLL(None).malloc_trim(0)
    took = time.perf_counter() - started
    return {"ms": round(took * 1000, 2), "rss_before": before["rss"], **rollup()}


def warm_text() -> None:
    """Load every dictionary the query and index pipeline uses (what a first search would)."""
    from indexer.analysis import analyze_document, fold, parse_query, pinyin_splits
    from indexer.query_vocabulary import bundled_vocabulary
    from indexer.word_rarity import rarity_factor

    fold("繁體中文測試")
    parse_query("怎么学太极拳 shufa", vocabulary=bundled_vocabulary())
    pinyin_splits("xian")
    rarity_factor("健康")
    analyze_document(title="智能手机入门", subtitle="", tags="", description="老年人学用微信", people="", provider="")


def facet_bytes(backend: Any) -> dict[str, Any]:
    """Bytes of the in-memory facet and sort columns and how many rows they have room for."""
    columns = backend._search._columns
    arrays = [columns._live, *columns._columns.values()]
    return {"bytes": int(sum(a.nbytes for a in arrays)), "rows_allocated": len(columns._live),
            "rows": columns._size, "bytes_per_row": int(sum(a.itemsize for a in arrays))}  # fmt: skip


def python_heap(limit: int = 12) -> dict[str, Any]:
    """tracemalloc's current total and the largest allocating files (only with --tracemalloc)."""
    if not tracemalloc.is_tracing():
        return {}
    snapshot = tracemalloc.take_snapshot()
    stats = snapshot.statistics("filename")
    total = sum(s.size for s in stats)
    top = {_short(s.traceback[0].filename): round(s.size / _MB, 1) for s in stats[:limit]}
    return {"traced_mb": round(total / _MB, 1), "by_file_mb": top}


def _short(path: str) -> str:
    for marker in ("site-packages/", "/main/", "lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def in_process(args: argparse.Namespace) -> dict[str, Any]:
    stages: dict[str, Any] = {}

    def stage(name: str, **extra: Any) -> None:
        gc.collect()
        stages[name] = {**rollup(), "sqlite": sqlite_mb(), **extra}

    stage("python + numpy")
    from bench.bench_engines import Varying, classes, search_query
    from indexer.backends import open_backend
    from indexer.backends.base import SearchQuery
    from indexer.backends.sqlite import SqliteBackend

    stage("edufed imported")
    warm_text()
    stage("text dictionaries loaded")
    backend = open_backend(sqlite_settings(Path(args.index), engine=args.engine))
    assert isinstance(backend, SqliteBackend)
    backend._warming.join()
    stage("backend open, columns loaded", connections=backend._pool.opened)
    vary = Varying()

    def ask(params: Params, *, facets: bool = True) -> bool:
        backend.search(search_query(vary(params), facets=facets, query_type=SearchQuery))
        return True

    ask([("q", "健康")])
    stage("first search", connections=backend._pool.opened)

    class InProcess:
        def __init__(self, *, facets: bool) -> None:
            self.facets = facets

        def ask(self, params: Params) -> bool:
            return ask(params, facets=self.facets)

        def close(self) -> None:
            return None

    timings: dict[str, Any] = {}
    for name, queries in classes().items():
        timings[name] = one_at_a_time(InProcess(facets=True), queries, repeats=args.repeats)
    stage("classes one at a time", connections=backend._pool.opened)
    for round_number in range(args.rounds):
        timings[f"mix_{round_number + 1}"] = closed_loop(
            lambda _: InProcess(facets=True), query_set(), clients=args.clients, requests=args.requests,
            seconds=args.seconds,
        )  # fmt: skip
        stage(f"mix round {round_number + 1} ({args.clients} new threads)", connections=backend._pool.opened)
    result = {"stages": stages, "mappings": by_mapping(), "facet_columns": facet_bytes(backend),
              "python_heap": python_heap(), "timings": timings, "records": backend.count()}  # fmt: skip
    result["malloc_trim"] = trimmed()
    backend.close()
    gc.collect()
    result["after_close"] = {**rollup(), "sqlite": sqlite_mb()}
    return result


def over_http(args: argparse.Namespace) -> dict[str, Any]:
    from bench.bench_engines import VariedApi, Varying, classes
    from bench.bench_search import server_command
    from tests.support.noida import free_port

    port = free_port()
    process = start_server(server_command(port=port, index=args.index, engine=args.engine), port=port)
    vary = Varying()
    stages: dict[str, Any] = {}

    try:
        stages["started"] = rollup(process.pid)
        VariedApi(port, vary).ask([("q", "健康")])
        stages["first search"] = rollup(process.pid)
        timings = {
            name: one_at_a_time(VariedApi(port, vary), queries, repeats=args.repeats)
            for name, queries in classes().items()
        }
        stages["classes one at a time"] = rollup(process.pid)
        for round_number in range(args.rounds):
            if round_number:
                _wait_idle_threads(args.idle)
            timings[f"mix_{round_number + 1}"] = closed_loop(
                lambda _: VariedApi(port, vary),
                query_set(),
                clients=args.clients,
                requests=args.requests,
                seconds=args.seconds,
            )
            stages[f"mix round {round_number + 1}"] = {**rollup(process.pid), "threads": _threads(process.pid)}
        mappings = by_mapping(process.pid)
        if args.idle:
            _wait_idle_threads(args.idle)
            VariedApi(port, vary).ask([("q", "健康")])
            stages[f"{args.idle:g} s idle, one search (idle workers ended)"] = {
                **rollup(process.pid),
                "threads": _threads_settled(process.pid),
            }
    finally:
        process.terminate()
        process.wait(timeout=60)
    return {"stages": stages, "mappings": mappings, "timings": timings}


def _wait_idle_threads(seconds: float) -> None:
    """Let the API's idle worker threads end (anyio ends a worker idle for 10 s), as a lull between bursts."""
    time.sleep(seconds)


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def _threads_settled(pid: int, *, timeout: float = 10.0) -> int:
    """The API's thread count once it stops falling: anyio ends the workers idle for 10 s when the next call comes
    in, each asynchronously (and with it, its connection goes back to the idle pool)."""
    deadline = time.monotonic() + timeout
    count, since = _threads(pid), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < 1.0:
        time.sleep(0.05)
        now = _threads(pid)
        if now != count:
            count, since = now, time.monotonic()
    return count


def latency(args: argparse.Namespace) -> dict[str, Any]:
    """p50/p99 of the classes and the mix in-process, for before/after comparisons on the same file."""
    from bench.bench_engines import Varying, classes, search_query
    from indexer.backends import open_backend
    from indexer.backends.base import SearchQuery
    from indexer.backends.sqlite import SqliteBackend

    backend = open_backend(sqlite_settings(Path(args.index), engine=args.engine))
    assert isinstance(backend, SqliteBackend)
    backend._warming.join()
    vary = Varying()

    class InProcess:
        def ask(self, params: Params) -> bool:
            backend.search(search_query(vary(params), facets=True, query_type=SearchQuery))
            return True

        def close(self) -> None:
            return None

    InProcess().ask([("q", "健康")])
    try:
        out = {name: one_at_a_time(InProcess(), queries, repeats=args.repeats) for name, queries in classes().items()}
        out["mix"] = closed_loop(lambda _: InProcess(), query_set(), clients=args.clients, requests=args.requests,
                                 seconds=args.seconds)  # fmt: skip
        out["rss_after"] = rollup()
    finally:
        backend.close()
    return out


def cache_pairs(args: argparse.Namespace) -> dict[str, Any]:
    """Each query asked of two backends on the same file in turn, their readers' page caches of two sizes
    (`--cache-pairs 65536,4096`, KiB): per class the p50 of the wall and of the thread's CPU time of each and the
    median of the paired differences (the machine's load falls on both alike); then mix rounds on 8 threads,
    alternating. The tantivy engine's readers take their cache size from sqlite_connections.ROWID_READ_CACHE
    when a backend opens, so this sets it before opening each one."""
    from bench.bench_engines import Varying, classes, search_query
    from indexer.backends import open_backend, sqlite_connections
    from indexer.backends.base import SearchQuery
    from indexer.backends.sqlite import SqliteBackend

    sizes = [int(kib) for kib in args.cache_pairs.split(",")]
    default = sqlite_connections.ROWID_READ_CACHE
    backends = []
    for kib in sizes:
        sqlite_connections.ROWID_READ_CACHE = f"PRAGMA cache_size = -{kib}"
        backend = open_backend(sqlite_settings(Path(args.index), engine=args.engine))
        assert isinstance(backend, SqliteBackend)
        backend._warming.join()
        backends.append(backend)
    sqlite_connections.ROWID_READ_CACHE = default
    vary = Varying()

    def timed(backend: Any, params: Params) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.thread_time()
        backend.search(search_query(vary(params), facets=True, query_type=SearchQuery))
        return (time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000

    class Asker:
        def __init__(self, backend: Any) -> None:
            self.backend = backend

        def ask(self, params: Params) -> bool:
            timed(self.backend, params)
            return True

        def close(self) -> None:
            return None

    out: dict[str, Any] = {"sizes_kib": sizes}
    try:
        for backend in backends:
            timed(backend, [("q", "健康")])
        for name, queries in classes().items():
            samples: list[list[tuple[float, float]]] = [[], []]
            for round_number in range(args.repeats):
                for index, params in enumerate(queries):
                    order = (0, 1) if (round_number + index) % 2 == 0 else (1, 0)
                    for which in order:
                        samples[which].append(timed(backends[which], params))
            out[name] = {
                str(size): {"wall_p50": _median([w for w, _ in got]), "cpu_p50": _median([c for _, c in got])}
                for size, got in zip(sizes, samples, strict=True)
            }
            out[name]["paired_median_ms"] = {
                "wall": _median([b[0] - a[0] for a, b in zip(*samples, strict=True)]),
                "cpu": _median([b[1] - a[1] for a, b in zip(*samples, strict=True)]),
            }
        for round_number in range(args.rounds):
            for which in (0, 1) if round_number % 2 == 0 else (1, 0):
                mix = closed_loop(lambda _, w=which: Asker(backends[w]), query_set(), clients=args.clients,
                                  requests=args.requests, seconds=args.seconds)  # fmt: skip
                out.setdefault(f"mix {sizes[which]}", []).append(
                    {
                        "rps": mix["throughput_rps"],
                        "p50": mix["latency_ms"]["all"]["p50"],
                        "p99": mix["latency_ms"]["all"]["p99"],
                    }  # fmt: skip
                )
    finally:
        for backend in backends:
            backend.close()
    return out


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return round(ordered[len(ordered) // 2], 3) if ordered else 0.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True, help="SQLite index bench_index built (a copy: it may be synced)")
    parser.add_argument("--engine", default="tantivy", help="index.search_engine")
    parser.add_argument("--http", action="store_true", help="measure the API child process instead")
    parser.add_argument("--latency", action="store_true", help="only p50/p99 of the classes and the mix")
    parser.add_argument("--cache-pairs", default=None, metavar="KIB,KIB",
                        help="paired latency of two tantivy reader cache sizes (KiB) on one file")  # fmt: skip
    parser.add_argument("--tracemalloc", action="store_true", help="trace Python's heap (slower)")
    parser.add_argument("--repeats", type=int, default=3, help="times each query of a class runs one at a time")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients on the full mix")
    parser.add_argument("--requests", type=int, default=320, help="requests of one mix round")
    parser.add_argument("--rounds", type=int, default=2, help="mix rounds (each with new client threads)")
    parser.add_argument("--idle", type=float, default=11.0, help="HTTP: seconds between rounds (threads end)")
    parser.add_argument("--seconds", type=float, default=120, help="stop a mix round after this long")
    parser.add_argument("--json", default=None, help="also write the result as JSON to this file")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.tracemalloc:
        tracemalloc.start()
    load = os.getloadavg()[0]
    run: Callable[[argparse.Namespace], dict[str, Any]] = (
        cache_pairs if args.cache_pairs else latency if args.latency else over_http if args.http else in_process
    )
    result = {"command": " ".join(["python -m bench.bench_memory", *sys.argv[1:]]), **run(args)}
    result["load_average_1m"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if args.json:
        Path(args.json).write_text(text + "\n")
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
