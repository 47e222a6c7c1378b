"""The bulk dump under search load: search p50/p99 through the HTTP API idle, then while a dump is built.

Run from the checkout (builds the 100k-record index with bench_index the first time):

    .venv/bin/python -m bench.bench_dump --index bench/out/dump-100k.sqlite3 --count 100000

The API runs in a child process as bench_search starts it (its `start_server`/`server_command`), and the
clients are bench_search's keep-alive `Api` over its query mix; here they run until told to stop, so the
loaded figure covers the whole dump and nothing after it. Three phases, one after the other:

* idle — `--idle-seconds` of the search mix, no dump;
* scheduled — the dump as `edufed serve` builds it daily (`indexer.dump.build_dump_in_child`: a spawned
  process at nice 10), with the same load until it has published;
* cli — the dump as `edufed dump` builds it (the command itself, run on the same index), with the same load.

Each phase prints its latency percentiles and the dump's wall time; the target is p99 under a dump within
1.5x of the idle p99.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.bench_search import Api, Params, deep_cursors, percentiles, query_set, server_command, start_server
from bench.search_mix import run_clients, sqlite_settings
from indexer.dump import build_dump_in_child

TARGET = 1.5


def ensure_index(path: Path, *, count: int) -> None:
    """Build the benchmark index with bench_index (unlinked: the dump reads records, not clusters) if missing."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "bench.bench_index", "sqlite", "--count", str(count), "--index", str(path),
               "--no-linking"]  # fmt: skip
    subprocess.run(command, check=True)


def load(port: int, mix: Sequence[tuple[str, Params]], *, clients: int, until: Callable[[], bool]) -> dict[str, Any]:
    """`clients` closed-loop clients ask random queries of `mix` until `until()` is true: percentiles, rate."""
    timings: list[float] = []
    errors = 0
    lock = threading.Lock()

    def client(index: int) -> None:
        nonlocal errors
        rng, api = random.Random(index), Api(port)
        try:
            while not until():
                _, params = rng.choice(mix)
                before = time.perf_counter()
                ok = api.ask(params)
                took = (time.perf_counter() - before) * 1000
                with lock:
                    if ok:
                        timings.append(took)
                    else:
                        errors += 1
        finally:
            api.close()

    wall = run_clients(client, clients)
    return {**percentiles(timings), "errors": errors, "rps": round(len(timings) / wall, 1), "seconds": round(wall, 1)}


def timer(seconds: float) -> Callable[[], bool]:
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() > deadline


def under_dump(port: int, mix: Sequence[tuple[str, Params]], *, clients: int, run_dump: Callable[[], None]) -> dict:
    """The load while `run_dump` runs in a thread (it blocks until its dump is published), and the dump's time."""
    done = threading.Event()
    took: list[float] = []

    def dump() -> None:
        started = time.perf_counter()
        try:
            run_dump()
        finally:
            took.append(time.perf_counter() - started)
            done.set()

    thread = threading.Thread(target=dump)
    thread.start()
    result = load(port, mix, clients=clients, until=done.is_set)
    thread.join()
    return {**result, "dump_seconds": round(took[0], 1)}


def cli_dump(index: Path, engine: str | None) -> None:
    """`edufed dump` over the benchmark index (its directory the data directory)."""
    environ = {**os.environ, "EDUFED_DATA_DIR": str(index.parent), "EDUFED_INDEX__SQLITE_FILE": index.name}
    if engine:
        environ["EDUFED_INDEX__SEARCH_ENGINE"] = engine
    subprocess.run([str(Path(sys.executable).with_name("edufed")), "dump"], check=True, env=environ,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def measure(args: argparse.Namespace) -> dict[str, Any]:
    from tests.support.noida import free_port

    index = Path(args.index)
    ensure_index(index, count=args.count)
    settings = sqlite_settings(index, engine=args.engine)
    port = free_port()
    server = start_server(server_command(port=port, index=str(index), engine=args.engine), port=port, timeout=600)
    try:
        mix = [(k, p) for k, p in query_set() + deep_cursors(port) if k not in args.exclude]
        load(port, mix, clients=args.clients, until=timer(args.warm_seconds))
        result: dict[str, Any] = {"records": args.count, "clients": args.clients}
        result["idle"] = load(port, mix, clients=args.clients, until=timer(args.idle_seconds))
        phases: dict[str, Callable[[], None]] = {
            "scheduled": lambda: build_dump_in_child(settings),
            "cli": lambda: cli_dump(index, args.engine),
        }
        for name in args.phases:
            result[name] = under_dump(port, mix, clients=args.clients, run_dump=phases[name])
            result[name]["p99_vs_idle"] = round(result[name]["p99"] / result["idle"]["p99"], 2)
        result["idle_after"] = load(port, mix, clients=args.clients, until=timer(args.idle_seconds))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return result


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--index", default="bench/out/dump-100k.sqlite3", help="SQLite index (built if missing)")
    parser.add_argument("--count", type=int, default=100_000, help="records of a newly built index")
    parser.add_argument("--engine", default=None, help="index.search_engine of the SQLite backend (default: its own)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--warm-seconds", type=float, default=20)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--phases", nargs="*", default=["scheduled", "cli"], choices=["scheduled", "cli"])
    parser.add_argument("--exclude", nargs="*", default=[], help="query kinds to leave out, e.g. common")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    result = measure(args)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    worst = max(result[name]["p99_vs_idle"] for name in args.phases) if args.phases else 0.0
    print(f"p99 under a dump / idle p99: {worst:.2f} (target {TARGET})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
