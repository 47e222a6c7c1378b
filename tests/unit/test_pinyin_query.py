"""Pinyin typed in a query: ü and tone marks, the words a run of pieces spells, initials; and the terms they give."""

from __future__ import annotations

import pytest

from indexer.analysis import parse_query, pinyin_splits, pinyin_syllables_text
from indexer.pinyin_query import initials_tokens, is_initials, pinyin_parts, toneless


def _phrases(q: str) -> list[set[tuple[str, ...]]]:
    """Each term's readings in the `pinyin` field."""
    return [{a.tokens for a in term.alternatives if a.field == "pinyin"} for term in parse_query(q)]


@pytest.mark.parametrize("typed", ["lvyou", "lu:you", "lüyou", "lǚyóu", "LǙYÓU"])
def test_u_umlaut_and_tone_marks_read_as_the_toneless_pinyin_the_index_holds(typed: str) -> None:
    assert toneless(typed.lower(), pinyin_splits) == "lvyou"
    assert ("lv", "you") in _phrases(typed)[0]


def test_text_that_is_no_pinyin_is_left_as_typed() -> None:
    assert toneless("café", pinyin_splits) == "café"
    assert toneless("naïve", pinyin_splits) == "naïve"
    assert toneless("excel", pinyin_splits) == "excel"


@pytest.mark.parametrize(
    ("q", "words"),
    [
        ("ba duan jin", [("ba", "duan", "jin")]),  # three lone syllables: one word
        ("taiji quan", [("tai", "ji", "quan")]),  # a lone syllable joins the word before it
        ("jingju changqiang", [("jing", "ju"), ("chang", "qiang")]),  # words typed whole stay apart
        ("shu fa ru men", [("shu", "fa"), ("ru", "men")]),
        ("ba duan jin ru men", [("ba", "duan", "jin"), ("ru", "men")]),
        ("zhi neng shou ji ru men", [("zhi", "neng"), ("shou", "ji"), ("ru", "men")]),
        ("ershisishijianhuataijiquan", [("er", "shi", "si"), ("shi", "jian"), ("hua", "tai"), ("ji", "quan")]),
    ],
)
def test_a_run_of_pinyin_becomes_a_term_per_word_it_spells(q: str, words: list[tuple[str, ...]]) -> None:
    phrases = _phrases(q)
    assert len(phrases) == len(words)
    for readings, word in zip(phrases, words, strict=True):
        assert word in readings


def test_a_guessed_boundary_between_lone_syllables_may_lie_one_syllable_off() -> None:
    first, second = _phrases("jian hua tai ji quan")
    assert {("jian", "hua"), ("jian", "hua", "tai")} <= first  # 简化 | 太极拳 as well as jian hua tai | ji quan
    assert {("ji", "quan"), ("tai", "ji", "quan")} <= second


def test_pinyin_beside_other_words_keeps_them_apart() -> None:
    assert pinyin_parts(["shufa", "入门"], pinyin_splits) == ["shufa", "入门"]
    assert pinyin_parts(["excel", "biao", "ge"], pinyin_splits) == ["excel", (["biao", "ge"],)]
    assert [t.text for t in parse_query("xi'an")] == ["xi an"]
    assert [t.text for t in parse_query("书法shufa")] == ["书法", "shufa"]  # the characters are kept
    assert pinyin_parts(["太极taiji", "quan"], pinyin_splits) == ["太极taiji", "quan"]


def test_initials_of_three_or_four_syllable_words_whatever_the_cut() -> None:
    assert initials_tokens([[("ba", "duan", "jin")]], pinyin_splits) == ["bdj"]
    assert initials_tokens([[("ba", "duan"), ("jin",)]], pinyin_splits) == ["bdj"]  # the cut split the word
    assert initials_tokens([[("shu", "fa")], [("ru", "men")]], pinyin_splits) == []  # runs apart, two syllables
    assert "znsj" in pinyin_syllables_text("老年人智能手机应用").split()


def test_initials_are_recognised_only_when_they_read_as_no_pinyin() -> None:
    assert is_initials("bdj", pinyin_splits) and is_initials("znsj", pinyin_splits)
    assert not is_initials("ang", pinyin_splits)  # a syllable
    assert not is_initials("dvd", pinyin_splits)  # v starts no syllable
    assert not is_initials("bd", pinyin_splits)
    assert ("bdj",) in _phrases("BDJ")[0]
