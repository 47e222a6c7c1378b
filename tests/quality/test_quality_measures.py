"""The quality suite's measures and judgements on hand-made cases, so a figure means what its name says."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pytest

from bench.quality.corpus import build_corpus
from bench.quality.judge import EMPTY_ALLOWED, JudgementError, load_judgements
from bench.quality.metrics import clustered_pairs, ndcg, pair_figures, recall, reciprocal_rank, theme_figures
from bench.quality.report import below_floors, tables


def test_ndcg_is_one_for_the_ideal_order_and_discounts_a_late_best_hit() -> None:
    grades = {"a": 3, "b": 2, "c": 1}
    assert ndcg(["a", "b", "c"], grades) == pytest.approx(1.0)
    late = ndcg(["x", "y", "a", "b", "c"], grades)
    ideal = 7 + 3 / math.log2(3) + 1 / 2
    assert late == pytest.approx((7 / 2 + 3 / math.log2(5) + 1 / math.log2(6)) / ideal)


def test_recall_and_reciprocal_rank_count_only_grades_of_two_and_more() -> None:
    grades = {"a": 1, "b": 2, "c": 3}
    assert recall(["a", "b"], grades) == 0.5
    assert reciprocal_rank(["a", "x", "c"], grades) == pytest.approx(1 / 3)
    assert reciprocal_rank(["a"], grades) == 0.0


def test_recall_at_k_is_one_when_k_relevant_records_fill_the_first_k() -> None:
    grades = {f"r{i}": 3 for i in range(60)}
    assert recall([f"r{i}" for i in range(50)], grades, 50) == 1.0
    assert recall([f"r{i}" for i in range(25)], grades, 50) == 0.5


def test_pairs_of_a_cluster_are_judged_against_same_course_and_hard_negative_labels() -> None:
    merged = clustered_pairs({"a": "k1", "b": "k1", "c": "k1", "d": None, "e": "k2"})
    assert merged == {("a", "b"), ("a", "c"), ("b", "c")}
    figures = pair_figures(merged, {("a", "b"): "prefix", ("d", "e"): "remark"}, {("a", "c"): "season"})
    assert figures["precision"] == pytest.approx(1 / 3)
    assert figures["recall"] == 0.5 and figures["recall.prefix"] == 1.0 and figures["recall.remark"] == 0.0
    assert figures["hard_negative_merge_rate"] == 1.0


def test_theme_f1_is_per_theme_and_macro_averaged_over_all_ten() -> None:
    figures = theme_figures({"a": ["养生保健"], "b": ["闲暇生活", "养生保健"]}, {"a": ["养生保健"], "b": ["闲暇生活"]})
    assert figures["f1.闲暇生活"] == 1.0
    assert figures["f1.养生保健"] == pytest.approx(2 / 3)
    assert figures["macro_f1"] == pytest.approx((1 + 2 / 3) / 10)


def test_every_query_with_grades_has_a_relevant_record_in_the_corpus() -> None:
    labels = build_corpus().labels()
    for judgement in load_judgements():
        best = max(judgement.grades(labels).values(), default=0)
        assert (best >= 2) == bool(judgement.rows), judgement.name
        assert bool(judgement.rows) == (judgement.query_class != "nothing_relevant") or (
            judgement.query_class in EMPTY_ALLOWED
        ), judgement.name


def test_a_judgement_with_an_unknown_label_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "judgements.yaml"
    path.write_text("queries:\n  - {q: 书法, class: two_char, grades: [[3, {teacher: 王秀兰}]]}\n", encoding="utf-8")
    with pytest.raises(JudgementError, match="bad row"):
        load_judgements(path)


def test_a_figure_under_its_floor_or_over_its_ceiling_is_reported() -> None:
    report = {"backend": "sqlite", "figures": {"relevance.all.mrr": 0.5, "duplicates.hard_negative_merge_rate": 0.2}}
    floors = {
        "sqlite": {"at_least": {"relevance.all.mrr": 0.9}, "at_most": {"duplicates.hard_negative_merge_rate": 0.01}}
    }
    assert len(below_floors(report, floors)) == 2


def test_corpus_labels_every_duplicate_and_hard_negative_kind_with_the_evidence_it_claims() -> None:
    corpus = build_corpus()
    listing = {x.uid: x for x in corpus.listings}
    assert 1000 <= len(listing) <= 1500
    for (a, b), kind in corpus.hard_negatives.items():
        one, two = listing[a].course, listing[b].course
        assert one.course_id != two.course_id and one.lessons != two.lessons
        assert (one.teacher == two.teacher) == (kind != "other_teacher")
    for a, b in corpus.duplicate_pairs:
        assert listing[a].course is listing[b].course and listing[a].platform != listing[b].platform
    kinds = {"level", "season", "other_teacher", "part", "numbered", "edition"}
    assert {k: n for k, n in Counter(corpus.hard_negatives.values()).items() if n >= 40}.keys() == kinds
    assert {k for k, n in Counter(corpus.duplicate_pairs.values()).items() if n >= 40} == {
        "punctuation",
        "remark",
        "prefix",
        "subtitle",
    }


def test_the_theme_table_gives_each_theme_precision_and_recall_beside_its_f1() -> None:
    """Whether a theme fires on other themes' records or misses its own is an aggregate, shown on blind sets too."""
    found = theme_figures({"a": ["思想道德"], "b": ["科学文化"], "c": ["思想道德"]},
                          {"a": ["思想道德"], "b": ["思想道德", "科学文化"], "c": []})  # fmt: skip
    figures = {f"themes.{k}": v for k, v in found.items()} | {"corpus.records": 3.0, "corpus.queries": 0.0,
                                                              "seconds.index": 0.0, "seconds.search": 0.0}  # fmt: skip
    table = tables([{"backend": "sqlite", "figures": figures}])
    row = next(line for line in table.splitlines() if "思想道德" in line)
    assert row.split()[-1] == "0.500/0.500/0.500"  # one of two found, one of two given right
    row = next(line for line in table.splitlines() if "科学文化" in line)
    assert row.split()[-1] == "1.000/1.000/1.000"
