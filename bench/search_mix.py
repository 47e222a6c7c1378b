"""What the search benchmarks share: the query mix, a keep-alive API client, the API child process, load and
percentiles.

bench_search and bench_engines both draw their queries from `query_set()` and drive their clients through
`closed_loop` (each client sends its next request when the previous one is answered), so their figures mean the
same thing.
"""

from __future__ import annotations

import http.client
import json
import random
import sqlite3
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from config.settings import IndexSettings, Settings
from indexer.analysis import QueryTerm, parse_query
from indexer.backends.sqlite_schema import BM25_WEIGHTS
from indexer.backends.sqlite_search import match_expression
from indexer.match_plan import Plan, match_plan
from indexer.query_vocabulary import bundled_vocabulary

Params = list[tuple[str, str]]

TWO_CHAR = ["书法", "太极", "英语", "摄影", "瑜伽", "茶艺", "古筝", "京剧", "插花", "剪纸", "党史", "基金"]
"""Two-character words of a catalogue-typical selectivity (3k-20k of 1M records)."""
COMMON = ["健康", "养生", "理财", "手机", "入门", "老年"]
"""Words in 10%-80% of the generated records (template sentences): the worst case for any FTS5 query."""
PHRASES = ["中医养生", "智能手机应用", "太极拳 入门", "老年人权益保障", "零基础学 钢琴", "防范金融诈骗", "国画山水"]
FILTERED: list[Params] = [
    [("q", "书法"), ("theme", "闲暇生活"), ("platform", "lndx")],
    [("q", "太极"), ("theme", "养生保健"), ("free", "true")],
    [("q", "英语"), ("audience", "老年人"), ("media_type", "video")],
    [("q", "基金"), ("theme", "家庭理财"), ("theme", "法律法规"), ("sort", "newest")],
    [("q", "京剧"), ("platform", "le_ouchn"), ("sort", "popular")],
]
BROWSE: list[Params] = [
    [],
    [("theme", "养生保健")],
    [("platform", "shequ"), ("sort", "popular")],
    [("audience", "家长"), ("free", "false")],
]
OTHER: list[Params] = [[("q", "shufa")], [("q", "茶")], [("q", "瑜伽"), ("page", "5")]]

BARE_FTS5_SQL = (
    f"SELECT rowid, bm25(fts, {', '.join(str(w) for w in BM25_WEIGHTS)}) AS s FROM fts WHERE fts MATCH ? "
    "ORDER BY s LIMIT 10"
)
"""The bare ranked FTS5 top-10: the yardstick both benchmarks measure the backend against."""


def query_set() -> list[tuple[str, Params]]:
    """(kind, parameters) of every non-cursor query in the mix."""
    mix = [("two_char", [("q", w)]) for w in TWO_CHAR]
    mix += [("common", [("q", w)]) for w in COMMON] + [("phrase", [("q", p)]) for p in PHRASES]
    mix += [("filtered", p) for p in FILTERED] + [("browse", p) for p in BROWSE] + [("other", p) for p in OTHER]
    return mix


def bare_match(q: str) -> str:
    """The FTS5 MATCH string the backend builds for `q` with every term required (bundled query words)."""
    return match_expression(parse_query(q, vocabulary=bundled_vocabulary()))


class Plans:
    """The backend's query plan of each text (indexer.match_plan over the index's own document frequencies),
    computed once per text: what a bare engine must match to answer the same set of records as the backend."""

    def __init__(self, index: Path) -> None:
        self._conn = sqlite3.connect(f"file:{index}?mode=ro", uri=True, check_same_thread=False)
        self._conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.bench_rows USING fts5vocab(main, fts, row)")
        (self._records,) = self._conn.execute("SELECT count(*) FROM docs").fetchone()
        self._plans: dict[str, tuple[list[QueryTerm], Plan]] = {}
        self._lock = threading.Lock()

    def __call__(self, q: str) -> tuple[list[QueryTerm], Plan]:
        with self._lock:
            if q not in self._plans:
                terms = parse_query(q, vocabulary=bundled_vocabulary())
                self._plans[q] = terms, match_plan(terms, self._frequencies)
            return self._plans[q]

    def match(self, q: str) -> str:
        """The FTS5 MATCH string of the plan."""
        return match_expression(*self(q))

    def _frequencies(self, tokens: Sequence[str]) -> tuple[dict[str, int], int]:
        sql = "SELECT doc FROM temp.bench_rows WHERE term = ?"
        found = {t: int(row[0]) for t in tokens if (row := self._conn.execute(sql, (t,)).fetchone()) is not None}
        return found, int(self._records)

    def close(self) -> None:
        self._conn.close()


def label(params: Params) -> str:
    """A query's name in reports: its URL parameters, or `(browse all)` for none."""
    return urllib.parse.unquote(urllib.parse.urlencode(params)) or "(browse all)"


class Client(Protocol):
    """One closed-loop client: answers one query at a time."""

    def ask(self, params: Params) -> bool:
        """Run the query; False when it failed (counted as an error, not timed)."""
        ...

    def close(self) -> None: ...


class Api:
    """A keep-alive HTTP client for one thread."""

    def __init__(self, port: int) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, params: Params) -> tuple[int, bytes]:
        path = "/api/v1/search?" + urllib.parse.urlencode(params)
        try:
            self._conn.request("GET", path)
            response = self._conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # the server closed the connection after its keep-alive timeout (uvicorn: 5 s idle): ask again on a new one
            self._conn.close()
            self._conn.request("GET", path)
            response = self._conn.getresponse()
        return response.status, response.read()

    def ask(self, params: Params) -> bool:
        status, _ = self.get(params)
        return status == 200

    def answer(self, params: Params) -> dict[str, Any]:
        """The search's total and facets (raises on any status but 200)."""
        status, body = self.get(params)
        if status != 200:
            raise RuntimeError(f"API answered {status} to {label(params)}: {body[:200]!r}")
        found = json.loads(body)
        return {"total": found["total"], "facets": found["facets"]}

    def close(self) -> None:
        self._conn.close()


def closed_loop(
    open_client: Callable[[int], Client],
    mix: Sequence[tuple[str, Params]],
    *,
    clients: int,
    requests: int,
    seconds: float,
) -> dict[str, Any]:
    """`clients` threads send `requests` requests in all (random picks from `mix`, a fixed seed per client),
    stopping after `seconds`: throughput, and latency percentiles over all and per kind."""
    timings: list[tuple[str, float]] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        rng = random.Random(index)
        worker = open_client(index)
        try:
            for _ in range(requests // clients):
                if time.monotonic() > deadline:
                    return
                kind, params = rng.choice(mix)
                before = time.perf_counter()
                ok = worker.ask(params)
                took = (time.perf_counter() - before) * 1000
                with lock:
                    (timings.append((kind, took)) if ok else errors.append(label(params)))
        finally:
            worker.close()

    wall = run_clients(client, clients)
    summary = {"all": percentiles([t for _, t in timings])}
    for kind in dict.fromkeys(k for k, _ in mix):
        summary[kind] = percentiles([t for k, t in timings if k == kind])
    return {"clients": clients, "requests": len(timings), "errors": errors[:5], "error_count": len(errors),
            "throughput_rps": round(len(timings) / wall, 1), "latency_ms": summary}  # fmt: skip


def run_clients(client: Callable[[int], None], clients: int) -> float:
    """Run `client(0)` .. `client(clients - 1)` in as many threads at once; the wall seconds until all are done."""
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def one_at_a_time(client: Client, queries: Sequence[Params], *, repeats: int) -> dict[str, Any]:
    """Every query `repeats` times, round robin, one at a time: latency percentiles over all of them."""
    timings: list[float] = []
    errors = 0
    for _ in range(repeats):
        for params in queries:
            before = time.perf_counter()
            ok = client.ask(params)
            took = (time.perf_counter() - before) * 1000
            if ok:
                timings.append(took)
            else:
                errors += 1
    return {**percentiles(timings), "errors": errors}


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """n, p50, p90, p99 and max (nearest rank) in ms, to 0.01 (a bare engine answers some queries in 0.1 ms)."""
    if not values:
        return {}
    ordered = sorted(values)

    def at(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

    return {"n": len(ordered), "p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": round(ordered[-1], 2)}


def sqlite_settings(index: Path, *, engine: str | None = None) -> Settings:
    """Settings for the SQLite index file `index` (its directory is the data directory), with the search engine
    `index.search_engine` names when `engine` is given; a clear error when this checkout has no such setting."""
    fields: dict[str, Any] = {"sqlite_file": index.name}
    if engine is not None:
        if "search_engine" not in IndexSettings.model_fields:
            if engine != "fts5":
                raise SystemExit(f"this checkout has no index.search_engine setting: engine {engine!r} does not exist")
        else:
            fields["search_engine"] = engine
    return Settings(data_dir=index.parent, index=IndexSettings(**fields))


def start_server(command: list[str], *, port: int, timeout: float = 600) -> subprocess.Popen[bytes]:
    """Start `command` (an API child process listening on 127.0.0.1:port) and wait until /api/v1/health answers."""
    process = subprocess.Popen(command)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"API process exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            conn.getresponse().read()
            conn.close()
            return process
        except OSError:
            time.sleep(0.1)  # the interval between polls while the server starts
    process.terminate()
    raise RuntimeError(f"API process did not answer within {timeout:.0f} s")


def rss_mb(pid: int | str = "self") -> dict[str, float]:
    """Resident set size now and at its peak (VmRSS, VmHWM) of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS", 0.0), "peak_rss_mb": fields.get("VmHWM", 0.0)}


def report(result: object, json_path: str | None) -> None:
    """A benchmark's result as one JSON line on stdout, and in `json_path` too when given."""
    line = json.dumps(result, ensure_ascii=False)
    if json_path:
        Path(json_path).write_text(line + "\n", encoding="utf-8")
    print(line)
