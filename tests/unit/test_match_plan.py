"""The weighted minimum-should-match rule: which terms a record must hold, from document frequencies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace

from indexer.analysis import QueryTerm, parse_query
from indexer.match_plan import (
    QUALIFIER_FACTOR,
    THEME_FEW,
    TITLE_BONUS,
    AllOf,
    AnyOf,
    coordination_tier,
    feedback_term,
    match_plan,
    plan_holds,
    qualifiers,
    stray_characters,
    subject_absent,
    term_frequency,
    term_tokens,
    theme_characters_term,
    tiers_differ,
    wants_coordination,
    wants_theme_feedback,
    weigh,
    weighted_terms,
    with_title_bonus,
)
from indexer.query_vocabulary import bundled_vocabulary
from indexer.word_rarity import FLOOR, rarity_factor


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


def test_a_typed_subject_no_record_holds_beside_an_everyday_word_finds_nothing() -> None:
    """马拉松 (no record holds it) beside 训练 (common in general Chinese) names a subject the catalogue lacks: the
    search requires every term (the contract test of 马拉松训练 holds that). Beside 书法, a subject's name records
    hold, the weighted rule stays; so it does for a learner's question, whose other words may still reach what it
    asks."""
    held = _counts({"训练": 900, "书法": 300, "膝盖": 40, "疼": 500, "跑": 800}, 1_000_000)
    marathon = parse_query("马拉松训练", vocabulary=bundled_vocabulary())
    assert subject_absent(marathon, held)
    assert not subject_absent(parse_query("书法 字帖", vocabulary=bundled_vocabulary()), held)
    question = parse_query("跑马拉松膝盖疼怎么办", vocabulary=bundled_vocabulary())
    assert any(term.text == "马拉松" for term in question) and not subject_absent(question, held)


def test_a_very_common_optional_word_is_left_unscored() -> None:
    plan = match_plan(parse_query("书法 老年"), _counts({"书法": 300, "老年": 800_000}, 1_000_000))
    assert plan == 0


def test_question_words_and_single_characters_weigh_less() -> None:
    (word,) = parse_query("注意")
    (char,) = parse_query("带")
    (noun,) = parse_query("遗嘱")
    assert weigh(word, frequency=100, total=10_000) < weigh(noun, frequency=100, total=10_000)
    assert weigh(char, frequency=100, total=10_000) < weigh(noun, frequency=100, total=10_000)


def test_a_subjects_name_the_tagger_takes_for_an_adverb_weighs_as_a_word() -> None:
    # jieba tags 越剧 as an adverb ("d"), a tag of the words framing a question; 越剧 is rare in general Chinese, so
    # it weighs as the subject it is and qualifies a record alone beside the volume asked for
    (opera,) = parse_query("越剧")
    (how,) = parse_query("到底")
    assert weigh(opera, frequency=100, total=10_000) > weigh(how, frequency=100, total=10_000)
    plan = match_plan(parse_query("越剧 上册"), _counts({"越剧": 27, "上册": 53}, 650))
    assert plan == AnyOf((0, 1))


def test_a_topical_verb_qualifies_alone_beside_a_rarer_noun() -> None:
    # 沟通 is tagged a verb, and is the topic here: records on 亲子沟通 answer 隔代 沟通 too
    plan = match_plan(parse_query("隔代 沟通"), _counts({"隔代": 100, "沟通": 1_000}, 1_000_000))
    assert plan == AnyOf((0, 1))


def test_general_chinese_says_how_much_a_word_says() -> None:
    # jieba's IDF table: the words of how a learner asks weigh little, a subject's name fully, a word the table
    # lacks (a new word, a name) fully too
    assert rarity_factor("我") == FLOOR
    assert rarity_factor("带") < rarity_factor("注意") < rarity_factor("健康") < rarity_factor("书法") <= 1.0
    assert rarity_factor("八段锦") == 1.0
    assert rarity_factor("微信") == 1.0


def test_in_a_question_every_alternative_scores_at_its_words_weight() -> None:
    vocabulary = bundled_vocabulary()
    weights = {
        t.text: {a.weight for a in t.alternatives}
        for t in weighted_terms(parse_query("立遗嘱要注意什么", vocabulary=vocabulary))
    }
    assert weights["立遗嘱"] == {1.0} and all(w < 0.6 for w in weights["注意"])
    weights = {t.text: max(a.weight for a in t.alternatives) for t in weighted_terms(parse_query("孩子不在身边很孤单"))}
    assert weights["不"] < weights["孩子"] < weights["孤单"] == 1.0  # a stray character says least
    assert weighted_terms(parse_query("注意")) == parse_query("注意")  # one word: nothing to weigh it against


def test_a_run_of_characters_the_cut_made_no_word_of_scores_as_a_stray_character() -> None:
    # 以房养老 is cut 以 + 房 + 养老: the run 以房 is no word, and jieba's IDF table lacking it must not make it weigh
    # as a subject's name beside 骗局
    terms = parse_query("以房养老是不是骗局", vocabulary=bundled_vocabulary())
    assert [t.text for t in terms if stray_characters(t)] == ["以房"]
    weights = {t.text: max(a.weight for a in t.alternatives) for t in weighted_terms(terms)}
    assert weights["以房"] < weights["养老"] and weights["骗局"] == 1.0
    assert weights["以房"] <= 0.3
    # a word the dictionary knows, and a single character, keep their general-Chinese weight
    assert not stray_characters(parse_query("果树")[0]) and not stray_characters(parse_query("睡")[0])
    # the match plan weighs the run by how few records hold it, as before: the rarest term there
    run, scam = terms[0], terms[-1]
    assert weigh(run, frequency=3, total=1158) > weigh(scam, frequency=19, total=1158)


def test_the_words_of_a_name_or_of_spaced_words_keep_their_weight() -> None:
    for q in ("数字人民币", "隔代教育", "书法 国画", "注意 遗嘱"):
        terms = parse_query(q, vocabulary=bundled_vocabulary())
        assert not any(t.asked for t in terms)
        assert weighted_terms(terms) == terms


def test_a_synonym_scores_below_its_typed_word_after_weighting() -> None:
    (term,) = weighted_terms(parse_query("跳舞 遗嘱", vocabulary=bundled_vocabulary()))[:1]
    typed = [a.weight for a in term.alternatives if a.tokens == ("跳舞",)]
    expansions = [a.weight for a in term.alternatives if a.tokens != ("跳舞",)]
    assert expansions and max(expansions) < min(typed)


def test_a_qualifier_beside_a_subject_scores_below_it() -> None:
    for q, qualifier in (
        ("二胡 提高班", "提高班"),
        ("书法 入门", "入门"),
        ("电子琴 下册", "下册"),
        ("瑜伽 第二季", "第二季"),
    ):
        weights = {t.text: {a.weight for a in t.alternatives} for t in weighted_terms(parse_query(q))}
        assert weights[qualifier] == {QUALIFIER_FACTOR} and weights[q.split()[0]] == {1.0}
    weights = {t.text: max(a.weight for a in t.alternatives) for t in weighted_terms(parse_query("英语 2024版"))}
    assert weights["英语"] == 1.0 and weights["2024版"] == QUALIFIER_FACTOR


def test_qualifiers_alone_or_inside_a_subjects_name_keep_their_weight() -> None:
    assert qualifiers(parse_query("入门 第二季")) == set()  # nothing else to qualify: they are what is asked
    assert weighted_terms(parse_query("入门 第二季")) == parse_query("入门 第二季")
    terms = parse_query("楷书基础 第二季")
    assert {terms[i].text for i in qualifiers(terms)} == {"基础", "第二季"}
    assert not qualifiers(parse_query("上网 电脑"))  # 上 of a word is no part marker


def _bonus_words(terms: Sequence[QueryTerm]) -> dict[str, float]:
    return {"".join(a.tokens): a.weight for t in terms for a in t.alternatives if a.title_bonus}


def test_a_questions_telling_words_are_also_scored_in_titles() -> None:
    vocabulary = bundled_vocabulary()
    terms = weighted_terms(parse_query("果树怎么修剪", vocabulary=vocabulary))
    counts = {"果树": 8, "修剪": 31, "怎么": 102}
    found = with_title_bonus(terms, counts, 1158)
    assert _bonus_words(found) == {"果树": TITLE_BONUS, "修剪": TITLE_BONUS}  # both rare in general Chinese
    assert all(a.field == "chars" and a.phrase for t in found for a in t.alternatives if a.title_bonus)
    # the bonus says nothing of how many records hold the word
    assert [term_frequency(t, counts) for t in found] == [term_frequency(t, counts) for t in terms]
    assert [term_tokens(t) for t in found] == [term_tokens(t) for t in terms]


def test_a_word_many_records_or_general_chinese_hold_gets_no_title_bonus() -> None:
    terms = weighted_terms(parse_query("手机怎么视频通话", vocabulary=bundled_vocabulary()))
    found = with_title_bonus(terms, {"手机": 82, "视频": 245, "通话": 9, "怎么": 102}, 1158)
    assert set(_bonus_words(found)) == {"通话"}
    terms = weighted_terms(parse_query("老人睡不好觉怎么办", vocabulary=bundled_vocabulary()))
    found = with_title_bonus(terms, {"老人": 46, "睡": 24, "不好": 39, "怎么办": 23}, 1158)
    assert _bonus_words(found) == {}  # 老人 and 怎么办 are common in general Chinese: they say little in a title


def test_words_typed_apart_or_held_by_no_record_get_no_title_bonus() -> None:
    for q in ("果树 修剪", "果树"):
        terms = weighted_terms(parse_query(q, vocabulary=bundled_vocabulary()))
        assert with_title_bonus(terms, {"果树": 8, "修剪": 31}, 1158) == terms
    terms = weighted_terms(parse_query("果树怎么修剪", vocabulary=bundled_vocabulary()))
    assert set(_bonus_words(with_title_bonus(terms, {"修剪": 31}, 1158))) == {"修剪"}  # 果树: nothing holds it
    assert with_title_bonus(terms, {}, 0) == terms  # no frequencies asked


def test_a_questions_one_general_subject_word_gets_the_title_bonus() -> None:
    def bonus(q: str, frequencies: dict[str, int]) -> set[str]:
        terms = weighted_terms(parse_query(q, vocabulary=bundled_vocabulary()))
        return set(_bonus_words(with_title_bonus(terms, frequencies, 1158)))

    assert bonus("想学点手机", {"点": 400, "手机": 82}) == {"手机"}  # 点 says little in general Chinese
    assert bonus("有没有讲历史的课", {"有没有": 30, "讲": 700, "历史": 56}) == {"历史"}  # 讲: more records hold it
    assert bonus("想学点法律知识", {"点": 400, "法律": 45, "知识": 120}) == set()  # two words say something
    assert bonus("老人睡不好觉怎么办", {"老人": 46, "睡": 24, "不好": 39, "怎么办": 23}) == set()  # 睡 is asked
    assert bonus("手机 点", {"点": 400, "手机": 82}) == set()  # words typed apart: no question


def _hit(*tags: str) -> SimpleNamespace:
    return SimpleNamespace(record=SimpleNamespace(tags=list(tags)))


def test_a_themes_feedback_takes_the_tags_half_of_its_holders_publishing_tags_share() -> None:
    hits = [_hit("缓和医疗", "临终关怀"), _hit("临终关怀", "缓和医疗", "生命教育"), _hit(), _hit(), _hit("缓和医疗")]
    term = feedback_term(hits, tags=3, depth=THEME_FEW, of_tagged=True, weight=0.1)
    assert term is not None
    assert term.text == "缓和医疗 临终关怀"  # 生命教育: one holder of the three publishing tags
    assert len(term.alternatives) == 2
    assert {alt.weight for alt in term.alternatives} == {0.1}
    counted_all = feedback_term(hits, tags=3, depth=THEME_FEW)  # half of every hit: 缓和医疗 only (3 of 5)
    assert counted_all is not None and counted_all.text == "缓和医疗"
    kept = feedback_term(hits, tags=3, depth=THEME_FEW, of_tagged=True, keep=lambda tag, _: tag != "缓和医疗")
    assert kept is not None and kept.text == "临终关怀"
    only = feedback_term(hits, tags=1, depth=THEME_FEW, of_tagged=True)
    assert only is not None and only.text == "缓和医疗"


def test_a_search_under_a_theme_wants_its_holders_tags_only_when_it_found_few() -> None:
    terms = parse_query("培训", vocabulary=bundled_vocabulary())
    assert wants_theme_feedback(terms, total=6)
    assert not wants_theme_feedback(terms, total=0)  # nothing to read tags from
    assert not wants_theme_feedback(terms, total=THEME_FEW)  # the word already names many of the theme's records
    assert not wants_theme_feedback([], total=6)  # a browse


def test_words_typed_apart_are_ranked_by_the_parts_a_record_holds() -> None:
    terms = parse_query("中国结 基础班")
    assert [(t.text, t.part) for t in terms] == [("中国", 0), ("结", 0), ("基础", 1), ("班", 1)]
    assert wants_coordination(terms)
    assert not wants_coordination(parse_query("中国结基础班"))  # one part: the engine's order
    weights = [1.0, 1.0, 1.0, 1.0]
    # 中国 and 基础班 hold one part, as 中国 and 结 do; both parts are the whole weight
    assert coordination_tier(terms, weights, [True, False, True, True]) == coordination_tier(
        terms, weights, [True, True, False, False]
    )
    assert coordination_tier(terms, weights, [True, True, True, True]) == 4
    assert coordination_tier(terms, weights, [True, False, True, False]) == 0


def test_no_record_is_read_when_the_plans_records_cannot_differ_in_share() -> None:
    terms = parse_query("古琴 入门")
    assert plan_holds(AllOf((0, AnyOf((0, 1)))), [True, False])
    assert not plan_holds(AllOf((0, AnyOf((0, 1)))), [False, True])
    assert not tiers_differ(AllOf((0, AnyOf((0, 1)))), terms, [10.0, 0.5])  # 入门 moves no record a step
    assert tiers_differ(AnyOf((0, 1)), terms, [3.0, 2.0])
    many = parse_query("书法 国画 摄影 太极 英语 插花 剪纸")  # more terms than are tried: taken to differ
    assert tiers_differ(AllOf((0, AnyOf(tuple(range(7))))), many, [1.0] + [0.001] * 6)
    assert not tiers_differ(AllOf((0, AnyOf(tuple(range(6))))), many[:6], [1.0] + [0.001] * 5)


def test_a_words_characters_for_a_theme_weigh_by_their_rarity_and_leave_the_questions_framing_out() -> None:
    chars = theme_characters_term(parse_query("孙子"))
    assert chars is not None and [a.tokens for a in chars.alternatives] == [("孙",), ("子",)]
    assert all(a.field == "chars" and a.title_bonus for a in chars.alternatives)  # never counted as holding the word
    assert chars.alternatives[0].weight > chars.alternatives[1].weight  # 孙 says more than the suffix 子
    question = theme_characters_term(parse_query("怎么和孙子相处"))
    assert question is not None and "怎" not in question.text and "孙" in question.text
    assert theme_characters_term(parse_query("abc")) is None
