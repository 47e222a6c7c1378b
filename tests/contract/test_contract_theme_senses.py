"""Contract: under a theme filter, a learner's word of two senses also finds the words of each sense.

同义词词林 puts 孩子 in a group of children (儿童) and one of sons and daughters (子女); without a filter nothing says
which a learner means, so the word is left alone. A learner who picked 代际沟通 means the second, and the filter keeps
the records of the other sense out of the page.
"""

from __future__ import annotations

import pytest
from contract_corpus import make_record

from indexer.backends.base import IndexBackend, SearchQuery

FAMILY = [
    make_record("sz1", "孩子的成长与陪伴", themes=["代际沟通"], description="陪伴是最好的教育。"),
    make_record("sz2", "与子女沟通的艺术", themes=["代际沟通"], description="倾听与表达。"),
    make_record("sz3", "子女教育与家风", platform="lndx", themes=["代际沟通"], description="家风家教。"),
    make_record("sz4", "和子女一起过节", platform="smartedu", themes=["代际沟通"], description="节日里的相处。"),
    make_record("sz5", "子女赡养义务", themes=["法律法规"], description="赡养老人的法律规定。"),
    make_record("sz6", "隔代相处之道", themes=["代际沟通"], description="祖孙之间的相处。"),
]
"""One 代际沟通 record saying 孩子, three saying 子女 (the catalogue's word for the sense meant), one 法律法规 record
saying 子女, and a 代际沟通 record saying neither."""


@pytest.fixture
def catalogue(backend: IndexBackend) -> IndexBackend:
    backend.upsert(FAMILY)
    return backend


def _search(backend: IndexBackend, q: str, themes: tuple[str, ...] = ()) -> tuple[list[str], dict[str, int]]:
    result = backend.search(SearchQuery(q=q, themes=themes, size=50))
    return [h.record.source_id for h in result.hits], result.facets["theme"]


def test_a_word_of_two_senses_under_a_theme_filter_also_finds_the_themes_records_of_its_synonyms(
    catalogue: IndexBackend,
) -> None:
    found, themes = _search(catalogue, "孩子", ("代际沟通",))
    assert found[0] == "sz1"  # the typed word first
    assert set(found) == {"sz1", "sz2", "sz3", "sz4"}  # 子女, not sz6 (neither word) nor sz5 (another theme)
    assert themes == {"代际沟通": 4, "法律法规": 1}
    other, _ = _search(catalogue, "孩子", ("法律法规",))
    assert other == ["sz5"]  # what the facet promised


def test_a_word_of_two_senses_without_a_theme_filter_is_left_alone(catalogue: IndexBackend) -> None:
    found, _ = _search(catalogue, "孩子")
    assert found == ["sz1"]
