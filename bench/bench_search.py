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
import json
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from bench.search_mix import (
    BARE_FTS5_SQL,
    Api,
    Params,
    bare_match,
    closed_loop,
    percentiles,
    query_set,
    sqlite_settings,
    start_server,
)

_ES_ALIAS = "edufed-bench"
DEEP: list[tuple[Params, int]] = [
    ([("q", "太极")], 30),
    ([("theme", "闲暇生活")], 30),
    ([("q", "茶艺"), ("sort", "newest")], 20),
]


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
    result = closed_loop(lambda _: Api(port), mix, clients=clients, requests=requests, seconds=seconds)
    del result["clients"]
    return result


def bare_fts(index: Path, *, repeats: int, clients: int, exclude: Sequence[str] = ()) -> dict:
    """A bare ranked FTS5 top-10 (`MATCH` + `bm25`) for every text query of the mix, by `clients` threads."""
    sql = BARE_FTS5_SQL
    texts = [(k, dict(p)["q"], bare_match(dict(p)["q"])) for k, p in query_set() if "q" in dict(p)]
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
        return {q: conn.execute(sql, (bare_match(q),)).fetchone()[0] for q in queries}
    finally:
        conn.close()


def serve(args: argparse.Namespace) -> int:
    """Child process: the API over the index on 127.0.0.1:args.port until terminated."""
    import uvicorn

    from config.settings import IndexSettings, Settings
    from crawlers.run_gc import freeze_started, serving_collections
    from indexer.backends import open_backend
    from indexer.backends.base import IndexBackend
    from search_api.app import create_app

    backend: IndexBackend
    if args.es_url:
        from indexer.backends.elasticsearch import ElasticsearchBackend

        settings = Settings(index=IndexSettings(backend="elasticsearch", url=args.es_url, es_alias=_ES_ALIAS))
        backend = ElasticsearchBackend.from_settings(settings.index)
    else:
        settings = sqlite_settings(Path(args.index), engine=args.engine)
        backend = open_backend(settings)
    try:
        app = create_app(settings=settings, backend=backend)
        serving_collections()  # as `edufed serve` does
        freeze_started()
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    finally:
        backend.close()
    return 0


def server_command(
    *, port: int, index: str | None = None, es_url: str | None = None, engine: str | None = None
) -> list[str]:
    """The command line of the API child process (`serve`) for a SQLite index file or an Elasticsearch URL."""
    command = [sys.executable, "-m", "bench.bench_search", "--serve", "--port", str(port)]
    command += ["--es-url", es_url] if es_url else ["--index", str(index)]
    return command + (["--engine", engine] if engine else [])


def start_api(args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], int]:
    from tests.support.noida import free_port

    port = free_port()
    command = server_command(port=port, index=args.index, es_url=args.es_url, engine=args.engine)
    return start_server(command, port=port, timeout=120), port


def measure(args: argparse.Namespace) -> dict:
    process, port = start_api(args)
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
    parser.add_argument("--engine", default=None, help="index.search_engine of the SQLite backend (default: its own)")
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
