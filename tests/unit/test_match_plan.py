"""The weighted minimum-should-match rule: which terms a record must hold, from document frequencies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from indexer.analysis import parse_query
from indexer.match_plan import AllOf, AnyOf, match_plan, weigh


def _counts(found: dict[str, int], total: int):  # type: ignore[no-untyped-def]
    def frequencies(tokens: Sequence[str]) -> tuple[Mapping[str, int], int]:
        return {t: found[t] for t in tokens if t in found}, total

    return frequencies


def test_a_rare_word_is_required_and_a_generic_one_only_scored() -> None:
    terms = parse_query("古琴 入门")
    plan = match_plan(terms, _counts({"古琴": 20, "入门": 50_000}, 1_000_000))
    assert plan == AllOf((0, AnyOf((0, 1))))  # 古琴, and 入门 among the scored words


def test_words_of_like_weight_each_qualify_alone() -> None:
    plan = match_plan(parse_query("书法 理财"), _counts({"书法": 300, "理财": 200}, 1_000_000))
    assert plan == AnyOf((0, 1))


def test_a_word_nothing_holds_weighs_nothing() -> None:
    plan = match_plan(parse_query("书法 量子"), _counts({"书法": 300}, 1_000_000))
    assert plan == 0


def test_a_very_common_optional_word_is_left_unscored() -> None:
    plan = match_plan(parse_query("书法 老年"), _counts({"书法": 300, "老年": 800_000}, 1_000_000))
    assert plan == 0


def test_question_words_and_single_characters_weigh_less() -> None:
    (word,) = parse_query("注意")
    (char,) = parse_query("带")
    (noun,) = parse_query("遗嘱")
    assert weigh(word, frequency=100, total=10_000) < weigh(noun, frequency=100, total=10_000)
    assert weigh(char, frequency=100, total=10_000) < weigh(noun, frequency=100, total=10_000)


def test_a_topical_verb_qualifies_alone_beside_a_rarer_noun() -> None:
    # 沟通 is tagged a verb, and is the topic here: records on 亲子沟通 answer 隔代 沟通 too
    plan = match_plan(parse_query("隔代 沟通"), _counts({"隔代": 100, "沟通": 1_000}, 1_000_000))
    assert plan == AnyOf((0, 1))
