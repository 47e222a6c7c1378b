"""A theme's records tied at score 0 (a word none of them holds, filtered to the theme) page in uid order on both
SQLite engines, by page number and by cursor, when the tie is larger than a page reads whole: the FTS5 engine then
walks `docs`' uid index (sqlite_search._first_by_uid), the tantivy engine searches ordered by its uid column."""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.sqlite_search import TIES_READ

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import make_record  # noqa: E402

TIED = TIES_READ + 600
"""Records of the theme lacking the word: more than a page reads the uids of."""


def records() -> list:  # type: ignore[type-arg]
    made = [make_record(f"t{n:05d}", f"祖孙沟通第{n}课", themes=["代际沟通"]) for n in range(TIED)]
    made += [make_record(f"b{n}", f"书架整理{n}", themes=["代际沟通"]) for n in range(4)]  # hold 架 of 吵架
    made += [make_record(f"h{n:04d}", f"八段锦第{n}式", themes=["养生保健"]) for n in range(300)]
    random.Random(7).shuffle(made)  # rowids in another order than uids
    return made


@pytest.fixture(scope="module", params=["fts5", "tantivy"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteBackend]:
    opened = SqliteBackend(tmp_path_factory.mktemp(request.param) / "index.sqlite3", search_engine=request.param)
    opened.upsert(records())
    if request.param == "tantivy":
        opened.sync_engine()
    yield opened
    opened.close()


def query(**fields: object) -> SearchQuery:
    return SearchQuery(q="吵架", themes=("代际沟通",), with_facets=False, **fields)  # type: ignore[arg-type]


def test_the_tie_pages_in_uid_order_by_page_number_and_by_cursor(backend: SqliteBackend) -> None:
    first = backend.search(query(size=10))
    assert first.total == TIED + 4
    holders = [hit.record.source_id for hit in first.hits[:4]]
    assert sorted(holders) == ["b0", "b1", "b2", "b3"]  # the records holding a character of the word first
    tied = sorted(r.uid for r in records() if r.source_id.startswith("t"))
    expected = [hit.uid for hit in first.hits[:4]] + tied
    by_number = [hit.uid for page in range(1, 6) for hit in backend.search(query(size=10, page=page)).hits]
    assert by_number == expected[:50]
    deep = backend.search(query(size=10, page=200)).hits
    assert [hit.uid for hit in deep] == expected[1990:2000]
    by_cursor, cursor = [], None
    for _ in range(5):
        page = backend.search(query(size=10, cursor=cursor))
        by_cursor += [hit.uid for hit in page.hits]
        cursor = page.next_cursor
    assert by_cursor == expected[:50]
    last = backend.search(query(size=10, page=(TIED + 4) // 10 + 1)).hits
    assert [hit.uid for hit in last] == expected[(TIED + 4) // 10 * 10 :]
