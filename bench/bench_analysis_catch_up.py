"""The catch-up of a SQLite index written with an older text analysis: records/s, peak memory, searches meanwhile.

A copy of `--index` (made by bench_index, unlinked, when missing) is turned into what the edufed before analysis
version 1 wrote (tests/support/older_analysis: no pinyin initials, no recorded version, the derived tantivy index
deleted), opened once so its derived index is built from the old text, and caught up in a child process as
`edufed serve` does it (indexer.analysis_catch_up: niced, one batch per transaction). The child reports its wall
and CPU seconds, records read and rewritten, and its peak RSS (VmHWM, which includes opening the file and
loading the in-memory columns: `rss_open_mb` is the peak before the catch-up began). With `--searching`, this
process searches the same file in a loop meanwhile (two-word queries, each once), and again for as long after it,
so the two latencies compare.

    .venv/bin/python -m bench.bench_analysis_catch_up --index bench/out/catch-up-100k.sqlite3 --count 100000
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

WORDS = (
    "书法",
    "太极拳",
    "智能手机",
    "养生",
    "shufa",
    "bdj",
    "老年",
    "健康",
    "摄影",
    "入门",
    "舞蹈",
    "防骗",
    "中医",
    "英语",
    "手机",
    "绘画",
    "合唱",
    "烹饪",
    "心理",
    "法律",
    "理财",
    "茶艺",
    "旅游",
    "瑜伽",
    "钢琴",
    "剪纸",
)
"""Queries are pairs of these, each searched once (the backend keeps recent results per write generation)."""


def queries() -> Iterator[str]:
    for first, second in itertools.product(WORDS, repeat=2):
        yield first if first == second else f"{first} {second}"
    for page in itertools.count(2):
        for first, second in itertools.product(WORDS, repeat=2):
            yield f"{first} {second} page={page}"


def peak_rss_mb() -> int:
    """This process's peak resident set (VmHWM: unlike ru_maxrss, not inherited across exec from the parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


def ensure_index(index: Path, *, count: int) -> None:
    if not index.exists():
        index.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "bench.bench_index", "sqlite", "--count", str(count), "--no-linking",
                   "--index", str(index)]  # fmt: skip
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def older_copy(index: Path, work: Path, *, engine: str) -> int:
    """A copy of the index as the older edufed left it, its derived index built again; records whose text differs."""
    from indexer.backends.sqlite import SqliteBackend
    from tests.support.older_analysis import to_older_analysis

    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(f"{work}.tantivy", ignore_errors=True)
    shutil.copy(index, work)
    changed = to_older_analysis(work)
    backend = SqliteBackend(work, search_engine=engine)  # type: ignore[arg-type]
    try:
        backend.sync_engine()
    finally:
        backend.close()
    return changed


def _child(path: str, engine: str, batch: int, out: Connection) -> None:
    from indexer.analysis_catch_up import NICE
    from indexer.backends.sqlite import SqliteBackend

    os.nice(NICE)
    backend = SqliteBackend(Path(path), search_engine=engine)  # type: ignore[arg-type]
    try:
        backend.sync_engine()
        rss_open = peak_rss_mb()
        started, cpu = time.perf_counter(), time.process_time()
        read, rewritten = backend.catch_up_analysis(batch=batch)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    finally:
        backend.close()
    peak = peak_rss_mb()
    out.send({"read": read, "rewritten": rewritten, "seconds": round(seconds, 1), "cpu_seconds": round(cpu_seconds, 1),
              "records_per_second": round(read / seconds), "rss_open_mb": rss_open,
              "peak_rss_mb": peak})  # fmt: skip


def search_while(
    path: Path,
    *,
    engine: str,
    running: multiprocessing.process.BaseProcess | None,
    seconds: float,
    asked: Iterator[str],
) -> dict[str, Any]:
    """Search latencies (ms) in a loop, while `running` lives, else for `seconds`."""
    from indexer.backends.base import SearchQuery
    from indexer.backends.sqlite import SqliteBackend

    backend = SqliteBackend(path, search_engine=engine)  # type: ignore[arg-type]
    times: list[float] = []
    try:
        deadline = time.monotonic() + seconds
        while running.is_alive() if running is not None else time.monotonic() < deadline:
            q, _, page = next(asked).partition(" page=")
            started = time.perf_counter()
            backend.search(SearchQuery(q=q, size=10, page=int(page or 1)))
            times.append((time.perf_counter() - started) * 1000)
    finally:
        backend.close()
    times.sort()
    return {"searches": len(times), "p50_ms": round(statistics.median(times), 2),
            "p99_ms": round(times[int(len(times) * 0.99)], 2)}  # fmt: skip


def measure(args: argparse.Namespace) -> dict[str, Any]:
    index, work = Path(args.index), Path(args.work)
    ensure_index(index, count=args.count)
    result: dict[str, Any] = {"engine": args.engine, "batch": args.batch, "load_before": os.getloadavg()[0]}
    result["records_differing"] = older_copy(index, work, engine=args.engine)
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(str(work), args.engine, args.batch, send))
    started = time.monotonic()
    child.start()
    asked = queries()
    if args.searching:
        result["searches_during"] = search_while(work, engine=args.engine, running=child, seconds=0, asked=asked)
    child.join()
    result["catch_up"] = receive.recv()
    if args.searching:
        after = min(args.after_seconds, time.monotonic() - started)
        result["searches_after"] = search_while(work, engine=args.engine, running=None, seconds=after, asked=asked)
    result["load_after"] = os.getloadavg()[0]
    from indexer.backends.sqlite import SqliteBackend

    backend = SqliteBackend(work, search_engine=args.engine)  # type: ignore[arg-type]
    try:
        result["status_after"] = backend.analysis_state().status
    finally:
        backend.close()
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--index", default="bench/out/catch-up-100k.sqlite3", help="SQLite index (built if missing)")
    parser.add_argument("--work", default="bench/out/catch-up-work.sqlite3", help="the older copy caught up")
    parser.add_argument("--count", type=int, default=100_000, help="records of a newly built index")
    parser.add_argument("--engine", default="tantivy", choices=["tantivy", "fts5"])
    parser.add_argument("--searching", action="store_true", help="search the file in a loop meanwhile, then after")
    parser.add_argument("--after-seconds", type=float, default=60.0, help="at most this long searching after it")
    parser.add_argument("--batch", type=int, default=1000, help="records a catch-up transaction re-analyses")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    print(json.dumps(measure(parse_args(argv)), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
