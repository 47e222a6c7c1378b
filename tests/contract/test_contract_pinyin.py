"""Contract: pinyin of words and course names of any length, typed spaced, unspaced, in pieces or with ü, finds them."""

from __future__ import annotations

import pytest
from contract_corpus import found_ids, make_record

from indexer.backends.base import IndexBackend

NAMES = [
    make_record("pq1", "二十四式简化太极拳", themes=["养生保健"], description="杨式太极拳的简化套路。"),
    make_record("pq2", "出国旅游实用英语", themes=["科学文化"], description="机场、酒店与购物会话。"),
    make_record("pq3", "书法艺术与汉字之美入门", platform="lndx", themes=["闲暇生活"]),
    make_record("pq4", "京剧经典唱腔赏析", themes=["闲暇生活"], description="梅派与程派名段。"),
    make_record("pq5", "隔代教育的智慧", themes=["代际沟通"]),
]
"""Records beside the shared corpus: a long course name, and titles holding two words of a query apart (旅游 and
英语, 书法 and 入门, 京剧 and 唱腔)."""


@pytest.fixture
def catalogue(loaded: IndexBackend) -> IndexBackend:
    loaded.upsert(NAMES)
    return loaded


def test_pinyin_of_two_to_nine_syllables_finds_its_course_spaced_or_not(catalogue: IndexBackend) -> None:
    typed = {
        "pq5": ["gedai", "ge dai jiao yu", "gedaijiaoyu", "gedai jiaoyu"],
        "pq1": ["taijiquan", "jian hua tai ji quan", "ershisishi taijiquan", "ershisishijianhuataijiquan"],
    }
    for expected, queries in typed.items():
        for q in queries:
            assert expected in found_ids(catalogue, q)[:3], q


def test_pinyin_words_typed_apart_find_titles_holding_them_apart(catalogue: IndexBackend) -> None:
    assert found_ids(catalogue, "jingju changqiang")[0] == "pq4"
    assert found_ids(catalogue, "shu fa ru men")[0] in {"pq3", "sf1", "sf4"}  # 书法 and 入门, together or apart
    assert "pq3" in found_ids(catalogue, "shu fa ru men")
    assert found_ids(catalogue, "lv you ying yu")[0] == "pq2"  # 旅游 and 英语 apart: 出国旅游实用英语


@pytest.mark.parametrize("q", ["lvyou yingyu", "lu:you yingyu", "lüyou yingyu", "LǙYÓU YĪNGYǓ", "LvYou YingYu"])
def test_pinyin_with_u_umlaut_spelled_any_way_or_in_capitals_finds_the_course(catalogue: IndexBackend, q: str) -> None:
    assert found_ids(catalogue, q)[0] == "pq2"


@pytest.mark.parametrize(("q", "expected"), [("esss", "pq1"), ("gcw", "gc1"), ("tjq", "tj1"), ("GDJY", "pq5")])
def test_initials_of_a_three_or_four_character_word_find_its_course(
    catalogue: IndexBackend, q: str, expected: str
) -> None:
    assert expected in found_ids(catalogue, q)[:3]


def test_initials_find_no_course_whose_title_lacks_the_word(catalogue: IndexBackend) -> None:
    assert "sf1" not in found_ids(catalogue, "gcw")
