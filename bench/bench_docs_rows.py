"""The reads of `docs` and the OAI-PMH change log that the compact rows change (layout 4: titles left out when they
are their folded title, hex content hashes as bytes; layout 5: the log's digest prefixes), timed paired on two
copies of one index, e.g. one of layout 3 and one converted:

    .venv/bin/python -m bench.bench_docs_rows LAYOUT3.sqlite3 CONVERTED.sqlite3 --rounds 7

Each query runs as the code of the file's layout (`meta`) runs it (the same SQL but for COALESCE(title,
title_fold), the hash decoding and the log's hash function), in alternating order each round, on connections
opened read-only; CPU time of this process per query (best and median over the rounds), the two files' answers
compared (they must be equal), and each statement's EXPLAIN QUERY PLAN on both files. The containing query
stands for the suggestions' FTS5 one by a scan of every 7th row. Prints one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from indexer.backends.sqlite_oai_layout import full_hash_bytes, hash_bytes
from indexer.backends.sqlite_schema import hash_text

PREFIXES = ("太极", "书法", "老年", "手机", "英语", "健康", "养生", "中医", "摄影", "舞蹈")
PINYIN = ("taiji", "shufa", "laonian", "yingyu", "jiankang")
CONTAINING = ("入门", "讲", "课堂", "提高", "精通")
SUGGEST = (
    "SELECT title FROM (SELECT {title} AS title, popularity FROM docs WHERE {key} >= ? AND {key} < ? LIMIT 2000) "
    "ORDER BY popularity DESC, title"
)
CONTAINS = (
    "SELECT title FROM (SELECT {title} AS title, d.title_fold AS title_fold, d.popularity AS popularity "
    "FROM docs d WHERE d.id % 7 = 0 LIMIT 2000) WHERE instr(title_fold, ?) > 0 ORDER BY popularity DESC, title"
)
STAMP_CHECK = (
    "SELECT count(*) FROM docs d WHERE d.gen = ? AND NOT EXISTS (SELECT 1 FROM oai_items i WHERE i.uid = d.uid "
    "AND i.deleted = 0 AND i.content_hash = oai_hash(d.content_hash) AND i.doc_id = d.id)"
)


def _queries(conn: sqlite3.Connection, *, layout: int) -> dict[str, Callable[[], Any]]:
    title = "title" if layout <= 3 else "COALESCE(title, title_fold)"
    decode = str if layout <= 3 else hash_text
    sources = [s for (s,) in conn.execute("SELECT DISTINCT source FROM docs ORDER BY source")]
    uids = [u for (u,) in conn.execute("SELECT uid FROM docs WHERE id % 97 = 0 ORDER BY id LIMIT 500")]
    (top_gen,) = conn.execute("SELECT MAX(gen) FROM docs").fetchone()

    def suggest() -> Any:
        found = []
        for prefix in PREFIXES:
            sql = SUGGEST.format(title=title, key="title_fold")
            found.append(conn.execute(sql, (prefix, prefix + "\U0010ffff")).fetchall())
        for prefix in PINYIN:
            sql = SUGGEST.format(title=title, key="title_pinyin")
            found.append(conn.execute(sql, (prefix, prefix + "~")).fetchall())
        return found

    def containing() -> Any:
        return [conn.execute(CONTAINS.format(title=title.replace("title", "d.title", 1)), (w,)).fetchall()
                for w in CONTAINING]  # fmt: skip

    def content_hashes() -> Any:
        sql = "SELECT uid, content_hash FROM docs WHERE source = ?"
        return [{str(u): decode(h) for u, h in conn.execute(sql, (s,))} for s in sources]

    def existing() -> Any:
        sql = f"SELECT id, uid, content_hash FROM docs WHERE uid IN ({', '.join('?' * len(uids))})"
        return {u: (i, decode(h)) for i, u, h in conn.execute(sql, uids)}

    def stamp_check() -> Any:
        return conn.execute(STAMP_CHECK, (top_gen,)).fetchall()

    return {"suggest_prefix_15": suggest, "suggest_containing_5": containing, "content_hashes_all_sources":
            content_hashes, "existing_500_uids": existing, "stamp_check_last_gen": stamp_check}  # fmt: skip


def _open(path: Path) -> tuple[int, sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    (layout,) = conn.execute("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema'").fetchone()
    conn.create_function("oai_hash", 1, full_hash_bytes if layout <= 4 else hash_bytes, deterministic=True)
    return int(layout), conn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    (old, old_conn), (new, new_conn) = _open(args.before), _open(args.after)
    conns = {old: old_conn, new: new_conn}
    queries = {layout: _queries(conn, layout=layout) for layout, conn in conns.items()}
    times: dict[str, dict[int, list[float]]] = {name: {old: [], new: []} for name in queries[old]}
    same: dict[str, bool] = {}
    for name in times:
        same[name] = queries[old][name]() == queries[new][name]()  # also warms each file's pages
    for round_ in range(args.rounds):
        for layout in (old, new) if round_ % 2 == 0 else (new, old):
            for name, run in queries[layout].items():
                started = time.process_time()
                run()
                times[name][layout].append(time.process_time() - started)
    plans = {}
    for name, sql in (("suggest", SUGGEST.format(title="title", key="title_fold")), ("stamp_check", STAMP_CHECK)):
        params = ("a", "b")[: sql.count("?")]
        plans[name] = {
            layout: [str(r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
            for layout, conn in conns.items()
        }
    result = {
        "rounds": args.rounds,
        "same_answers": same,
        "cpu_ms": {
            name: {
                f"layout{layout}": {"best": round(min(t) * 1000, 2), "median": round(statistics.median(t) * 1000, 2)}
                for layout, t in by_layout.items()
            }
            for name, by_layout in times.items()
        },  # fmt: skip
        "plans_equal": {name: p[old] == p[new] for name, p in plans.items()},
        "plans": {name: p[new] for name, p in plans.items()},
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
