"""Every answer of a varied query set, from the backend and through the API, to compare two checkouts byte for byte.

    cd /path/to/checkout && .venv/bin/python -m bench.search_answers --index COPY.sqlite3 --out answers.jsonl
    cmp before.jsonl after.jsonl

Run from each checkout (its code answers) on its own copy of the same index. The queries: the mix and the classes
of bench_engines, every subject word of the bench corpus, 40 seeded pairs of them, the first 30 words again with
collapse off and with 50 hits a page, words 30-50 on page 3, and pinyin, traditional, full-width and markup queries.
For each, one line with the backend's whole SearchResult (every record as JSON, scores as repr, highlights,
`missing`, also_on's whole records, the private analysis each record carries), one with the API's status and body
for the same parameters (`create_app` in this process, no server), and the bodies of the next two pages by cursor.
Nothing is timed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.bench_engines import classes
from bench.corpus import SUBJECTS
from bench.search_mix import Params, query_set, sqlite_settings

CURSOR_PAGES = 2
ODD_QUERIES = [
    "shufa",
    "taiji",
    "yingyu",
    "茶",
    "中醫養生",
    "ＡＩ",
    "ai 人工智能",
    "<b>书法</b>",
    "健康 老年 手机",
    "太极拳入门",
]


def queries() -> list[Params]:
    """The query set, in a fixed order."""
    found = [p for _, p in query_set()] + [p for queries in classes().values() for p in queries]
    words = sorted({w for subjects in SUBJECTS.values() for w in subjects})
    found += [[("q", w)] for w in words]
    pick = random.Random(7)
    found += [[("q", f"{a} {b}")] for a, b in (pick.sample(words, 2) for _ in range(40))]
    found += [[("q", w), ("collapse", "false")] for w in words[:30]]
    found += [[("q", w), ("size", "50")] for w in words[:30]]
    found += [[("q", w), ("page", "3")] for w in words[30:50]]
    return found + [[("q", q)] for q in ODD_QUERIES]


def search_query(params: Params) -> Any:
    """The SearchQuery of the API's parameters (those `queries` uses)."""
    from indexer.backends.base import SearchQuery

    values: dict[str, list[str]] = {}
    for name, value in params:
        values.setdefault(name, []).append(value)
    free = values.get("free", [None])[0]
    return SearchQuery(
        q=values.get("q", [""])[0], themes=tuple(values.get("theme", ())), audience=tuple(values.get("audience", ())),
        platforms=tuple(values.get("platform", ())), media_types=tuple(values.get("media_type", ())),
        is_free=None if free is None else free == "true", sort=values.get("sort", ["relevance"])[0],
        page=int(values.get("page", ["1"])[0]), size=int(values.get("size", ["10"])[0]),
    )  # fmt: skip


def whole(result: Any) -> dict[str, Any]:
    """A SearchResult as JSON, nothing left out."""
    return {
        "total": result.total, "facets": result.facets, "next_cursor": result.next_cursor,
        "relaxed": result.relaxed, "merged": result.merged,
        "hits": [
            {"record": h.record.model_dump(mode="json"), "score": repr(h.score), "highlight": h.highlight,
             "missing": list(h.missing), "also_on": [r.model_dump(mode="json") for r in h.also_on],
             "private": repr(h.record.__pydantic_private__)}
            for h in result.hits
        ],
    }  # fmt: skip


def run(args: argparse.Namespace) -> int:
    sys.path.insert(0, ".")
    from fastapi.testclient import TestClient

    from indexer.backends import open_backend
    from search_api.app import create_app

    settings = sqlite_settings(Path(args.index), engine=args.engine)
    backend = open_backend(settings)
    client = TestClient(create_app(settings=settings, backend=backend))
    try:
        with Path(args.out).open("w", encoding="utf-8") as out:
            for params in queries():
                found = whole(backend.search(search_query(params)))
                out.write(json.dumps(["backend", params, found], ensure_ascii=False, sort_keys=True) + "\n")
                url = "/api/v1/search?" + urllib.parse.urlencode(params)
                answer = client.get(url)
                out.write(json.dumps(["http", params, answer.status_code, answer.text], ensure_ascii=False) + "\n")
                for _ in range(CURSOR_PAGES):
                    cursor = answer.json().get("next_cursor") if answer.status_code == 200 else None
                    if not cursor:
                        break
                    answer = client.get(url + "&" + urllib.parse.urlencode({"cursor": cursor}))
                    line = ["http cursor", params, answer.status_code, answer.text]
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
    finally:
        backend.close()
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--index", required=True, help="this checkout's copy of a SQLite index file")
    parser.add_argument("--out", required=True, help="the JSON lines file to write")
    parser.add_argument("--engine", default="tantivy", help="index.search_engine")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(run(parse_args(None)))
