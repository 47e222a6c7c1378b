"""Contract: pinyin of whole words typed any way, and ranking that keeps the courses a specific word finds."""

from __future__ import annotations

import pytest
from contract_corpus import make_record

from indexer.backends.base import IndexBackend, SearchQuery

EXTRA = [
    make_record("bd1", "八段锦养生功", themes=["养生保健"], description="站式八段锦，舒筋活络。"),
    make_record("bd2", "学练八段锦", platform="lndx", themes=["养生保健"]),
    make_record("xa1", "西安历史文化", themes=["科学文化"]),
]
"""Records beside the shared corpus: 八段锦 (the cut keeps it whole in one title, not in another) and a
pinyin reading that other syllables could also spell (西安: xi an, typed xian or xi'an)."""


@pytest.fixture
def catalogue(loaded: IndexBackend) -> IndexBackend:
    loaded.upsert(EXTRA)
    return loaded


def _found(backend: IndexBackend, q: str) -> list[str]:
    result = backend.search(SearchQuery(q=q, size=100))
    return [h.record.source_id for h in result.hits]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("guangchangwu", {"gc1"}),  # 广场舞, which the cut splits 广场 + 舞
        ("guang chang wu", {"gc1"}),
        ("tai ji quan", {"tj1", "tj2"}),
        ("ba duan jin", {"bd1", "bd2"}),
        ("xi'an", {"xa1"}),
    ],
)
def test_pinyin_of_a_whole_word_finds_it_spaced_or_not(catalogue: IndexBackend, q: str, expected: set[str]) -> None:
    assert expected <= set(_found(catalogue, q))


def test_pinyin_typed_with_spaces_finds_what_the_unspaced_pinyin_finds(catalogue: IndexBackend) -> None:
    assert set(_found(catalogue, "shu fa")) == set(_found(catalogue, "shufa")) >= {"sf1", "sf2", "sf4", "sf5"}
    assert set(_found(catalogue, "ba duan jin")) == set(_found(catalogue, "baduanjin"))
    assert "gc1" not in _found(catalogue, "wu chang guang")  # syllables keep their order


def test_spaced_pinyin_highlights_the_word_it_spells(catalogue: IndexBackend) -> None:
    hits = {h.record.source_id: h for h in catalogue.search(SearchQuery(q="guang chang wu", size=10)).hits}
    assert "<mark>广场舞</mark>" in hits["gc1"].highlight["title"]


BEGINNERS = [
    make_record(f"rm{n}", f"{topic}入门", description=f"{topic}的基础知识。")
    for n, topic in enumerate(["围棋", "摄像", "剪纸", "编织", "花卉", "烘焙", "葫芦丝", "瑜伽", "象棋", "声乐"])
]
"""More courses for beginners, so that 入门 is as common a word here as in a real catalogue."""
GUQIN = make_record("gq9", "古琴名曲赏析", platform="lndx", description="《流水》《广陵散》的演奏与欣赏。")


@pytest.fixture
def courses(catalogue: IndexBackend) -> IndexBackend:
    catalogue.upsert([*BEGINNERS, GUQIN])
    return catalogue


def test_a_specific_word_finds_its_courses_without_the_generic_one(courses: IndexBackend) -> None:
    result = courses.search(SearchQuery(q="古琴 入门", size=100))
    found = [h.record.source_id for h in result.hits]
    assert found[0] == "gq1" and "gq9" in found  # 古琴入门 first, then 古琴 without 入门
    assert not {h.record.source_id for h in result.hits} & {r.source_id for r in BEGINNERS}  # 入门 alone: no
    assert [h.missing for h in result.hits if h.record.source_id == "gq9"] == [("入门",)]
    assert not result.relaxed  # the page holds a record with every word


def test_a_page_of_records_lacking_some_word_is_relaxed(courses: IndexBackend) -> None:
    result = courses.search(SearchQuery(q="古琴 入门", size=1, cursor=None))
    following = courses.search(SearchQuery(q="古琴 入门", size=10, cursor=result.next_cursor))
    assert not result.relaxed and following.relaxed and following.hits[0].record.source_id == "gq9"
