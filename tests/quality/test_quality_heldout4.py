"""The second query set over the third held-out corpus (bench/quality/heldout3/judgements4.yaml, `--corpus heldout4`).

Written from what learners ask, without reading the engine's rules, and committed before the engine answered any of
its queries (bench/quality/HELDOUT4.md); never to be tuned against. Its floors (floors4.yaml) are the figures
measured when it landed, rounded down: they catch a regression, they are not a target.
"""

from __future__ import annotations

from collections import Counter

from bench.quality.corpus import build_corpus, floors_file, judgements_file
from bench.quality.judge import CLASSES, OUTSIDE_ALL, load_judgements
from bench.quality.report import below_floors, load_floors
from bench.quality.suite import run_suite


def test_fourth_heldout_set_asks_new_questions_of_the_third_corpus_mostly_as_learners_ask_them() -> None:
    corpus = build_corpus(name="heldout4")
    assert corpus.labels() == build_corpus(name="heldout3").labels()
    judgements = load_judgements(judgements_file("heldout4"))
    classes = Counter(j.query_class for j in judgements)
    assert len(judgements) >= 80
    assert set(classes) == set(CLASSES) - OUTSIDE_ALL
    assert classes["learner"] >= 30 and classes["theme_filter"] >= 15
    assert classes["pinyin"] >= 6 and classes["nothing_relevant"] >= 5
    labels = corpus.labels()
    for judgement in judgements:
        best = max(judgement.grades(labels).values(), default=0)
        assert (best >= 2) == (judgement.query_class != "nothing_relevant"), judgement.name
    assert len({j.name for j in judgements}) == len(judgements)


def test_fourth_heldout_set_asks_for_every_subject_family_of_the_corpus() -> None:
    labels = build_corpus(name="heldout4").labels()
    asked = {labels[uid]["family"] for j in load_judgements(judgements_file("heldout4"))
             for uid, grade in j.grades(labels).items() if grade == 3}  # fmt: skip
    assert asked == {label["family"] for label in labels.values()}


def test_fourth_heldout_queries_repeat_none_of_the_earlier_sets() -> None:
    # The second held-out set is blind: its queries are compared here, never printed.
    earlier = {j.name for name in ("main", "heldout", "heldout2", "heldout3")
               for j in load_judgements(judgements_file(name))}  # fmt: skip
    repeated = sum(1 for j in load_judgements(judgements_file("heldout4")) if j.name in earlier)
    assert repeated == 0


def test_fourth_heldout_figures_on_sqlite_hold_their_floors() -> None:
    report = run_suite("sqlite", corpus_name="heldout4")
    assert report["corpus"] == "heldout4" and report["figures"]["corpus.queries"] >= 80
    assert below_floors(report, load_floors(floors_file("heldout4"))) == []
