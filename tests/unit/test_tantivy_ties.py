"""A page whose last score is shared by more rows than the engine's first top-k fetch holds is fetched again larger
until the tie is whole, so ties order by uid on the tantivy engine as on FTS5's, by page number and by cursor."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SearchEngine, SqliteBackend
from indexer.backends.tantivy_search import _FIRST_FETCH, _GROWTH

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
from contract_corpus import make_record  # noqa: E402

TIED = _FIRST_FETCH * _GROWTH + 40
"""Records of one text (equal scores): more than two fetches hold."""


@pytest.fixture(scope="module", params=["tantivy", "fts5"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> SqliteBackend:
    engine: SearchEngine = request.param
    opened = SqliteBackend(tmp_path_factory.mktemp(engine) / "index.sqlite3", search_engine=engine)
    # written in a shuffled order (7919 is prime to TIED), so that rowids do not follow uids
    records = [make_record(f"t{(n * 7919) % TIED:04d}", "剪纸艺术", platform="lndx") for n in range(TIED)]
    opened.upsert([*records, make_record("top", "剪纸艺术 剪纸 剪纸技法")])
    yield opened
    opened.close()


def uids(backend: SqliteBackend, query: SearchQuery) -> list[str]:
    return [hit.record.uid for hit in backend.search(query).hits]


def test_tied_rows_past_the_first_fetches_are_paged_in_uid_order(backend: SqliteBackend) -> None:
    tied = sorted(f"lndx:t{n:04d}" for n in range(TIED))
    expected = ["le_ouchn:top", *tied]
    assert backend.search(SearchQuery(q="剪纸", size=10)).total == TIED + 1
    for page in (1, 2, _FIRST_FETCH // 10 + 1, TIED // 10):
        assert uids(backend, SearchQuery(q="剪纸", size=10, page=page)) == expected[(page - 1) * 10 : page * 10]
    by_cursor: list[str] = []
    cursor = None
    while True:
        result = backend.search(SearchQuery(q="剪纸", size=97, cursor=cursor))
        by_cursor += [hit.record.uid for hit in result.hits]
        if result.next_cursor is None:
            break
        cursor = result.next_cursor
    assert by_cursor == expected
