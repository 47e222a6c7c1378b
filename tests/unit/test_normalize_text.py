"""Text, count, list and URL normalizers on the shapes platforms really send."""

from __future__ import annotations

import pytest

from indexer.normalize.text import category_paths, clean_text, http_url, parse_count, split_list, strip_html


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("<p>第一讲&nbsp;楷书</p><p>第二讲</p>", "第一讲 楷书 第二讲"),
        ("书法<script>alert(1)</script>入门", "书法入门"),
        ("<p>&amp;lt;b&amp;gt; 只解码一次</p>", "&lt;b&gt; 只解码一次"),
        ("&lt;b&gt;粗体&lt;/b&gt; 是字面文字", "<b>粗体</b> 是字面文字"),
        ("  多个\n\n空白\t折叠  ", "多个 空白 折叠"),
        ("<div><style>p{}</style>正文<br>下一行</div>", "正文 下一行"),
        ("未闭合 <b>标签", "未闭合 标签"),
    ],
)
def test_strip_html_gives_plain_text(raw, plain):
    assert strip_html(raw) == plain


def test_clean_text_caps_length_with_an_ellipsis():
    text = clean_text("养" * 50, max_chars=10)
    assert text is not None
    assert len(text) == 10
    assert text.endswith("…")


@pytest.mark.parametrize("empty", [None, "", "   ", "<p> </p>"])
def test_clean_text_empty_is_none(empty):
    assert clean_text(empty, max_chars=10) is None


@pytest.mark.parametrize(
    ("raw", "items"),
    [
        ("书法,入门", ["书法", "入门"]),
        ("书法、国画；篆刻|书法", ["书法", "国画", "篆刻"]),
        (["养生", {"tag_name": "中医"}, None, ""], ["养生", "中医"]),
        ("张老师，李老师", ["张老师", "李老师"]),
        (None, []),
    ],
)
def test_split_list_handles_chinese_separators(raw, items):
    assert split_list(raw) == items


@pytest.mark.parametrize(
    ("raw", "count"),
    [
        (1234, 1234),
        ("1,234", 1234),
        ("1.2万", 12000),
        ("3k人次", 3000),
        ("12人", 12),
        ("很多", None),
        (-3, None),
        (True, None),
        ("2亿", 200_000_000),
        (float("inf"), None),
        (float("nan"), None),
        (10**20, None),
        ("9999999亿", None),
        (10**12, 10**12),
    ],
)
def test_parse_count(raw, count):
    assert parse_count(raw) == count


def test_category_paths_from_strings_and_lists():
    assert category_paths(["书画系 > 书法", ["舞蹈体育系", "太极"], "书画系>书法"]) == [
        ["书画系", "书法"],
        ["舞蹈体育系", "太极"],
    ]


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("https://le.ouchn.cn/courseDetails/4784ff5f", True),
        ("http://www.lnjyw.org/Pages/News/2022/12/05/x.htm", True),
        ("javascript:alert(1)", False),
        ("ftp://example.org/a", False),
        ("/relative/path", False),
        ("https://", False),
        ("https://a.org/x y", False),
        (None, False),
    ],
)
def test_http_url_accepts_only_absolute_http(raw, ok):
    assert (http_url(raw) is not None) is ok
