"""The SQLite backend reads the stored records a result shows, and no others: ranking words typed apart over a
query's first 50 records reads their stored words alone, and the hits a search returns are whole (record,
highlight, also_on) and its own, whatever is written after it."""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.record import Record

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "contract"))
from contract_corpus import make_record  # noqa: E402

SIZE = 5
BOTH = make_record(
    "both", "家居花艺·下册", platform="lndx",
    description="花材的挑选与保鲜，花器的搭配。" * 8 + "最后一讲学习插花的基本造型。",
)  # fmt: skip
"""The one record holding both words of 插花 下册; bm25 ranks it below every ONE_PART record."""
ONE_PART = [
    make_record(f"one{n:02d}", f"插花技巧第{n}讲", platform=("le_ouchn", "smartedu")[n % 2], tags=["插花"],
                description="插花造型，插花花材，插花艺术。")
    for n in range(45)
]  # fmt: skip
"""Records saying 插花 many times in short texts, without 下册: most of the first 50 records ranked."""
OTHERS = [
    *(make_record(f"vol{n:02d}", f"{s}课程", platform="smartedu", description=f"{s}的基本方法。" * 12 + "见下册。")
      for n, s in enumerate(["电子琴弹奏", "手工编织", "家庭园艺"] * 3)),
    *(make_record(f"etc{n:03d}", f"{s}第{n}讲", description=f"{s}的课程。")
      for n, s in enumerate(["书法入门", "太极拳", "智能手机", "合唱基础"] * 50)),
]  # fmt: skip
"""Other subjects' courses naming 下册 once in a long text, and courses of neither word."""


def _whole(record: Record | None) -> object:
    """Every field of a record (its remembered analysis aside: a hit carries the stored one, `get` none)."""
    assert record is not None
    return record.model_dump(mode="json")


def _payload_reads(statements: list[str]) -> list[int]:
    """How many rows each traced statement reading `payloads` asked for."""
    return [len(re.findall(r"\d+", s.split(" IN (", 1)[1])) for s in statements if "FROM payloads" in s]


@pytest.fixture(params=["tantivy", "fts5"])
def backend(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SqliteBackend]:
    opened = SqliteBackend(tmp_path / "index.sqlite3", search_engine=request.param)
    opened.upsert([BOTH, *ONE_PART, *OTHERS])
    yield opened
    opened.close()


def test_a_reordered_page_reads_the_payloads_of_the_records_it_shows_only(backend: SqliteBackend) -> None:
    statements: list[str] = []
    conn: sqlite3.Connection = backend._search._connect()
    conn.set_trace_callback(statements.append)
    try:
        result = backend.search(SearchQuery(q="插花 下册", size=SIZE))
    finally:
        conn.set_trace_callback(None)
    assert result.total == 55
    assert [hit.record.uid for hit in result.hits][0] == BOTH.uid  # the ranking by words held moved it first
    assert result.hits[0].missing == () and all(hit.missing == ("下册",) for hit in result.hits[1:])
    reads = _payload_reads(statements)
    assert reads and sum(reads) == SIZE  # the page's records, once: never the first 50 records' payloads
    for hit in result.hits:
        assert _whole(hit.record) == _whole(backend.get(hit.record.uid))
        assert "<mark>" in hit.highlight["title"] + hit.highlight["description"]


def test_the_hits_of_a_search_are_read_on_its_snapshot(backend: SqliteBackend) -> None:
    result = backend.search(SearchQuery(q="插花", size=SIZE))
    shown = [hit.record.uid for hit in result.hits]
    stored = {uid: backend.get(uid) for uid in shown}
    backend.withdraw(shown)
    later = backend.search(SearchQuery(q="插花", size=SIZE))
    assert not set(shown) & {hit.record.uid for hit in later.hits}
    for hit in result.hits:  # read after the write, as the API reads them: whole, as they were
        assert _whole(hit.record) == _whole(stored[hit.record.uid])
        assert hit.uid == hit.record.uid and "<mark>" in hit.highlight["title"]
