"""Query terms put into words the index holds: pinyin as the words it spells in titles, unknown words as their
known sub-words; and the parser's handling of synonyms the cut splits and of qualifiers typed alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from indexer.analysis import EXPANSION_WEIGHT, Alternative, QueryTerm, parse_query
from indexer.known_words import known_terms, lookup_tokens, names_filtered_theme, spelled_words, sub_words
from indexer.match_plan import Frequencies
from indexer.query_vocabulary import bundled_vocabulary


def _titles(found: list[str]):  # type: ignore[no-untyped-def]
    asked: list[QueryTerm] = []

    def titles_of(term: QueryTerm, limit: int) -> list[str]:
        asked.append(term)
        return found[:limit]

    return titles_of, asked


def test_pinyin_becomes_the_words_it_spells_in_the_titles_most_frequent_first() -> None:
    (term,) = parse_query("shufa")
    titles = ["书法入门", "硬笔书法练习", "毛笔書法", "舒发心情的方法"]  # 舒发 spells shufa too, once
    assert spelled_words(term, titles) == ["书法", "舒发"]


def test_a_pinyin_term_matches_its_chinese_words_and_no_longer_the_title_syllables() -> None:
    titles_of, asked = _titles(["书法入门", "硬笔书法"])
    (term,) = known_terms(parse_query("shufa"), frequencies={}, titles_of=titles_of)
    assert [a.field for a in asked[0].alternatives] == ["pinyin"] * len(asked[0].alternatives)
    assert term.text == "shufa"
    assert term.alternatives[0] == Alternative("text", ("书法",))  # its document frequency decides its weight
    assert all(a.field != "pinyin" for a in term.alternatives)


def test_pinyin_matches_its_chinese_word_as_the_word_typed_in_chinese_does() -> None:
    titles_of, _ = _titles(["心理健康讲座", "老年心理健康"])
    (spelled,) = known_terms(parse_query("xinlijiankang"), frequencies={}, titles_of=titles_of)
    (typed,) = known_terms(parse_query("心理健康"), frequencies={}, titles_of=titles_of)
    assert spelled.alternatives[0] == Alternative("text", ("心理健康",))
    cover = [a for a in spelled.alternatives if a.tokens == ("心理", "健康")]  # the words a record cut otherwise holds
    assert [(a.field, a.phrase) for a in cover] == [("text", False)]
    assert cover[0].weight < spelled.alternatives[0].weight  # the word whole, as spelled, first
    assert {a.tokens for a in typed.alternatives if a.field == "text"} <= {a.tokens for a in spelled.alternatives}


def test_pinyin_that_spells_nothing_stays_as_typed() -> None:
    (typed,) = parse_query("shufa")
    (term,) = known_terms([typed], frequencies={}, titles_of=_titles([])[0])
    assert term == typed


def test_a_word_no_record_holds_matches_its_sub_words_that_records_hold() -> None:
    (typed,) = parse_query("立遗嘱")
    assert "遗嘱" in sub_words("立遗嘱") and "遗嘱" in lookup_tokens([typed])
    (term,) = known_terms([typed], frequencies={"遗嘱": 12}, titles_of=None)
    assert Alternative("text", ("遗嘱",)) == term.alternatives[0]
    (held,) = known_terms([typed], frequencies={"立遗嘱": 1, "遗嘱": 12}, titles_of=None)
    assert held == typed  # a word some record holds is searched as typed


def test_a_synonym_key_the_cut_splits_is_looked_up_whole_inside_a_question() -> None:
    (term,) = parse_query("怎么带孙子", vocabulary=bundled_vocabulary())
    assert term.text == "带孙子"
    expansions = [a for a in term.alternatives if a.weight == EXPANSION_WEIGHT]
    assert Alternative("text", ("隔代", "教育"), phrase=True, weight=EXPANSION_WEIGHT) in expansions
    assert all(a.weight == 1.0 for a in term.alternatives if a not in expansions)


def test_a_filler_character_typed_alone_after_words_is_kept() -> None:
    vocabulary = bundled_vocabulary()
    assert [t.text for t in parse_query("简化太极拳 下", vocabulary=vocabulary)][-1] == "下"
    assert [t.text for t in parse_query("打 太极", vocabulary=vocabulary)] == ["太极"]  # a verb before a word
    assert [t.text for t in parse_query("我想 学", vocabulary=vocabulary)] == ["我想", "学"]  # fillers only


def _counts(found: dict[str, int], total: int):  # type: ignore[no-untyped-def]
    def frequencies(tokens: Sequence[str]) -> tuple[Mapping[str, int], int]:
        return {t: found[t] for t in tokens if t in found}, total

    return frequencies


def test_a_word_held_by_a_large_share_of_the_catalogue_lets_the_filtered_theme_answer() -> None:
    counts = _counts({"老年": 600, "摄影": 30}, 1_000)

    def names(q: str, themes: list[str], frequencies: Frequencies | None = counts) -> bool:
        return names_filtered_theme(parse_query(q), themes, frequencies, theme_words=bundled_vocabulary().theme_words)

    assert names("老年", ["心理健康"])  # held by 60 %: says little
    assert not names("摄影", ["科学文化"])  # a subject: its holders only
    assert not names("老年 摄影", ["科学文化"])
    assert not names("老年", [])  # no theme filter: nothing to fall back on
    assert names("健康", ["养生保健"], None)  # a word naming the theme, as before


def test_a_questions_run_of_characters_no_record_holds_is_looked_for_by_its_telling_characters() -> None:
    terms = parse_query("老年人打什么球好", vocabulary=bundled_vocabulary())
    assert [t.text for t in terms] == ["老年人", "球好"]  # the cut glues 球 to 好
    frequencies = {"老年人": 300, "球": 16, "好": 200}
    split = known_terms(terms, frequencies=frequencies, titles_of=_titles([])[0], total=650)
    assert [t.text for t in split] == ["老年人", "球"]  # 好 says too little to look for alone
    assert split[1].asked and {a.field for a in split[1].alternatives} == {"text", "chars"}
    held = known_terms(terms, frequencies=frequencies, titles_of=_titles(["球好就行"])[0], total=650)
    assert [t.text for t in held] == ["老年人", "球好"]  # a record holds the run as a phrase: one term, as typed
    (alone,) = known_terms(parse_query("球好吗", vocabulary=bundled_vocabulary()), frequencies=frequencies,
                           titles_of=_titles([])[0], total=650)  # fmt: skip
    assert alone.text == "球好"  # nothing else to look for: the run stays
