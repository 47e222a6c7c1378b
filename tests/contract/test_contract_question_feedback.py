"""Contract: a learner's question finding few records also finds the records of the tag they share, strictly after
every record of its own words, on every page.

有没有讲共产党过去的事的课 finds the courses saying 共产党; the tag they share (党史) says what else answers it. A
question's words are weighed down as a question's, so a record saying 共产党 once in a long text scores little, and
a 党史 course scores more on its tag: the question's own records still come first, in their own order, and the tag's
after them. Pages by number and by cursor show that order in turn, and the total and facets count what they show.
"""

from __future__ import annotations

import pytest
from contract_corpus import ids_by_cursor, ids_page_by_page, make_record, source_ids

from indexer.backends.base import IndexBackend, SearchQuery

QUESTION = "有没有讲共产党过去的事的课"
RED = ["思想道德"]
OWN = [
    make_record("qo0", "中国共产党历史故事（上）", themes=RED, tags=["党史", "红色教育"]),
    make_record("qo1", "中国共产党历史故事（下）", platform="lndx", themes=RED, tags=["党史"]),
    make_record(
        "qo2",
        "红色足迹寻访",
        platform="smartedu",
        themes=["闲暇生活"],
        description="听老人回忆中国共产党带领乡亲们修路、办学、开荒种地的岁月。"
        + "沿着老区的道路走一走，看看当年的村庄、桥梁、窑洞和学校，再到纪念馆里看看老照片，还教大家拍照、写游记。" * 6,
    ),
]
"""The question's own records: two naming 共产党 in their titles and sharing the tag 党史, one saying it once in a
long description (its score is low)."""
TAGGED = [
    make_record(f"qt{n}", title, platform=platform, themes=RED, tags=["党史"], description=text)
    for n, (title, platform, text) in enumerate(
        [
            ("党史故事", "le_ouchn", "党史人物，党史百年。"),
            ("党史学习教育", "lndx", "学党史，党史知识问答。"),
            ("党史经典诵读", "smartedu", "诵读党史经典。"),
            ("党史与革命老区", "le_ouchn", "老区人民的党史。"),
        ]
    )
]
"""Records of the tag 党史 that never say 共产党 and hold 党史 often: the tag's pass scores them above the record
saying 共产党 in passing."""
ALL = {record.source_id for record in [*OWN, *TAGGED]}


@pytest.fixture
def catalogue(loaded: IndexBackend) -> IndexBackend:
    loaded.upsert([*OWN, *TAGGED])
    return loaded


def test_the_questions_own_records_come_before_every_record_of_its_tag(catalogue: IndexBackend) -> None:
    result = catalogue.search(SearchQuery(q=QUESTION, size=50))
    found = source_ids(result.hits)
    assert set(found[:3]) == {"qo0", "qo1", "qo2"}  # every record saying 共产党, the one in passing too
    assert set(found[3:]) == {f"qt{n}" for n in range(4)}
    assert result.total == 7
    assert all("共产党" not in hit.missing for hit in result.hits[:3])
    assert all("共产党" in hit.missing for hit in result.hits[3:])  # found through the tag, not the word


def test_pages_by_number_and_by_cursor_show_that_order_in_turn(catalogue: IndexBackend) -> None:
    whole = source_ids(catalogue.search(SearchQuery(q=QUESTION, size=50)).hits)
    by_number = [
        catalogue.search(SearchQuery(q=QUESTION, size=2, page=n, with_facets=False)) for n in (1, 2, 3, 4)
    ]  # fmt: skip
    assert [page.total for page in by_number] == [7, 7, 7, 7]
    assert [source_id for page in by_number for source_id in source_ids(page.hits)] == whole
    assert ids_by_cursor(catalogue, QUESTION, size=2) == whole


def test_the_facets_count_the_records_the_pages_show(catalogue: IndexBackend) -> None:
    result = catalogue.search(SearchQuery(q=QUESTION, size=50))
    assert set(source_ids(result.hits)) == ALL
    shown: dict[str, int] = {}
    for hit in result.hits:
        shown[hit.record.platform] = shown.get(hit.record.platform, 0) + 1
    assert result.facets["platform"] == shown


MANY_TAGGED = [
    make_record(f"qm{n}", f"党史故事第{n}集", platform=("le_ouchn", "lndx", "smartedu")[n % 3], themes=RED,
                tags=["党史"], description="党史人物，党史百年。")
    for n in range(56)
]  # fmt: skip
"""More 党史 records than a backend's first read of 50: the pages past them are placed without reading them."""


def test_pages_past_the_first_fifty_records_continue_in_turn(catalogue: IndexBackend) -> None:
    catalogue.upsert(MANY_TAGGED)
    whole = catalogue.search(SearchQuery(q=QUESTION, size=100))
    order = source_ids(whole.hits)
    assert whole.total == 63 and len(order) == 63
    assert set(order[:3]) == {"qo0", "qo1", "qo2"}
    for size in (20, 7):
        assert ids_page_by_page(catalogue, QUESTION, size=size, pages=63 // size + 1) == order, size
        assert ids_by_cursor(catalogue, QUESTION, size=size) == order, size
