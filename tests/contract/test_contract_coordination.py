"""Contract: words typed apart rank the records holding more of what was typed first, on every page.

A learner types 插花 下册: the second volume of a flower-arranging course. bm25 scores a record saying 插花 in its
title, tags and text many times above the one course holding both words, which says 插花 once in a long text; the
record holding both parts of the query comes first all the same (match_plan.coordination_tier), then the others in
the engine's order, and pages by number and by cursor show that order in turn. A part's words count together: a
record holding 中国 and 基础班 of 中国结 基础班 holds one part, as a 中国结 course does.
"""

from __future__ import annotations

import pytest
from contract_corpus import ids_by_cursor, ids_page_by_page, make_record, source_ids

from indexer.backends.base import IndexBackend, SearchQuery

QUERY = "插花 下册"
LEISURE = ["闲暇生活"]
BOTH = make_record(
    "cb0",
    "家居花艺·下册",
    platform="lndx",
    themes=LEISURE,
    description="花材的挑选与保鲜，花器的搭配，节日花礼的包装。" * 8 + "最后一讲学习插花的基本造型。",
)
"""The one record holding both typed words: 下册 in its title, 插花 once at the end of a long description."""
ONE_PART = [
    make_record(
        f"cp{n}", f"插花{kind}", platform=("le_ouchn", "smartedu", "lndx")[n % 3], themes=LEISURE,
        tags=["插花"], description=f"插花{kind}，插花造型，插花花材。",
    )
    for n, kind in enumerate(["入门", "技巧", "艺术", "欣赏", "基础", "创意"])
]  # fmt: skip
"""Records saying 插花 many times in short texts, without 下册: bm25 scores each above BOTH."""
OTHER_VOLUMES = [
    make_record(f"cv{n}", f"{subject}·下册", platform="smartedu", themes=LEISURE, description=f"{subject}的下册。")
    for n, subject in enumerate(["电子琴弹奏", "手工编织", "家庭园艺"])
]
"""Other subjects' second volumes: 下册 alone."""
KNOT = [
    make_record("ck0", "中国结编织技艺", themes=LEISURE, tags=["中国结"], description="中国结的编法。"),
    make_record("ck1", "中国结提高班", platform="lndx", themes=LEISURE, tags=["中国结"], description="中国结进阶。"),
    make_record(
        "ck2",
        "社会主义核心价值观基础班",
        platform="smartedu",
        themes=["思想道德"],
        description="讲中国的故事，基础班学员的心得。",
    ),  # fmt: skip
]
"""中国结 基础班: two 中国结 courses (neither 基础班), and a record holding 中国 and 基础班 but no 中国结."""
BEGINNERS = [
    make_record(f"cg{n}", f"{subject}基础班", platform="le_ouchn", themes=LEISURE, description=f"{subject}基础班。")
    for n, subject in enumerate(["书法", "国画", "摄影", "太极", "葫芦丝", "舞蹈", "合唱", "电脑"])
]
"""Beginners' classes of other subjects: 基础班 is a class level many courses have, 中国结 a subject few do."""


@pytest.fixture
def catalogue(loaded: IndexBackend) -> IndexBackend:
    loaded.upsert([BOTH, *ONE_PART, *OTHER_VOLUMES, *KNOT, *BEGINNERS])
    return loaded


def test_the_record_holding_every_typed_word_comes_first(catalogue: IndexBackend) -> None:
    result = catalogue.search(SearchQuery(q=QUERY, size=50))
    found = source_ids(result.hits)
    assert found[0] == BOTH.source_id
    assert set(found[1:7]) == {record.source_id for record in ONE_PART}  # 插花 weighs more than the volume
    assert set(found[7:10]) == {record.source_id for record in OTHER_VOLUMES}
    assert result.hits[0].missing == ()
    assert all(hit.missing for hit in result.hits[1:10])


def test_pages_by_number_and_by_cursor_show_that_order_in_turn(catalogue: IndexBackend) -> None:
    whole = source_ids(catalogue.search(SearchQuery(q=QUERY, size=50)).hits)
    for size in (1, 3, 4):
        assert ids_page_by_page(catalogue, QUERY, size=size, pages=len(whole) // size + 1) == whole, size
        assert ids_by_cursor(catalogue, QUERY, size=size) == whole, size


def test_a_part_counts_when_the_record_holds_its_every_word(catalogue: IndexBackend) -> None:
    found = source_ids(catalogue.search(SearchQuery(q="中国结 基础班", size=50)).hits)
    assert found.index("ck0") < found.index("ck2") and found.index("ck1") < found.index("ck2")
