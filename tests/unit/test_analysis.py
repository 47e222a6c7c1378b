"""The shared Chinese text pipeline: folding, segmentation, pinyin and query parsing."""

from __future__ import annotations

import pytest
import rjieba

from indexer.analysis import (
    _cut_words,
    analyze_document,
    can_widen,
    chars_text,
    clean_tokens,
    fold,
    index_text,
    is_pinyin,
    is_qualifier,
    parse_query,
    pinyin_spelled,
    pinyin_splits,
    pinyin_syllables_text,
    pinyin_tokens,
    segment,
    title_pinyin_key,
    word_pinyin,
)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("ＥＸＣＥＬ　表格（１２３）", "excel 表格(123)"),
        ("書法入門", "书法入门"),
        ("養生太極", "养生太极"),
        ("Python AI", "python ai"),
        ("已是简体", "已是简体"),
        ("", ""),
    ],
)
def test_fold_makes_full_width_half_width_simplified_and_lowercase(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_segment_in_search_mode_adds_the_sub_words_of_long_words() -> None:
    tokens = segment("老年人学习智能手机")
    assert {"老年人", "老年", "智能手机", "智能", "手机"} <= set(tokens)


def test_segment_drops_punctuation_and_whitespace_tokens() -> None:
    tokens = segment("书法，入门！  《茶艺》…… C++编程")
    assert tokens == ["书法", "入门", "茶艺", "c", "编程"]


def test_index_text_folds_before_cutting() -> None:
    assert index_text("書法入門") == "书法 入门"


def test_analyze_document_fills_every_field() -> None:
    text = analyze_document(
        title="智能手机入門", subtitle="第一讲", tags="智慧助老 手机", description="视频通话。",
        people="王明 教授", provider="国家开放大学",
    )  # fmt: skip
    assert text.fields["title"].split() == ["智能", "能手", "手机", "智能手机", "入门"]
    assert text.fields["description"].split() == ["视频", "通话"]
    assert text.fields["pinyin"] == "zhi neng shou ji ru men zzsep znsj"  # then the initials of 智能手机
    assert text.fields["chars"].split()[:6] == ["智", "能", "手", "机", "入", "门"]
    assert text.folded_title == "智能手机入门"
    assert text.title_pinyin == "zhinengshoujirumen"


def test_separator_characters_in_the_text_do_not_shift_fields() -> None:
    text = analyze_document(title="书法\x1f入门", subtitle="", tags="", description="养生", people="", provider="")
    assert text.fields["title"] == "书法 入门" and text.fields["description"] == "养生"


def test_pinyin_of_words_and_titles() -> None:
    assert word_pinyin("书法") == "shufa"
    assert word_pinyin("养生") == "yangsheng"
    assert word_pinyin("绿色") == "lvse"
    assert pinyin_tokens("书法 入门 茶 excel") == "shufa rumen"
    assert title_pinyin_key("银行理财") == "yinhanglicai"


@pytest.mark.parametrize("word", ["shufa", "yangsheng", "taijiquan", "zhinengshouji", "xian"])
def test_words_of_two_or_more_pinyin_syllables_are_pinyin(word: str) -> None:
    assert is_pinyin(word)


@pytest.mark.parametrize("word", ["ai", "excel", "python", "ppt", "cha", "AI", "shu1fa", ""])
def test_other_latin_words_are_not_pinyin(word: str) -> None:
    assert not is_pinyin(word)


def test_chars_text_splits_every_character() -> None:
    assert chars_text("茶艺ai") == "茶 艺 a i"


def test_chars_text_keeps_words_and_tags_apart() -> None:
    document = analyze_document(
        title="用AI助手写春联、查资料", subtitle="", tags="人工智能 智能手机", description="", people="", provider=""
    )
    chars = document.fields["chars"]
    assert "能 智" not in chars
    assert "联 查" not in chars
    assert "智 能 手 机" in chars


def test_run_of_single_characters_becomes_one_phrase_term() -> None:
    (term,) = parse_query("能智")
    assert term.text == "能智"
    assert {(a.field, a.tokens, a.phrase) for a in term.alternatives} == {
        ("text", ("能", "智"), True),
        ("chars", ("能", "智"), True),
        ("text", ("能智",), False),  # the run as one word, in case the cut split a word the index keeps whole
    }


def test_single_character_query_may_match_inside_title_words() -> None:
    (term,) = parse_query("茶")
    assert ("chars", ("茶",)) in {(a.field, a.tokens) for a in term.alternatives}


def test_words_are_separate_terms_and_long_words_offer_their_sub_words() -> None:
    terms = parse_query("老年人 智能手机")
    assert [t.text for t in terms] == ["老年人", "智能手机"]
    assert ("智能", "手机") in {a.tokens for a in terms[1].alternatives}


def test_traditional_and_full_width_queries_are_folded() -> None:
    assert [t.text for t in parse_query("書法 ＥＸＣＥＬ")] == ["书法", "excel"]


def test_pinyin_query_gets_a_pinyin_alternative_and_plain_latin_does_not() -> None:
    (shufa,) = parse_query("shufa")
    (excel,) = parse_query("Excel")
    assert "pinyin" in {a.field for a in shufa.alternatives}
    assert {a.field for a in excel.alternatives} == {"text"}


@pytest.mark.parametrize("q", ['"书法"', "书法*", "NEAR(书法 养生)", "-书法", "title:书法", "^书法 AND (养生)"])
def test_fts_syntax_becomes_plain_word_tokens(q: str) -> None:
    for term in parse_query(q):
        for alt in term.alternatives:
            assert all(token.isalnum() for token in alt.tokens), (q, alt)


def test_lone_function_words_are_dropped_when_other_terms_exist() -> None:
    assert [t.text for t in parse_query("老年人的手机")] == ["老年人", "手机"]
    assert [t.text for t in parse_query("的")] == ["的"]


def test_punctuation_only_query_has_no_terms() -> None:
    assert parse_query("，。！？ “”") == []


def test_widen_adds_title_substring_alternatives_to_chinese_words() -> None:
    plain, wide = parse_query("书法"), parse_query("书法", widen=True)
    assert can_widen(plain)
    assert ("chars", ("书", "法")) not in {(a.field, a.tokens) for a in plain[0].alternatives}
    assert ("chars", ("书", "法")) in {(a.field, a.tokens) for a in wide[0].alternatives}
    assert not can_widen(parse_query("excel"))


def test_pinyin_field_holds_the_syllables_of_every_title_word_in_order() -> None:
    assert pinyin_syllables_text("广场舞、银行理财 abc") == "guang chang wu zzsep yin hang li cai zzsep gcw yhlc"
    assert pinyin_syllables_text("成长") == "cheng zhang"  # a polyphone read within its word


def test_pinyin_splits_are_every_reading_fewest_syllables_first() -> None:
    assert pinyin_splits("xian") == [("xian",), ("xi", "an")]
    assert pinyin_splits("baduanjin")[0] == ("ba", "duan", "jin")
    assert pinyin_splits("excel") == []


@pytest.mark.parametrize("q", ["ba duan jin", "baduan jin", "ba'duan'jin"])
def test_pinyin_typed_in_pieces_is_one_phrase_term(q: str) -> None:
    (term,) = parse_query(q)
    assert ("pinyin", ("ba", "duan", "jin"), True) in {(a.field, a.tokens, a.phrase) for a in term.alternatives}


def test_latin_words_that_are_not_all_pinyin_stay_separate_terms() -> None:
    assert [t.text for t in parse_query("python ai")] == ["python", "ai"]


def test_pinyin_spelled_finds_a_word_the_cut_splits() -> None:
    assert pinyin_spelled("学跳广场舞", ("guang", "chang", "wu")) == ["广场舞"]


def test_a_part_or_word_saying_only_which_course_of_a_series_is_a_qualifier() -> None:
    flags = {
        t.text: t.qualifier
        for q in ("二胡 提高班", "旗袍走秀 第二学期", "剪纸 下", "越剧 直播答疑")
        for t in parse_query(q)
    }
    assert flags == {"二胡": False, "提高班": True, "旗袍": False, "走秀": False, "第二学期": True,
                     "剪纸": False, "下": True, "越剧": False, "直播": True, "答疑": True}  # fmt: skip
    assert [t.qualifier for t in parse_query("二胡提高班")] == [False, True]  # a word the cut keeps apart
    assert not any(t.qualifier for t in parse_query("楷书 上网 唱腔"))
    assert is_qualifier("2024版") and is_qualifier("基础班") and not is_qualifier("楷书基础")


def test_a_qualifier_the_cut_splits_into_pieces_saying_nothing_alone_is_one_phrase() -> None:
    for q, qualifier, tokens in (
        ("英语 2024版", "2024版", ("2024", "版")),
        ("旗袍 第二学期", "第二学期", ("第二", "学期")),
    ):
        term = parse_query(q)[1]
        assert (term.text, term.qualifier) == (qualifier, True)
        assert [(a.tokens, a.phrase) for a in term.alternatives] == [(tokens, True)]  # not every 版 or 学期
    assert [t.text for t in parse_query("越剧 直播答疑")] == ["越剧", "直播", "答疑"]  # 答疑 says it alone


def test_a_word_framing_a_question_is_marked_by_what_it_is() -> None:
    from indexer.query_vocabulary import bundled_vocabulary

    vocabulary = bundled_vocabulary()
    framing = {t.text: t.framing for t in parse_query("子女不给赡养费怎么办", vocabulary=vocabulary)}
    assert framing["怎么办"] and not framing["子女"] and not framing["赡养费"]  # 怎么 (a pronoun filler) inside it
    assert [t.framing for t in parse_query("腰酸背痛有没有办法", vocabulary=vocabulary)] == [False, True, False]
    asked = parse_query("水管漏水怎么办", vocabulary=vocabulary)  # no filler, no stop character: 怎么办 makes it one
    assert all(t.asked for t in asked) and [t.framing for t in asked] == [False, False, True]
    assert not any(t.framing for t in parse_query("大家庭 相处", vocabulary=vocabulary))  # 大家: a pronoun, no filler


CUT_PARTS = ("书法入门", "excel表格(123)", "太极拳\u200b\u200c\u200b", "a_b__书法", "手机,微信/支付宝", "2024版!", "")


@pytest.mark.parametrize("part", CUT_PARTS)
def test_a_part_is_cut_into_the_words_cleaning_each_token_would_give(part: str) -> None:
    each = [word for raw in rjieba.cut(part, False) for word in clean_tokens(raw).split()]
    assert _cut_words(part) == each


def test_a_word_asked_again_has_the_same_alternatives_widened_or_not() -> None:
    plain, widened = parse_query("智能手机"), parse_query("智能手机", widen=True)
    assert parse_query("智能手机", widen=True) == widened and parse_query("智能手机") == plain
    assert [a.field for a in widened[0].alternatives] == ["text", "text", "chars"]
    assert [a.field for a in plain[0].alternatives] == ["text", "text"]
