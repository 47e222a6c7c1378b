"""Search-latency benchmark through the HTTP API: 8 concurrent clients, a mixed query set, p50/p90/p99.

Run from the checkout after bench_index has built an index (see bench/README.md):

    .venv/bin/python -m bench.bench_search --index bench/out/sqlite-1m.sqlite3
    .venv/bin/python -m bench.bench_search --es-url http://127.0.0.1:PORT   # noida-db kept up by bench_index

The API runs in a child process (`search_api.app.create_app` under uvicorn on a free loopback port, one
worker, as `edufed serve` runs it); the clients are threads here with keep-alive connections. For a SQLite
index the same terms then run as a bare ranked FTS5 query (`MATCH` + `bm25` top 10, nothing else) on the
same file, one at a time, as the yardstick the issue sets (API within 2x of it).
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from indexer.analysis import parse_query
from indexer.backends.sqlite_schema import BM25_WEIGHTS
from indexer.backends.sqlite_search import match_expression
from indexer.query_words import bundled_vocabulary

_ES_ALIAS = "edufed-bench"
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
DEEP: list[tuple[Params, int]] = [
    ([("q", "太极")], 30),
    ([("theme", "闲暇生活")], 30),
    ([("q", "茶艺"), ("sort", "newest")], 20),
]


def query_set() -> list[tuple[str, Params]]:
    """(kind, parameters) of every non-cursor query in the mix."""
    mix = [("two_char", [("q", w)]) for w in TWO_CHAR]
    mix += [("common", [("q", w)]) for w in COMMON] + [("phrase", [("q", p)]) for p in PHRASES]
    mix += [("filtered", p) for p in FILTERED] + [("browse", p) for p in BROWSE] + [("other", p) for p in OTHER]
    return mix


class Api:
    """A keep-alive HTTP client for one thread."""

    def __init__(self, port: int) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, params: Params) -> tuple[int, bytes]:
        path = "/api/v1/search?" + urllib.parse.urlencode(params)
        self._conn.request("GET", path)
        response = self._conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self._conn.close()


def deep_cursors(port: int) -> list[tuple[str, Params]]:
    """Follow next_cursor `depth` pages for each DEEP query (untimed); the deepest cursor joins the mix."""
    api = Api(port)
    found = []
    try:
        for params, depth in DEEP:
            cursor = None
            for _ in range(depth):
                status, body = api.get(params + ([("cursor", cursor)] if cursor else []))
                cursor = json.loads(body).get("next_cursor") if status == 200 else None
                if not cursor:
                    break
            if cursor:
                found.append(("deep_cursor", [*params, ("cursor", cursor)]))
    finally:
        api.close()
    return found


def run_clients(port: int, mix: list[tuple[str, Params]], *, clients: int, requests: int, seconds: float) -> dict:
    """`clients` threads send `requests` requests in all (random picks from `mix`), stopping after `seconds`."""
    timings: list[tuple[str, float]] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        rng = random.Random(index)
        api = Api(port)
        try:
            for _ in range(requests // clients):
                if time.monotonic() > deadline:
                    return
                kind, params = rng.choice(mix)
                before = time.perf_counter()
                status, _ = api.get(params)
                took = (time.perf_counter() - before) * 1000
                with lock:
                    (timings.append((kind, took)) if status == 200 else errors.append(f"{status} {params}"))
        finally:
            api.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    summary = {"all": percentiles([t for _, t in timings])}
    for kind in dict.fromkeys(k for k, _ in mix):
        summary[kind] = percentiles([t for k, t in timings if k == kind])
    return {"requests": len(timings), "errors": errors[:5], "error_count": len(errors),
            "throughput_rps": round(len(timings) / wall, 1), "latency_ms": summary}  # fmt: skip


def percentiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)

    return {"n": len(ordered), "p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": round(ordered[-1], 1)}


def bare_fts(index: Path, *, repeats: int, clients: int, exclude: Sequence[str] = ()) -> dict:
    """A bare ranked FTS5 top-10 (`MATCH` + `bm25`) for every text query of the mix, by `clients` threads."""
    weights = ", ".join(str(w) for w in BM25_WEIGHTS)
    sql = f"SELECT rowid, bm25(fts, {weights}) AS s FROM fts WHERE fts MATCH ? ORDER BY s LIMIT 10"
    vocabulary = bundled_vocabulary()
    texts = [
        (k, dict(p)["q"], match_expression(parse_query(dict(p)["q"], vocabulary=vocabulary)))
        for k, p in query_set()
        if "q" in dict(p)
    ]
    texts = [t for t in texts if t[0] not in exclude]
    timings: list[tuple[str, str, float]] = []
    lock = threading.Lock()

    def client(index_: int) -> None:
        conn = sqlite3.connect(f"file:{index}?mode=ro", uri=True, check_same_thread=False)
        try:
            for kind, q, match in texts[index_:] + texts[:index_]:  # clients start at different queries
                conn.execute(sql, (match,)).fetchall()  # warm the pages
                for _ in range(repeats):
                    before = time.perf_counter()
                    conn.execute(sql, (match,)).fetchall()
                    with lock:
                        timings.append((kind, q, (time.perf_counter() - before) * 1000))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    per_query = {q: round(statistics.median(t for _, q2, t in timings if q2 == q), 1) for _, q, _ in texts}
    kinds = dict.fromkeys(k for k, _, _ in texts)
    summary = {k: percentiles([t for k2, _, t in timings if k2 == k]) for k in kinds}
    return {"clients": clients, "median_ms_per_query": per_query,
            "latency_ms": {"all": percentiles([t for _, _, t in timings]), **summary}}  # fmt: skip


def hit_counts(index: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
    try:
        queries = [dict(p)["q"] for _, p in query_set() if "q" in dict(p)]
        sql = "SELECT count(*) FROM fts WHERE fts MATCH ?"
        vocabulary = bundled_vocabulary()
        return {
            q: conn.execute(sql, (match_expression(parse_query(q, vocabulary=vocabulary)),)).fetchone()[0]
            for q in queries
        }
    finally:
        conn.close()


def serve(args: argparse.Namespace) -> int:
    """Child process: the API over the index on 127.0.0.1:args.port until terminated."""
    import uvicorn

    from config.settings import IndexSettings, Settings
    from indexer.backends.base import IndexBackend
    from search_api.app import create_app

    backend: IndexBackend
    if args.es_url:
        from indexer.backends.elasticsearch import ElasticsearchBackend

        settings = Settings(index=IndexSettings(backend="elasticsearch", url=args.es_url, es_alias=_ES_ALIAS))
        backend = ElasticsearchBackend.from_settings(settings.index)
    else:
        from indexer.backends.sqlite import SqliteBackend

        index = Path(args.index)
        settings = Settings(data_dir=index.parent, index=IndexSettings(sqlite_file=index.name))
        backend = SqliteBackend(index)
    try:
        app = create_app(settings=settings, backend=backend)
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    finally:
        backend.close()
    return 0


def start_server(args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], int]:
    from tests.support.noida import free_port

    port = free_port()
    command = [sys.executable, "-m", "bench.bench_search", "--serve", "--port", str(port)]
    command += ["--es-url", args.es_url] if args.es_url else ["--index", args.index]
    process = subprocess.Popen(command)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"API process exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            conn.getresponse().read()
            conn.close()
            return process, port
        except OSError:
            time.sleep(0.1)  # the interval between polls while the server starts
    process.terminate()
    raise RuntimeError("API process did not answer within 120 s")


def measure(args: argparse.Namespace) -> dict:
    process, port = start_server(args)
    try:
        first = time.perf_counter()
        api = Api(port)
        api.get([("q", "健康")])  # the first search loads the facet columns
        api.close()
        result: dict = {"first_search_ms": round((time.perf_counter() - first) * 1000)}
        mix = [(k, p) for k, p in query_set() + deep_cursors(port) if k not in args.exclude]
        run_clients(port, mix, clients=args.clients, requests=min(200, args.requests), seconds=60)  # warm-up
        result["api_1_client"] = run_clients(port, mix, clients=1, requests=args.requests // 4, seconds=args.seconds)
        result["api"] = run_clients(port, mix, clients=args.clients, requests=args.requests, seconds=args.seconds)
    finally:
        process.terminate()
        process.wait(timeout=30)
    if not args.es_url:
        index = Path(args.index)
        result["hits"] = hit_counts(index)
        result["bare_fts5_1_client"] = bare_fts(index, repeats=args.bare_repeats, clients=1, exclude=args.exclude)
        result["bare_fts5_concurrent"] = bare_fts(
            index, repeats=max(1, args.bare_repeats // 4), clients=args.clients, exclude=args.exclude
        )
    return result


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="bench/out/index.sqlite3", help="SQLite index file")
    parser.add_argument("--es-url", default=None, help="Elasticsearch URL (index built by bench_index)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=1600, help="timed requests in all")
    parser.add_argument("--seconds", type=float, default=300, help="stop the timed run after this long")
    parser.add_argument("--exclude", nargs="*", default=[], help="query kinds to leave out, e.g. common")
    parser.add_argument("--bare-repeats", type=int, default=20)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        return serve(args)
    result = measure(args)
    result["command"] = " ".join(sys.argv)
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
