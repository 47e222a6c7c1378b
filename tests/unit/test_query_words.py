"""The query vocabulary: fillers left out, course endings, one-way synonyms, and the bundled table's checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from config.errors import ConfigError
from config.loader import load_query_words, load_themes
from config.query_words import QueryWords
from indexer.analysis import EXPANSION_WEIGHT, Alternative, QueryTerm, parse_query
from indexer.query_vocabulary import bundled_vocabulary, query_vocabulary

VOCABULARY = query_vocabulary(
    QueryWords(
        version="test",
        fillers=["怎么", "学", "我", "想", "跳"],
        course_suffixes=["课", "课程"],
        synonyms={"跳舞": ["舞蹈", "广场舞"], "防骗": ["诈骗"], "畫畫": ["绘画"]},
    ),
    load_themes(),
)


def alternatives(term: QueryTerm) -> set[tuple[str, tuple[str, ...], bool]]:
    return {(a.field, a.tokens, a.phrase) for a in term.alternatives}


def test_a_synonym_adds_its_catalogue_words_as_alternatives() -> None:
    (term,) = parse_query("跳舞", vocabulary=VOCABULARY)
    assert term.text == "跳舞"
    assert {("text", ("跳舞",), False), ("text", ("舞蹈",), False), ("text", ("广场", "舞"), True)} <= alternatives(
        term
    )


def test_fillers_are_left_out_when_other_words_are_there() -> None:
    assert [t.text for t in parse_query("怎么学跳舞", vocabulary=VOCABULARY)] == ["跳舞"]
    assert [t.text for t in parse_query("我想 学", vocabulary=VOCABULARY)] == ["我想", "学"]  # only fillers: as typed
    assert [t.text for t in parse_query("怎么学跳舞")] == ["怎么", "学", "跳舞"]  # no vocabulary: every word


def test_a_part_the_cut_splits_is_looked_up_whole() -> None:
    (term,) = parse_query("防骗", vocabulary=VOCABULARY)
    assert {("text", ("防", "骗"), True), ("text", ("诈骗",), False)} <= alternatives(term)


def test_a_word_with_a_course_ending_also_matches_without_it() -> None:
    (term,) = parse_query("书法课", vocabulary=VOCABULARY)
    assert {("text", ("书法课",), False), ("text", ("书法",), False)} <= alternatives(term)
    (short,) = parse_query("上课", vocabulary=VOCABULARY)  # one character left: not a stem
    assert ("text", ("上",), False) not in alternatives(short)


def test_a_word_kept_whole_with_a_filler_verb_in_front_also_matches_without_it() -> None:
    (term,) = parse_query("跳交谊舞", vocabulary=VOCABULARY)  # the cut keeps 跳交谊舞 whole; the index has 交谊舞
    assert {("text", ("跳交谊舞",), False), ("text", ("交谊舞",), False)} <= alternatives(term)


def test_keys_are_folded_so_either_script_finds_the_synonyms() -> None:
    for q in ("畫畫", "画画"):
        (term,) = parse_query(q, vocabulary=VOCABULARY)
        assert Alternative("text", ("绘画",), weight=EXPANSION_WEIGHT) in term.alternatives


def test_the_bundled_table_loads_and_expands_common_learner_words() -> None:
    vocabulary = bundled_vocabulary()
    assert {"怎么", "课程"} <= vocabulary.fillers
    (term,) = parse_query("做菜", vocabulary=vocabulary)
    assert Alternative("text", ("烹饪",), weight=EXPANSION_WEIGHT) in term.alternatives


@pytest.mark.parametrize(
    ("synonyms", "message"),
    [
        ({"跳 舞": ["舞蹈"]}, "not one word"),
        ({"跳舞": []}, "list 1 to"),
        ({"跳舞": ["跳舞"]}, "not its own synonym"),
        ({"跳舞": ["x" * 21]}, "not one word"),
    ],
)
def test_a_bad_table_is_refused_naming_the_word(synonyms: dict[str, list[str]], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        QueryWords(version="test", synonyms=synonyms)
    assert message in str(caught.value)


def test_a_broken_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "query_words.yaml"
    path.write_text("version: x\nsynonyms:\n  跳舞: 舞蹈\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_query_words(path)
    assert str(path) in str(caught.value) and "synonyms" in str(caught.value)
