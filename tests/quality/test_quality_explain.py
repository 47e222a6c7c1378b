"""`--explain`: each labelled pair the clusters got wrong, with its block and the matcher's verdict."""

from __future__ import annotations

from bench.quality.explain import explained, wrong_pairs
from tests.unit.test_linkage_matcher import course


def test_a_missed_duplicate_and_a_merged_hard_negative_are_explained() -> None:
    records = {r.uid: r for r in [
        course("a:1", "八段锦", teachers=["周红梅"]), course("b:1", "健身气功八段锦完整教学", teachers=["周红梅"]),
        course("a:2", "书法入门", teachers=["王秀兰"]), course("b:2", "书法进阶", teachers=["王秀兰"]),
    ]}  # fmt: skip
    rows = wrong_pairs(records, {("a:2", "b:2")}, same={("a:1", "b:1"): "subtitle"},
                       different={("a:2", "b:2"): "level"})  # fmt: skip
    assert [(r["what"], r["kind"], r["blocked"], r["verdict"]) for r in rows] == [
        ("missed", "subtitle", False, "veto: 标题不同"),
        ("merged", "level", True, "veto: 级别不同"),
    ]
    text = explained({"backend": "sqlite", "pairs": rows * 3}, 2)
    assert "missed subtitle: 八段锦 | 健身气功八段锦完整教学 — NO SHARED BLOCK; veto: 标题不同" in text
    assert "(3 merged level in all)" in text
