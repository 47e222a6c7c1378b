"""Side-by-side search benchmark of issue 17: bare tantivy, the bare FTS5 query and the edufed backend per engine.

Run from the checkout on an index bench_index built (see bench/README.md):

    .venv/bin/python -m bench.bench_engines --index bench/out/sqlite-1m.sqlite3 --engines fts5,tantivy

One run measures, on the same records and the same query mix (bench.search_mix), each column in a child
process of its own (so each has its own memory): a bare tantivy index of the SQLite index's own tokens
(bench.bare_tantivy, built once next to it) queried twice, counting theme and audience as values of
multi-valued fields (`bare tantivy`, the issue's yardstick) and over whole-mask fields as the backend counts them
(`bare tantivy, masks`: the same counts), the bare ranked FTS5 top-10 on the SQLite file (both matching
what the backend's query plan requires, `search_mix.Plans`), and for each
`index.search_engine` this checkout has, the edufed backend in-process (`open_backend` + `IndexBackend.search`)
and through the HTTP API (bench_search's uvicorn child). Each column runs every query once untimed (its
answers: total and facets), then the query classes one at a time, then 8 concurrent clients on the full mix,
and reports the RSS of the process that answered them. Each cell's ratio is to the yardstick column,
`--yardstick multi` (the default) or `masks`.

The backend keeps its latest results by (query, index generation): every timed edufed request carries an
invisible suffix on `q` (zero-width characters the query parser drops, a different one per request until 511
have passed), so none is answered from that memory; the untimed pass checks that the suffix changes no answer.

The edufed backend reads the index through a hard link in a data directory of its own
(`bench/out/edufed-<name>/index.sqlite3`), so whatever files an engine derives there count in its disk figure.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.bench_index import directory_bytes
from bench.engines_table import BARE_TANTIVY, BARE_TANTIVY_MASKS, compared, table
from bench.search_mix import (
    BARE_FTS5_SQL,
    BROWSE,
    FILTERED,
    OTHER,
    PHRASES,
    TWO_CHAR,
    Api,
    Client,
    Params,
    Plans,
    closed_loop,
    label,
    one_at_a_time,
    query_set,
    rss_mb,
    sqlite_settings,
    start_server,
)  # fmt: skip

COMMON_FIVE = ["老年", "健康", "手机", "入门", "养生"]
"""The common words of issue 17's table (bench_search's COMMON also has 理财, which the full mix keeps)."""
INDEX_NAME = "index.sqlite3"
_ZERO_WIDTH = ("\u200b", "\u200c")
_SUFFIX_BITS = 9


def classes() -> dict[str, list[Params]]:
    """The query classes timed one at a time, by the name the table rows use."""
    typical = [[("q", w)] for w in TWO_CHAR + PHRASES] + [p for p in OTHER if dict(p).get("q")]
    return {"common": [[("q", w)] for w in COMMON_FIVE], "typical": typical, "browse": BROWSE, "filtered": FILTERED}


def text_only(queries: Sequence[Params]) -> list[Params]:
    """The queries with text and no filters: those a bare FTS5 query can answer."""
    return [p for p in queries if dict(p).get("q") and all(n in ("q", "page") for n, _ in p)]


def suffix(n: int) -> str:
    """The n-th invisible query suffix (n ≥ 1), one of 511 distinct ones."""
    n = (n - 1) % (2**_SUFFIX_BITS - 1) + 1
    return "".join(_ZERO_WIDTH[n >> bit & 1] for bit in range(_SUFFIX_BITS))


def varied(params: Params, n: int) -> Params:
    """The same query with the n-th invisible suffix on `q` (added when there is none)."""
    if not any(name == "q" for name, _ in params):
        return [("q", suffix(n)), *params]
    return [(name, value + suffix(n) if name == "q" else value) for name, value in params]


class Varying:
    """Numbers every request of a column (1, 2, ...): the suffix of the next `varied` query."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def __call__(self, params: Params) -> Params:
        return varied(params, next(self._counter))


class VariedApi:
    """One HTTP client of a column: each query it sends carries the column's next suffix (`Varying`)."""

    def __init__(self, port: int, vary: Varying) -> None:
        self.api = Api(port)
        self.vary = vary

    def ask(self, params: Params) -> bool:
        return self.api.ask(self.vary(params))

    def close(self) -> None:
        self.api.close()


# --- the columns, each a part run in its own child process -------------------------------------------------


def part_bare_tantivy(args: argparse.Namespace, *, masks: bool = False) -> dict[str, Any]:
    from bench.bare_tantivy import BareTantivy

    directory = Path(args.tantivy_dir)
    plans = Plans(Path(args.data_dir) / INDEX_NAME)
    local = threading.local()

    def searcher() -> BareTantivy:
        if not hasattr(local, "searcher"):
            local.searcher = BareTantivy(directory, plans=plans, masks=masks)
        found: BareTantivy = local.searcher
        return found

    class Tantivy:
        def __init__(self, *, facets: bool) -> None:
            self.facets = facets

        def ask(self, params: Params) -> bool:
            searcher().answer(params, with_facets=self.facets)
            return True

        def close(self) -> None:
            return None

    answers = {label(p): searcher().answer(p) for _, p in query_set()}
    result = _timed(args, lambda facets: Tantivy(facets=facets), top10=True)
    return {"answers": answers, **result, "disk_mb": _megabytes(directory_bytes(directory))}


def part_bare_fts5(args: argparse.Namespace) -> dict[str, Any]:
    index = Path(args.data_dir) / INDEX_NAME
    plans = Plans(index)
    local = threading.local()

    def connection() -> sqlite3.Connection:
        if not hasattr(local, "conn"):
            local.conn = sqlite3.connect(f"file:{index}?mode=ro", uri=True, check_same_thread=False)
        found: sqlite3.Connection = local.conn
        return found

    class Fts5:
        def ask(self, params: Params) -> bool:
            connection().execute(BARE_FTS5_SQL, (plans.match(dict(params)["q"]),)).fetchall()
            return True

        def close(self) -> None:
            return None

    count = "SELECT count(*) FROM fts WHERE fts MATCH ?"
    texts = text_only([p for _, p in query_set()])
    answers = {label(p): {"total": connection().execute(count, (plans.match(dict(p)["q"]),)).fetchone()[0]}
               for p in texts}  # fmt: skip
    one = {f"{name}_top10": one_at_a_time(Fts5(), text_only(queries), repeats=args.repeats)
           for name, queries in classes().items() if text_only(queries)}  # fmt: skip
    mix = [(k, p) for k, p in query_set() if p in texts]
    loop = closed_loop(lambda _: Fts5(), mix, clients=args.clients, requests=args.requests, seconds=args.seconds)
    return {"answers": answers, "one_client": one, "mix": loop, "mix_note": "text queries of the mix only, top 10",
            "rss_after_mix_mb": rss_mb()["rss_mb"], "disk_mb": _megabytes(directory_bytes(index))}  # fmt: skip


def part_edufed(args: argparse.Namespace) -> dict[str, Any]:
    from crawlers.run_gc import freeze_started, serving_collections
    from indexer.backends import open_backend
    from indexer.backends.base import SearchQuery

    before = time.perf_counter()
    backend = open_backend(sqlite_settings(Path(args.data_dir) / INDEX_NAME, engine=args.engine))
    sync_engine = getattr(backend, "sync_engine", None)
    if callable(sync_engine):  # a fresh data directory's derived index is built here (minutes at 1M), not in a search
        sync_engine(wait=args.open_timeout)
    opened = time.perf_counter() - before
    serving_collections()  # the collector as `edufed serve` sets it, the HTTP column's too
    freeze_started()
    vary = Varying()
    failures: list[str] = []

    def search(params: Params, *, facets: bool) -> Any:
        return backend.search(search_query(params, facets=facets, query_type=SearchQuery))

    class InProcess:
        def __init__(self, *, facets: bool) -> None:
            self.facets = facets

        def ask(self, params: Params) -> bool:
            try:
                search(vary(params), facets=self.facets)
            except Exception as exc:  # counted and reported: the run goes on
                failures.append(f"{label(params)}: {exc!r}")
                return False
            return True

        def close(self) -> None:
            return None

    try:
        before = time.perf_counter()
        search([("q", "健康")], facets=True)
        first = time.perf_counter() - before
        answers, suffix_changed = {}, []
        for _, params in query_set():
            plain = search(params, facets=True)
            answers[label(params)] = {"total": plain.total, "facets": plain.facets}
            if _gist(search(vary(params), facets=True)) != _gist(plain):
                suffix_changed.append(label(params))
        result = _timed(args, lambda facets: InProcess(facets=facets), top10=True)
    finally:
        backend.close()
    return {"engine": args.engine, "open_seconds": round(opened, 2), "first_search_ms": round(first * 1000),
            "answers": answers, "suffix_changed_answer": suffix_changed, **result, "failures": failures[:5],
            "disk_mb": _megabytes(directory_bytes(Path(args.data_dir)))}  # fmt: skip


def _gist(result: Any) -> tuple[Any, ...]:
    return result.total, result.facets, [hit.record.uid for hit in result.hits]


def search_query(params: Params, *, facets: bool, query_type: Any) -> Any:
    """The SearchQuery the API builds for these parameters (bench_search's mix uses no others)."""
    found: dict[str, Any] = {"with_facets": facets}
    plural = {"theme": "themes", "platform": "platforms", "audience": "audience", "media_type": "media_types"}
    for name, value in params:
        if name in plural:
            found[plural[name]] = (*found.get(plural[name], ()), value)
        elif name == "free":
            found["is_free"] = value == "true"
        elif name == "page":
            found["page"] = int(value)
        else:
            found[name] = value
    return query_type(**found)


def _timed(args: argparse.Namespace, client: Callable[[bool], Client], *, top10: bool) -> dict[str, Any]:
    """The classes one at a time (with facets, and top-10 only when `top10`), then the mix by `args.clients`;
    with the RSS of this process after the mix."""
    one = {}
    for name, queries in classes().items():
        one[f"{name}_facets" if name in ("common", "typical") else name] = one_at_a_time(
            client(True), queries, repeats=args.repeats
        )
        if top10 and name in ("common", "typical"):
            one[f"{name}_top10"] = one_at_a_time(client(False), queries, repeats=args.repeats)
    loop = closed_loop(lambda _: client(True), query_set(), clients=args.clients, requests=args.requests,
                       seconds=args.seconds)  # fmt: skip
    return {"one_client": one, "mix": loop, "rss_after_mix_mb": rss_mb()["rss_mb"]}


# --- the HTTP column, run from here against the API child --------------------------------------------------


def column_http(args: argparse.Namespace, engine: str) -> dict[str, Any]:
    """The API over the column's index; with `--api-processes N`, N API children on N ports reading the same file
    (as several serving processes behind one address would), the mix's clients taking them in turn."""
    from bench.bench_search import server_command
    from tests.support.noida import free_port

    command_for = functools.partial(server_command, index=str(Path(args.data_dir) / INDEX_NAME), engine=engine)
    before = time.perf_counter()
    ports: list[int] = []
    processes: list[subprocess.Popen[bytes]] = []
    vary = Varying()
    try:
        for _ in range(args.api_processes):
            ports.append(free_port())  # asked after the previous child holds its port
            processes.append(start_server(command_for(port=ports[-1]), port=ports[-1], timeout=args.open_timeout))
        started = time.perf_counter() - before
        api = Api(ports[0])
        answers = {label(p): api.answer(p) for _, p in query_set()}
        api.close()
        one: dict[str, Any] = {}
        for name, queries in classes().items():
            single = VariedApi(ports[0], vary)
            try:
                one[f"{name}_facets" if name in ("common", "typical") else name] = one_at_a_time(
                    single, queries, repeats=args.repeats
                )
            finally:
                single.close()  # its keep-alive connection, which the child would otherwise hold open
        served = [0] * len(ports)
        lock = threading.Lock()

        def mix_client(index: int) -> VariedApi:
            with lock:
                served[index % len(ports)] += 1
            return VariedApi(ports[index % len(ports)], vary)

        loop = closed_loop(mix_client, query_set(), clients=args.clients, requests=args.requests,
                           seconds=args.seconds)  # fmt: skip
        rss = [rss_mb(process.pid) for process in processes]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
    return {"engine": engine, "api_processes": len(ports), "mix_clients_per_process": served,
            "start_seconds": round(started, 1), "answers": answers, "one_client": one, "mix": loop,
            "rss_after_mix_mb": round(sum(r["rss_mb"] for r in rss), 1),
            "peak_rss_mb": round(sum(r["peak_rss_mb"] for r in rss), 1),
            "disk_mb": _megabytes(directory_bytes(Path(args.data_dir)))}  # fmt: skip


# --- the run ------------------------------------------------------------------------------------------------


def available_engines() -> list[str]:
    """The values of `index.search_engine` this checkout accepts (only today's FTS5 path if it has no such key)."""
    from typing import get_args

    from config.settings import IndexSettings

    field = IndexSettings.model_fields.get("search_engine")
    return list(get_args(field.annotation)) if field is not None else ["fts5"]


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    """The edufed data directory (a hard link to the index, its WAL checkpointed first) and the bare tantivy
    index (built unless one stamped for this file is there)."""
    index, data_dir = Path(args.index), Path(args.data_dir)
    if not index.is_file():
        raise SystemExit(f"no index at {index}: build it first (bench/README.md, bench_index sqlite)")
    conn = sqlite3.connect(index)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    keep_fts5_index(index)
    data_dir.mkdir(parents=True, exist_ok=True)
    linked = data_dir / INDEX_NAME
    if not linked.exists() or not linked.samefile(index):
        linked.unlink(missing_ok=True)
        os.link(index, linked)
    return _child(args, "build_tantivy")


def keep_fts5_index(index: Path) -> None:
    """The bare FTS5 column and the plans every bare column runs (search_mix.Plans: fts5vocab's frequencies) read
    the file's FTS5 index, which an earlier run's tantivy engine column dropped (sqlite_text.keep_fts_index): the
    fts5 engine indexes every stored text again (minutes at 1M records), and the tantivy column drops it at the
    end of the run."""
    conn = sqlite3.connect(index)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'fts_index'").fetchone()
    finally:
        conn.close()
    if row is not None and row[0] == "dropped":
        from indexer.backends.sqlite import SqliteBackend

        print(f"indexing the texts of {index} into FTS5 again", file=sys.stderr, flush=True)
        SqliteBackend(index, search_engine="fts5").close()


def part_build_tantivy(args: argparse.Namespace) -> dict[str, Any]:
    from bench.bare_tantivy import ensure_built

    before = time.perf_counter()
    result = ensure_built(Path(args.data_dir) / INDEX_NAME, Path(args.tantivy_dir))
    return {**result, "seconds": round(time.perf_counter() - before, 1), "peak_rss_mb": rss_mb()["peak_rss_mb"]}


PARTS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "build_tantivy": part_build_tantivy,
    "bare_tantivy": part_bare_tantivy,
    "bare_tantivy_masks": functools.partial(part_bare_tantivy, masks=True),
    "bare_fts5": part_bare_fts5,
    "edufed": part_edufed,
}


def _child(args: argparse.Namespace, part: str, *, engine: str | None = None) -> dict[str, Any]:
    """Run one part in a child process; its result is the last line it prints."""
    command = [sys.executable, "-m", "bench.bench_engines", "--part", part, *_shared(args)]
    command += ["--engine", engine] if engine else []
    done = subprocess.run(command, stdout=subprocess.PIPE, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"part {part} {engine or ''} exited with {done.returncode}")
    found: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return found


def _shared(args: argparse.Namespace) -> list[str]:
    names = ("index", "data_dir", "tantivy_dir", "repeats", "clients", "requests", "seconds", "open_timeout")
    return [item for name in names for item in (f"--{name.replace('_', '-')}", str(getattr(args, name)))]


@contextmanager
def load_sampled(every: float = 5.0) -> Iterator[list[float]]:
    """The 1-minute load average every `every` seconds while the block runs (the machine may be shared)."""
    samples: list[float] = [os.getloadavg()[0]]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(every):
            samples.append(os.getloadavg()[0])

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()
        samples.append(os.getloadavg()[0])


def run(args: argparse.Namespace) -> dict[str, Any]:
    have = available_engines()
    result: dict[str, Any] = {"command": " ".join(["python -m bench.bench_engines", *sys.argv[1:]]),
                              "engines_available": have}  # fmt: skip
    columns: list[tuple[str, dict[str, Any]]] = []
    with load_sampled() as load:
        result["bare_tantivy_build"] = prepare(args)
        columns.append((BARE_TANTIVY, _child(args, "bare_tantivy")))
        columns.append((BARE_TANTIVY_MASKS, _child(args, "bare_tantivy_masks")))
        columns.append(("bare FTS5", _child(args, "bare_fts5")))
        for engine in args.engines:
            if engine not in have:
                why = f"index.search_engine has no {engine!r} in this checkout"
                columns += [(f"edufed {engine}, {way}", {"pending": why}) for way in ("in-process", "HTTP")]
                continue
            columns.append((f"edufed {engine}, in-process", _child(args, "edufed", engine=engine)))
            http = "HTTP" if args.api_processes == 1 else f"HTTP, {args.api_processes} API processes"
            columns.append((f"edufed {engine}, {http}", column_http(args, engine)))
    reference = columns[0][1]["answers"]
    for _, part in columns[1:]:
        if "answers" in part:
            part["compared"] = compared(reference, part["answers"])
    result["load_average_1m"] = {"min": min(load), "mean": round(sum(load) / len(load), 2), "max": max(load)}
    result["columns"] = dict(columns)
    result["yardstick"] = BARE_TANTIVY_MASKS if args.yardstick == "masks" else BARE_TANTIVY
    return result


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="bench/out/sqlite-1m.sqlite3", help="SQLite index bench_index built")
    parser.add_argument("--engines", default="fts5,tantivy", help="index.search_engine values, comma-separated")
    parser.add_argument("--data-dir", default=None, help="edufed's data directory (default bench/out/edufed-NAME)")
    parser.add_argument("--tantivy-dir", default=None, help="bare tantivy index (default bench/out/tantivy-NAME)")
    parser.add_argument("--repeats", type=int, default=8, help="times each query of a class runs one at a time")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (threads) on the full mix")
    parser.add_argument("--requests", type=int, default=800, help="requests of the concurrent mix, in all")
    parser.add_argument("--seconds", type=float, default=120, help="stop the concurrent mix after this long")
    parser.add_argument("--open-timeout", type=float, default=900, help="longest wait for the API to start")
    parser.add_argument("--api-processes", type=int, default=1,
                        help="API processes of the HTTP column (own ports; the mix's clients in turn)")  # fmt: skip
    parser.add_argument("--json", default=None, help="also write the whole result as JSON to this file")
    parser.add_argument("--yardstick", choices=("multi", "masks"), default="multi",
                        help="the bare tantivy column the ratios are to: theme and audience counted as multi-valued "
                             "fields (the issue's) or over whole masks (as the backend counts them)")  # fmt: skip
    parser.add_argument("--part", choices=sorted(PARTS), help=argparse.SUPPRESS)
    parser.add_argument("--engine", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    stem = Path(args.index).name.removesuffix(".sqlite3")
    out = Path(args.index).parent
    args.data_dir = args.data_dir or str(out / f"edufed-{stem}")
    args.tantivy_dir = args.tantivy_dir or str(out / f"tantivy-{stem}")
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.part:
        sys.stdout.write(json.dumps(PARTS[args.part](args), ensure_ascii=False) + "\n")
        return 0
    result = run(args)
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    records = result["bare_tantivy_build"].get("records")
    rendered = table(list(result["columns"].items()), records=records, base_name=result.get("yardstick", BARE_TANTIVY))
    sys.stdout.write(report(result, rendered) + "\n")
    return 0


def report(result: dict[str, Any], rendered: str) -> str:
    """The table, then the run's conditions and every disagreement with bare tantivy."""
    load = result["load_average_1m"]
    yardstick = result.get("yardstick", BARE_TANTIVY)
    lines = [rendered, "", f"`{result['command']}`; 1-minute load average during the run: "
             f"{load['min']:.2f}–{load['max']:.2f} (mean {load['mean']:.2f}); ratios to `{yardstick}`."]  # fmt: skip
    for name, part in result["columns"].items():
        for found in part.get("compared", {}).get("disagreements", []):
            lines.append(f"- {name} disagrees on {found['query']} ({found['field']}): "
                         f"bare tantivy {found['bare tantivy']}, {name} {found['other']}")  # fmt: skip
        if part.get("suffix_changed_answer"):
            lines.append(f"- {name}: the invisible suffix changed the answer of {part['suffix_changed_answer']}")
    return "\n".join(lines)


def _megabytes(count: int) -> float:
    return round(count / 1_048_576, 1)


if __name__ == "__main__":
    sys.exit(main())
