"""Highlighting: third-party text escaped first, matches wrapped in <mark>, snippets cut around them."""

from __future__ import annotations

from indexer.analysis import parse_query
from indexer.highlight import highlight, highlight_record, match_spans, needles


def test_matches_are_marked_and_html_is_escaped() -> None:
    assert highlight("<b>书法</b> & 入门", ["书法"]) == "&lt;b&gt;<mark>书法</mark>&lt;/b&gt; &amp; 入门"


def test_matching_is_done_on_folded_text_but_shows_the_original() -> None:
    assert highlight("書法入門", ["书法"]) == "<mark>書法</mark>入門"
    assert highlight("ＥＸＣＥＬ表格", ["excel"]) == "<mark>ＥＸＣＥＬ</mark>表格"


def test_latin_needles_match_whole_words_only() -> None:
    assert highlight("email 与 AI", ["ai"]) == "email 与 <mark>AI</mark>"


def test_snippet_is_a_window_around_the_first_match() -> None:
    text = "甲" * 200 + "养生" + "乙" * 200
    snippet = highlight(text, ["养生"], width=120)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>养生</mark>" in snippet
    assert len(snippet.replace("<mark>", "").replace("</mark>", "")) == 122


def test_text_without_a_match_shows_its_beginning() -> None:
    assert highlight("丙" * 300, ["养生"], width=120) == "丙" * 120 + "…"


def test_spans_survive_folding_that_changes_length() -> None:
    text = "㎏单位书法"
    assert match_spans(text, ["书法"]) == [(3, 5)]


def test_needles_of_a_pinyin_query_are_the_title_words_it_spells() -> None:
    assert set(needles(parse_query("shufa"), title="书法入门")) == {"书法", "shufa"}


def test_highlight_record_returns_title_and_description() -> None:
    marks = highlight_record(title="能者为师", description=None, terms=parse_query("能者"))
    assert marks == {"title": "<mark>能者</mark>为师", "description": ""}


def test_needles_worked_out_once_per_query_still_follow_each_title() -> None:
    terms = parse_query("shufa 太极")
    assert needles(terms, title="书法入门") == ["shufa", "书法", "太极"]
    assert needles(terms, title="舒发新说") == ["shufa", "太极", "舒发"]
    assert needles(terms, title="围棋") == ["shufa", "太极"]
    assert needles(parse_query("太极拳 入门"), title="书法") == ["太极拳", "入门"]


def test_a_snippet_escapes_the_markup_inside_its_window_only_as_html_needs() -> None:
    inside = "甲" * 200 + "<i>书法</i>" + "乙" * 10
    assert highlight(inside, ["书法"], width=60) == "…" + "甲" * 41 + "&lt;i&gt;<mark>书法</mark>&lt;/i&gt;" + "乙" * 10
    outside = "书法" + "乙" * 200 + "<b>&</b>"
    assert highlight(outside, ["书法"], width=20) == "<mark>书法</mark>" + "乙" * 18 + "…"
    assert highlight("说'书法'与\"书法\"", ["书法"]) == "说&#x27;<mark>书法</mark>&#x27;与&quot;<mark>书法</mark>&quot;"
    assert highlight("a<b", []) == "a&lt;b" and highlight("无标记", []) == "无标记"


def test_a_match_cut_by_the_snippet_window_is_marked_up_to_the_window_edge() -> None:
    text = "书法" + "乙" * 17 + "养生保健" + "丙" * 100
    assert highlight(text, ["书法", "养生保健"], width=20) == "<mark>书法</mark>" + "乙" * 17 + "<mark>养</mark>…"
    marked = "<p>" + text
    assert (
        highlight(marked, ["书法", "养生保健"], width=23)
        == "&lt;p&gt;<mark>书法</mark>" + "乙" * 17 + "<mark>养</mark>…"
    )
