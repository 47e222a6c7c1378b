"""The rule-term matcher: leftmost-longest, whole-word latin terms, and fast paths that agree with one regex."""

from __future__ import annotations

import random
import re

import pytest

from config import load_themes
from indexer.analysis import fold
from indexer.normalize.terms import LabelMatcher, TermMatcher


def reference_find(terms: list[str], text: str) -> list[str]:
    """The plain definition: one alternation of every folded term, longest first, latin terms as whole words."""
    folded_terms = sorted({fold(t) for t in terms if t.strip()}, key=len, reverse=True)
    patterns = [rf"(?<![a-z0-9]){re.escape(t)}(?![a-z0-9])" if t.isascii() else re.escape(t) for t in folded_terms]
    return list(dict.fromkeys(m.group(0) for m in re.finditer("|".join(patterns), fold(text))))


def rule_tables() -> list[list[str]]:
    table = load_themes()
    tables = [[k for r in table.keyword_rules for k in r.keywords], [m for r in table.category_rules for m in r.match]]
    tables += [r.keywords for r in table.audience_rules] + [r.keywords for r in table.programme_rules]
    return tables + [["AI课程", "ai", "课程", "Excel表格", "表格"]]  # terms mixing latin and Chinese


def test_the_longest_term_wins_where_terms_overlap() -> None:
    matcher = TermMatcher(["老年", "老年人", "老年人权益保障", "权益", "健康", "心理健康"])
    assert matcher.find("老年人权益讲座") == ["老年人", "权益"]
    assert matcher.find("老年人权益保障法") == ["老年人权益保障"]
    assert matcher.find("老年心理健康与健康生活") == ["老年", "心理健康", "健康"]


def test_latin_terms_match_whole_words_only_and_in_text_order() -> None:
    matcher = TermMatcher(["AI", "Excel", "健康"])
    assert matcher.find("健康 email 与 EXCEL、AI工具") == ["健康", "excel", "ai"]
    assert matcher.find("email mail2ai") == []


def test_a_term_mixing_latin_and_chinese_is_found_before_its_parts() -> None:
    matcher = TermMatcher(["AI课程", "ai", "课程"])
    assert matcher.find("AI课程与课程 ai") == ["ai课程", "课程", "ai"]


@pytest.mark.parametrize("index", range(len(rule_tables())))
def test_matches_equal_one_plain_alternation_on_random_text(index: int) -> None:
    terms = rule_tables()[index]
    matcher = TermMatcher(terms)
    rng = random.Random(index)
    pieces = [*terms, "的", "老年人", "课程", "，", " ", "email", "AI", "ai", "x", "0", "養生", "ＥＸＣＥＬ"]
    for _ in range(500):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        expected = reference_find(terms, text)
        assert matcher.find(text) == expected, text


def test_label_matcher_names_exactly_the_lists_a_term_matcher_finds_something_of() -> None:
    """One pass for many rules: a list is named exactly when its own matcher would find one of its terms."""
    lists = rule_tables()
    labels = LabelMatcher([(f"rule{i}", terms) for i, terms in enumerate(lists)])
    matchers = [TermMatcher(terms) for terms in lists]
    rng = random.Random(7)
    pieces = [*(t for terms in lists for t in terms), "的", "，", " ", "email", "mail2ai", "x", "0", "養生"]
    pieces.append("ＥＸＣＥＬ")
    for _ in range(2000):
        folded = fold("".join(rng.choice(pieces) for _ in range(rng.randint(0, 8))))
        expected = [f"rule{i}" for i, m in enumerate(matchers) if m.find_folded(folded)]
        assert labels.labels_in_folded(folded) == expected, folded


def test_overlapping_terms_of_different_lists_are_all_seen() -> None:
    labels = LabelMatcher([("elder", ["老年人"]), ("rights", ["人权益"]), ("ai", ["AI"]), ("course", ["ai course"])])
    assert labels.labels_in_folded(fold("老年人权益")) == ["elder", "rights"]
    assert labels.labels_in_folded(fold("AI Course")) == ["ai", "course"]
    assert labels.labels_in_folded("") == []
