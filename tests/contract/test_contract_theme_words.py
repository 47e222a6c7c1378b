"""Contract: a word naming the theme a search is filtered to finds the theme's courses that never say it.

A learner who picks 养生保健 and types 健康, or 职业技能 and types 技能, asks for that theme's courses; most of them
(八段锦, 中医推拿, 电工) never hold the word, so the word alone would leave them out.
"""

from __future__ import annotations

import pytest
from contract_corpus import make_record

from indexer.backends.base import IndexBackend, SearchQuery

THEMED = [
    make_record("tw1", "健康生活方式", themes=["养生保健"], description="日常健康习惯。"),
    make_record("tw2", "中医推拿手法", themes=["养生保健"], description="穴位与手法。"),
    make_record("tw3", "坐式八段锦练习", platform="lndx", themes=["养生保健"]),
    make_record("tw4", "老年人心理健康", themes=["心理健康"], description="情绪与健康。"),
    make_record("tw5", "电工实操", themes=["职业技能"], description="安全用电与接线。"),
    make_record("tw6", "育婴师技能培训", themes=["职业技能"]),
    make_record("tw7", "太极拳入门", themes=["养生保健"]),
]


@pytest.fixture
def catalogue(backend: IndexBackend) -> IndexBackend:
    backend.upsert(THEMED)
    return backend


def _found(backend: IndexBackend, q: str, theme: str) -> list[str]:
    result = backend.search(SearchQuery(q=q, themes=(theme,), size=50))
    return [h.record.source_id for h in result.hits]


def test_a_word_naming_the_filtered_theme_finds_its_courses_holding_the_word_first(catalogue: IndexBackend) -> None:
    found = _found(catalogue, "健康", "养生保健")
    assert found[0] == "tw1"
    assert set(found) == {"tw1", "tw2", "tw3", "tw7"}  # not tw4: 心理健康 holds the word but not the theme
    hits = catalogue.search(SearchQuery(q="健康", themes=("养生保健",), size=50)).hits
    assert {h.record.source_id: h.missing for h in hits}["tw2"] == ("健康",)


def test_a_part_of_the_theme_name_counts_as_naming_it(catalogue: IndexBackend) -> None:
    found = _found(catalogue, "技能", "职业技能")
    assert found[0] == "tw6"
    assert set(found) == {"tw5", "tw6"}


def test_a_subject_word_under_a_theme_finds_only_what_holds_it(catalogue: IndexBackend) -> None:
    assert _found(catalogue, "太极", "养生保健") == ["tw7"]
    assert set(_found(catalogue, "健康", "心理健康")) == {"tw4"}
    assert "tw2" not in {h.record.source_id for h in catalogue.search(SearchQuery(q="健康", size=50)).hits}
