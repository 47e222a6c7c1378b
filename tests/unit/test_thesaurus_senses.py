"""A word of two thesaurus senses is expanded only under a theme filter, with the words of each sense."""

from __future__ import annotations

from indexer.thesaurus import for_theme_filter, related_words, related_words_in_theme


def test_a_word_of_two_senses_gets_no_words_without_a_theme_filter() -> None:
    assert related_words("孩子") == ()


def test_a_word_of_two_senses_gets_the_words_of_each_under_a_theme_filter() -> None:
    words = related_words_in_theme("孩子")
    assert {"儿童", "子女"} <= set(words) and "孩子" not in words


def test_a_word_of_one_sense_gets_the_same_words_under_a_theme_filter() -> None:
    assert related_words_in_theme("孤单") == related_words("孤单") != ()


def test_the_theme_filter_swaps_only_the_thesaurus_of_this_module() -> None:
    def own(word: str) -> tuple[str, ...]:
        return (word,)

    assert for_theme_filter(related_words) is related_words_in_theme
    assert for_theme_filter(own) is own
    assert for_theme_filter(None) is None
