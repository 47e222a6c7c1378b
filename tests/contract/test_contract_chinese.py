"""Contract: Chinese matching — words, sub-words, single characters, scripts, pinyin, latin, FTS syntax."""

from __future__ import annotations

import pytest
from contract_corpus import SearchAll

from indexer.backends.base import IndexBackend, SearchQuery


def _found(backend: IndexBackend, q: str) -> set[str]:
    result = backend.search(SearchQuery(q=q, size=100))
    assert result.total == len(result.hits)
    return {h.record.uid for h in result.hits}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("养生", {"ys1", "ys2", "ys3", "ht2"}),
        ("书法", {"sf1", "sf2", "sf3", "sf4", "sf5", "ht1"}),
        ("理财", {"lc1", "lc2"}),
        ("太极拳", {"tj1", "tj2"}),
    ],
)
def test_two_character_words_find_exactly_the_records_containing_them(
    loaded: IndexBackend, uid: dict[str, str], q: str, expected: set[str]
) -> None:
    assert _found(loaded, q) == {uid[s] for s in expected}


def test_query_does_not_match_across_unrelated_characters(loaded: IndexBackend, uid: dict[str, str]) -> None:
    found = _found(loaded, "能智")
    assert not found & {uid["sj1"], uid["sj2"], uid["sj4"], uid["ai1"]}


def test_word_inside_a_longer_word_matches(loaded: IndexBackend, uid: dict[str, str]) -> None:
    assert {uid["sj1"], uid["sj2"], uid["sj3"]} <= _found(loaded, "手机")
    assert _found(loaded, "智能手机") == {uid["sj1"], uid["sj2"]}


def test_traditional_query_finds_simplified_records(loaded: IndexBackend, uid: dict[str, str]) -> None:
    assert _found(loaded, "書法") == _found(loaded, "书法")
    assert {uid["sf1"], uid["sf4"]} <= _found(loaded, "書法入門")


def test_simplified_query_finds_traditional_records(loaded: IndexBackend, uid: dict[str, str]) -> None:
    assert uid["sf3"] in _found(loaded, "书法欣赏")
    assert uid["gh1"] in _found(loaded, "国画")
    assert uid["ys3"] in _found(loaded, "太极")


@pytest.mark.parametrize(("q", "expected"), [("茶", {"cy1", "cy2"}), ("琴", {"gq1", "gq2"})])
def test_single_character_query_finds_words_containing_it(
    loaded: IndexBackend, uid: dict[str, str], q: str, expected: set[str]
) -> None:
    assert {uid[s] for s in expected} <= _found(loaded, q)


def test_records_holding_every_word_come_first_and_the_others_say_what_they_lack(
    loaded: IndexBackend, uid: dict[str, str]
) -> None:
    hits = loaded.search(SearchQuery(q="老年人 智能手机", size=100)).hits
    assert hits[0].record.uid == uid["sj1"] and hits[0].missing == ()
    assert {h.record.uid: h.missing for h in hits[1:]}[uid["sj2"]] == ("老年人",)  # 智能手机 without 老年人
    assert {h.record.uid for h in hits} <= _found(loaded, "老年人") | _found(loaded, "智能手机")


def test_sub_words_of_an_unknown_compound_still_match(loaded: IndexBackend, uid: dict[str, str]) -> None:
    assert uid["ys1"] in _found(loaded, "中医养生")


@pytest.mark.parametrize(("q", "expected"), [("shufa", "sf1"), ("yangsheng", "ys1"), ("taijiquan", "tj1")])
def test_pinyin_query_finds_the_chinese_title(loaded: IndexBackend, uid: dict[str, str], q: str, expected: str) -> None:
    assert uid[expected] in _found(loaded, q)


def test_pinyin_query_highlights_the_title_word(loaded: IndexBackend, uid: dict[str, str]) -> None:
    hits = {h.record.uid: h for h in loaded.search(SearchQuery(q="shufa", size=50)).hits}
    assert "<mark>书法</mark>" in hits[uid["sf4"]].highlight["title"]


@pytest.mark.parametrize(("q", "expected"), [("Excel", "ex1"), ("excel", "ex1"), ("ＥＸＣＥＬ", "ex1"), ("AI", "ai1")])
def test_latin_words_match_normal_text(loaded: IndexBackend, uid: dict[str, str], q: str, expected: str) -> None:
    assert _found(loaded, q) == {uid[expected]}


def test_text_that_matches_nothing_finds_nothing(loaded: IndexBackend) -> None:
    result = loaded.search(SearchQuery(q="量子力学"))
    assert (result.total, result.hits, result.next_cursor) == (0, [], None)


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '"书法',
        "*",
        "书*",
        "(",
        "书法)",
        "NEAR(书法 养生)",
        "书法 AND",
        "AND",
        "OR 养生",
        "NOT",
        "-书法",
        "title:书法",
        "^书法",
        "书法:",
        "{title}:书法",
        "''",
        "\\",
        "%_",
        "书法 + 养生",
        "🙂",
        "。，、",
    ],
)
def test_fts_syntax_in_user_text_never_raises(loaded: IndexBackend, q: str) -> None:
    result = loaded.search(SearchQuery(q=q))
    assert result.total >= len(result.hits)


def test_quotes_and_operators_around_a_word_still_find_it(loaded: IndexBackend, uid: dict[str, str]) -> None:
    for q in ['"书法"', "书法*", "(书法)", "^书法", "-书法", "书法:"]:
        assert uid["sf1"] in _found(loaded, q), q


def test_every_hit_of_a_long_result_is_returned_once(loaded: IndexBackend, search_all: SearchAll) -> None:
    hits = search_all(q="入门")
    uids = [h.record.uid for h in hits]
    assert len(uids) == len(set(uids)) == loaded.search(SearchQuery(q="入门")).total >= 8


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("跳舞", {"gc1"}),  # 广场舞入门, through the synonym 广场舞 (two index tokens, a phrase)
        ("拍照", {"sy1"}),  # 摄影基础
        ("怎么防骗", {"fz1", "fz2"}),  # fillers left out; 防骗 -> 诈骗
        ("我想学书法", {"sf1", "sf2", "sf3", "sf4", "sf5", "ht1"}),  # as 书法
        ("书法课", {"sf1", "sf2", "sf3", "sf4", "sf5", "ht1"}),  # a course ending
    ],
)
def test_learners_phrasing_finds_what_the_catalogue_calls_it(
    loaded: IndexBackend, uid: dict[str, str], q: str, expected: set[str]
) -> None:
    assert {uid[s] for s in expected} <= _found(loaded, q)


def test_synonyms_add_to_the_word_itself_and_fillers_alone_are_still_searched(
    loaded: IndexBackend, uid: dict[str, str]
) -> None:
    assert _found(loaded, "书法课") == _found(loaded, "书法")
    assert _found(loaded, "怎么") == set()  # nothing but a filler: searched for as it is, and nothing has it


def test_when_no_record_holds_every_word_those_holding_some_are_returned_relaxed(
    loaded: IndexBackend, uid: dict[str, str]
) -> None:
    strict = loaded.search(SearchQuery(q="老年人 智能手机", size=100))
    assert strict.total and not strict.relaxed  # sj1 holds both: only such records
    result = loaded.search(SearchQuery(q="书法 理财", size=100))
    assert result.relaxed and result.total == len(result.hits)
    assert {h.record.uid for h in result.hits} == _found(loaded, "书法") | _found(loaded, "理财")
    cursor_page = loaded.search(SearchQuery(q="书法 理财", size=3))
    following = loaded.search(SearchQuery(q="书法 理财", size=100, cursor=cursor_page.next_cursor))
    assert following.relaxed and len(cursor_page.hits) + len(following.hits) == result.total
    nothing = loaded.search(SearchQuery(q="量子 纠缠"))
    assert (nothing.total, nothing.relaxed) == (0, False)
