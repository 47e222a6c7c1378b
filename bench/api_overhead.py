"""What the HTTP search path adds to the backend's search (issue 17): the API of two checkouts side by side.

    .venv/bin/python -m bench.api_overhead --index bench/out/t17d-100k/index.sqlite3 --baseline /path/to/old-tree

One run starts the API (`bench.bench_search --serve`, uvicorn on a free loopback port) from this checkout and,
with `--baseline`, from another checkout of edufed (its own code, the same index file), and times the typical and
common queries of bench_engines' table one request at a time, **interleaved**: each query is sent to every
column in turn (in a shuffled order) before the next, so all see the same machine load. The columns:
with `--bare` a bare tantivy index (bench.bare_tantivy, built once next to the index), the yardstick; this
checkout's catalogue in this process, its stages timed (the backend's search, the catalogue shaping hits into
items, writing the JSON body); and each API through HTTP. What HTTP adds beyond the in-process column is the
framework (routing, parameters, worker threads) and the transport. Besides latency, each column's CPU time per
query: the API process's own (from /proc), or what this process spent answering; on a loaded machine it shows
the work apart from the waiting for a core. Last, the HTTP path alone: each checkout's API answering every
search with one fixed result (FIXED_ANSWER_SERVER), requests alternating between them.

With `--variants`, the APIs compared are served in different ways instead (VARIANT_SERVER, a child process per
variant): each variant is `HTTP/LOOP/THREADS`, uvicorn's HTTP parser (h11 or httptools) and event loop (asyncio
or uvloop), and AnyIO's default worker-thread limit (`default`: 40, or a number), of this checkout or, with
`@PATH`, of another, e.g. `--variants h11/asyncio/default@/tmp/before,httptools/uvloop/default`; the first is
the baseline, the others are named by their variant and checkout directory (`httptools/asyncio/default@after`).
`--mix-pairs N` then also runs the 8-client closed loop of the full mix (search_mix.query_set) N times on each
variant API in turn, alternating which goes first, and reports each run's throughput, latency and the API's CPU
per request; `--probe-health SECONDS` meanwhile sends a health request every SECONDS and reports its latency
(what a request that is not a search waits behind the searches).

Every edufed request carries bench_engines' invisible query suffix, so no answer comes from the backend's
memory of recent results. The result is one JSON line on stdout (and `--json`).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.bench_engines import VariedApi, Varying, classes
from bench.search_mix import (
    Api,
    Params,
    closed_loop,
    percentiles,
    query_set,
    report,
    sqlite_settings,
    start_server,
)

CLASSES = ("typical", "common")
BASELINE = "HTTP, baseline"


FIXED_ANSWER_SERVER = """
import sys
import uvicorn
from pathlib import Path
from bench.search_mix import sqlite_settings
from indexer.backends import open_backend
from indexer.backends.base import SearchQuery
from search_api.app import create_app

port, index, engine = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
settings = sqlite_settings(index, engine=engine)
backend = open_backend(settings)
app = create_app(settings=settings, backend=backend)
fixed = app.state.catalogue.search(SearchQuery(q=sys.argv[4]))
app.state.catalogue.search = lambda query, merge=False: fixed
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
"""
"""The API child of the path-alone measurement (run with `python -c` so that the checkout it runs in needs no
copy of this file): every search is answered with one result the backend gave at start, so a request costs
the HTTP path alone: parsing, routing, parameters, worker threads, shaping the items and writing the body."""
FIXED_QUERY = "书法"

VARIANT_SERVER = """
import sys
import anyio.to_thread
import uvicorn
from pathlib import Path
from bench.search_mix import sqlite_settings
from indexer.backends import open_backend
from indexer.backends.base import SearchQuery
from search_api.app import create_app

port, index, engine, variant, fixed_query = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
http, loop, threads = variant.split("/")
settings = sqlite_settings(index, engine=engine)
backend = open_backend(settings)
app = create_app(settings=settings, backend=backend)
if fixed_query:
    fixed = app.state.catalogue.search(SearchQuery(q=fixed_query))
    app.state.catalogue.search = lambda query, merge=False: fixed
limited = threads == "default"

async def served(scope, receive, send):
    global limited
    if not limited:  # AnyIO's default limiter (40 threads) is the event loop's: set before the first request
        anyio.to_thread.current_default_thread_limiter().total_tokens = int(threads)
        limited = True
    await app(scope, receive, send)

config = uvicorn.Config(served, host="127.0.0.1", port=port, http=http, loop=loop, log_level="warning",
                        access_log=False, lifespan="off", ws="none")
uvicorn.Server(config).run()
"""
"""The API child of `--variants` (run with `python -c`, so any checkout can be served this way): the checkout's
app served with the variant's HTTP parser, event loop and worker-thread limit, as `edufed serve` configures
uvicorn otherwise (no lifespan, no websockets, no access log); with a fixed query, as FIXED_ANSWER_SERVER."""


def start_api(
    *, checkout: Path, index: Path, engine: str, fixed: bool = False, variant: str | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """The API of `checkout` over `index` (run with the checkout as working directory, so its code is imported);
    with `fixed`, the API whose every search answers FIXED_QUERY's result (FIXED_ANSWER_SERVER); with `variant`,
    this checkout's API served as the variant says (VARIANT_SERVER)."""
    from tests.support.noida import free_port

    port = free_port()
    command = [sys.executable, "-m", "bench.bench_search", "--serve", "--port", str(port), "--index",
               str(index.resolve()), "--engine", engine]  # fmt: skip
    if fixed:
        command = [sys.executable, "-c", FIXED_ANSWER_SERVER, str(port), str(index.resolve()), engine, FIXED_QUERY]
    if variant is not None:
        command = [sys.executable, "-c", VARIANT_SERVER, str(port), str(index.resolve()), engine, variant,
                   FIXED_QUERY if fixed else ""]  # fmt: skip
    previous = Path.cwd()
    os.chdir(checkout)
    try:
        return start_server(command, port=port, timeout=600), port
    finally:
        os.chdir(previous)


class HttpAsker:
    """A keep-alive client of one API, every query with the next invisible suffix; `close` when done."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.api = Api(port)
        self.vary = Varying()

    def __call__(self, params: Params) -> None:
        status, body = self.api.get(self.vary(params))
        if status != 200:
            raise RuntimeError(f"API on port {self.port} answered {status}: {body[:200]!r}")

    def close(self) -> None:
        self.api.close()


def bare_asker(index: Path) -> Callable[[Params], object]:
    from bench.bare_tantivy import BareTantivy, ensure_built
    from bench.search_mix import Plans

    directory = index.with_name(index.name + ".bare-tantivy")
    ensure_built(index, directory)
    searcher = BareTantivy(directory, plans=Plans(index))
    return lambda params: searcher.answer(params)


class Asker:
    """One column: `ask` answers a query; `cpu` is the CPU seconds its answering process has used so far (the API
    process's own, or what this process spent inside `ask`)."""

    def __init__(self, ask: Callable[[Params], object], *, pid: int | None = None) -> None:
        self._ask = ask
        self._pid = pid
        self._spent = 0.0

    def __call__(self, params: Params) -> None:
        before = time.process_time()
        self._ask(params)
        self._spent += time.process_time() - before

    def cpu(self) -> float:
        if self._pid is None:
            return self._spent
        utime, stime = Path(f"/proc/{self._pid}/stat").read_text().rpartition(")")[2].split()[11:13]
        return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")


def turn(names: list[str], n: int) -> list[str]:
    """The order of the n-th query's askers: shuffled (seeded by n), so over many queries each asker comes first,
    and right after each of the others, about as often as any."""
    return random.Random(n).sample(names, len(names))


def interleaved(
    askers: dict[str, Asker], *, rounds: int, staged: InProcess
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, float]]]:
    """Each class's queries, each sent to every asker in turn (in `turn`'s order); the first round
    untimed. Per class and asker the latency percentiles, the CPU ms per query and (with a baseline API) the median
    of its time minus the baseline's on the same query in the same round; per class the median of each
    in-process stage."""
    names = list(askers)
    found: dict[str, dict[str, Any]] = {}
    stages: dict[str, dict[str, float]] = {}
    for cls in CLASSES:
        timings: dict[str, list[float]] = {name: [] for name in names}
        cpu: dict[str, float] = {}
        for round_ in range(rounds + 1):
            if round_ == 1:
                staged.stages_p50()
                cpu = {name: asker.cpu() for name, asker in askers.items()}
            for number, params in enumerate(classes()[cls]):
                for name in turn(names, round_ * len(classes()[cls]) + number):
                    before = time.perf_counter()
                    askers[name](params)
                    if round_:
                        timings[name].append((time.perf_counter() - before) * 1000)
        found[cls] = {
            name: {**percentiles(values), "cpu_ms": round((askers[name].cpu() - cpu[name]) * 1000 / len(values), 2)}
            for name, values in timings.items()
        }
        if BASELINE in timings:  # the same query in the same round: the load they met was alike
            for name, values in timings.items():
                paired = [mine - theirs for mine, theirs in zip(values, timings[BASELINE], strict=True)]
                found[cls][name]["minus_baseline_p50"] = percentiles(paired)["p50"]
        stages[cls] = staged.stages_p50()
        print(f"{cls}: {rounds} rounds done", file=sys.stderr, flush=True)
    return found, stages


class InProcess:
    """This checkout's catalogue over the index in this process, one search at a time: its stages' timings."""

    STAGES = ("search", "shape", "body")

    def __init__(self, index: Path, *, engine: str) -> None:
        from indexer.backends import open_backend
        from search_api.services.catalogue import Catalogue

        self.settings = sqlite_settings(index, engine=engine)
        self.backend = open_backend(self.settings)
        self.catalogue = Catalogue(self.backend, limits=self.settings.search, platforms={})
        self.vary = Varying()
        self.timings: dict[str, list[float]] = {name: [] for name in self.STAGES}

    def __call__(self, params: Params) -> None:
        from search_api.http.params import SearchParams, build_query
        from search_api.routes.search import SEARCH_BODY

        given = dict(self.vary(params))
        search = SearchParams(q=given.get("q", ""), page=int(given.get("page", "1")))
        t0 = time.perf_counter()
        query = build_query(search, limits=self.settings.search)
        result = self.catalogue.search(query, merge=search.merges_duplicates)
        t1 = time.perf_counter()
        body = self.catalogue.response(result, query=query, page=search.page)
        t2 = time.perf_counter()
        SEARCH_BODY.response(body)
        t3 = time.perf_counter()
        for name, took in zip(self.STAGES, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            self.timings[name].append(took * 1000)

    def stages_p50(self) -> dict[str, float]:
        """The median of each stage since the last call, and forget them."""
        found = {name: percentiles(values)["p50"] for name, values in self.timings.items()}
        self.timings = {name: [] for name in self.STAGES}
        return found


def path_alone(
    checkouts: dict[str, Path], *, index: Path, engine: str, requests: int, variants: dict[str, str | None]
) -> dict[str, Any]:
    """The HTTP path without the search (FIXED_ANSWER_SERVER), each checkout's API in turn: latency percentiles
    and the API process's CPU ms per request; the first tenth of the requests untimed."""
    if not requests:
        return {}
    servers = {
        name: start_api(checkout=path, index=index, engine=engine, fixed=True, variant=variants[name])
        for name, path in checkouts.items()
    }
    clients = {name: HttpAsker(port) for name, (_, port) in servers.items()}
    try:
        askers = {name: Asker(clients[name], pid=process.pid) for name, (process, _) in servers.items()}
        timings: dict[str, list[float]] = {name: [] for name in askers}
        cpu: dict[str, float] = {}
        names = list(askers)
        for n in range(requests + requests // 10):
            if n == requests // 10:
                cpu = {name: asker.cpu() for name, asker in askers.items()}
            for name in names if n % 2 else names[::-1]:
                before = time.perf_counter()
                askers[name]([("q", FIXED_QUERY)])
                if n >= requests // 10:
                    timings[name].append((time.perf_counter() - before) * 1000)
        return {
            name: {**percentiles(values), "cpu_ms": round((askers[name].cpu() - cpu[name]) * 1000 / len(values), 3)}
            for name, values in timings.items()
        }
    finally:
        for client in clients.values():
            client.close()
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=60)


class HealthProbe:
    """A health request every `every` seconds on a keep-alive connection of its own, from `start` until `stop`:
    how long a request that is not a search waits while the clients' searches run."""

    def __init__(self, port: int, *, every: float) -> None:
        self.port = port
        self.every = every
        self.timings: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._probe, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> dict[str, Any]:
        """Stop probing: the health requests' latency percentiles."""
        self._stop.set()
        self._thread.join()
        return percentiles(self.timings)

    def _probe(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            while not self._stop.wait(self.every):  # a pause between requests: a probe, not a ninth client
                before = time.perf_counter()
                conn.request("GET", "/api/v1/health")
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"health on port {self.port} answered {response.status}")
                self.timings.append((time.perf_counter() - before) * 1000)
        finally:
            conn.close()


def mix_pairs(
    servers: dict[str, tuple[subprocess.Popen[bytes], int]], *, pairs: int, clients: int, requests: int,
    probe: float = 0.0,
) -> list[dict[str, Any]]:  # fmt: skip
    """`pairs` rounds of the closed-loop mix on each API in turn (the order alternating): per round and API its
    throughput, latency over all requests, the API's CPU ms per request and the load average after it; with
    `probe`, also the latency of a health request sent every `probe` seconds meanwhile (HealthProbe)."""
    found: list[dict[str, Any]] = []
    names = list(servers)
    for n in range(pairs + 1):  # the first round warms every API and is not reported
        entry: dict[str, Any] = {}
        for name in names if n % 2 else names[::-1]:
            process, port = servers[name]
            vary = Varying()
            cpu = Asker(lambda _: None, pid=process.pid)
            health = HealthProbe(port, every=probe) if probe else None
            before = cpu.cpu()
            if health is not None:
                health.start()
            loop = closed_loop(lambda _, port=port, vary=vary: VariedApi(port, vary), query_set(), clients=clients,
                               requests=requests if n else requests // 4, seconds=300)  # fmt: skip
            probed = {} if health is None else {"health": health.stop()}
            spent = (cpu.cpu() - before) * 1000 / max(1, loop["requests"])
            print(f"mix round {n}, {name}: {loop['throughput_rps']} req/s", file=sys.stderr, flush=True)
            entry[name] = {"rps": loop["throughput_rps"], **loop["latency_ms"]["all"], "errors": loop["error_count"],
                           "cpu_ms": round(spent, 3), "load_1m": round(os.getloadavg()[0], 2), **probed}  # fmt: skip
        if n:
            found.append(entry)
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    index = Path(args.index)
    checkouts = {"this checkout": Path.cwd()}
    if args.baseline:
        checkouts = {"baseline": Path(args.baseline), **checkouts}
    variants: dict[str, str | None] = {name: None for name in checkouts}
    if args.variants:  # each HTTP/LOOP/THREADS, or HTTP/LOOP/THREADS@CHECKOUT for another checkout's API
        given = [entry.partition("@") for entry in args.variants.split(",")]
        names = ["baseline" if i == 0 else f"{spec}@{Path(path).name}" if path else spec
                 for i, (spec, _, path) in enumerate(given)]  # fmt: skip
        variants = {name: spec for name, (spec, _, _) in zip(names, given, strict=True)}
        checkouts = {name: Path(path or Path.cwd()) for name, (_, _, path) in zip(names, given, strict=True)}
    servers = {
        name: start_api(checkout=path, index=index, engine=args.engine, variant=variants[name])
        for name, path in checkouts.items()
    }
    load = [os.getloadavg()[0]]
    in_process = InProcess(index, engine=args.engine)
    clients = {name: HttpAsker(port) for name, (_, port) in servers.items()}
    try:
        askers = {"edufed in-process": Asker(in_process)}
        if args.bare:
            askers = {"bare tantivy": Asker(bare_asker(index)), **askers}
        askers |= {f"HTTP, {name}": Asker(clients[name], pid=process.pid) for name, (process, _) in servers.items()}
        assert not args.baseline or BASELINE in askers
        latency, staged = interleaved(askers, rounds=args.rounds, staged=in_process) if args.rounds else ({}, {})
        load.append(os.getloadavg()[0])
        for client in clients.values():
            client.close()
        mixed = mix_pairs(servers, pairs=args.mix_pairs, clients=args.clients, requests=args.mix_requests,
                          probe=args.probe_health)  # fmt: skip
        load.append(os.getloadavg()[0])
    finally:
        in_process.backend.close()
        for client in clients.values():
            client.close()
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=60)
    alone = path_alone(checkouts, index=index, engine=args.engine, requests=args.requests, variants=variants)
    load.append(os.getloadavg()[0])
    return {"index": str(index), "engine": args.engine, "rounds": args.rounds, "checkouts": {k: str(v) for k, v in
            checkouts.items()}, "variants": variants, "http": latency, "stages_p50_ms": staged, "mix": mixed,
            "path_alone": alone, "load_1m": load}  # fmt: skip


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--index", required=True, help="a SQLite index file (with its derived engine index)")
    parser.add_argument("--baseline", help="another edufed checkout whose API answers the same queries in turn")
    parser.add_argument("--engine", default="tantivy", help="index.search_engine of both APIs")
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds over each class's queries")
    parser.add_argument("--requests", type=int, default=2000, help="requests to each API of the path alone")
    parser.add_argument("--bare", action="store_true", help="also time a bare tantivy index (built once)")
    parser.add_argument("--variants", help="compare this checkout's API served as HTTP/LOOP/THREADS,... instead")
    parser.add_argument("--mix-pairs", type=int, default=0, help="8-client mix runs on each API, in turn")
    parser.add_argument("--clients", type=int, default=8, help="clients of each mix run")
    parser.add_argument("--mix-requests", type=int, default=960, help="requests of each mix run")
    parser.add_argument("--probe-health", type=float, default=0.0, metavar="SECONDS",
                        help="during each mix run, a health request every SECONDS: its latency")  # fmt: skip
    parser.add_argument("--json", help="also write the result here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report(run(args), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
