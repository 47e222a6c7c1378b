"""The second held-out query set (bench/quality/heldout/judgements2.yaml): new queries over the held-out corpus.

Its floors (floors2.yaml) guard against regressions only: the figures measured when the set landed, rounded down.
The set must never be tuned against (bench/quality/README.md, "A second held-out query set").
"""

from __future__ import annotations

from collections import Counter

from bench.quality.corpus import build_corpus, floors_file, judgements_file
from bench.quality.judge import CLASSES, OUTSIDE_ALL, load_judgements
from bench.quality.report import below_floors, load_floors
from bench.quality.suite import run_suite


def test_second_heldout_set_asks_new_questions_of_the_heldout_corpus() -> None:
    corpus = build_corpus(name="heldout2")
    assert corpus.labels() == build_corpus(name="heldout").labels()
    judgements = load_judgements(judgements_file("heldout2"))
    classes = Counter(j.query_class for j in judgements)
    assert len(judgements) >= 60
    assert set(classes) == set(CLASSES) - OUTSIDE_ALL
    assert classes["learner"] >= 20 and classes["theme_filter"] >= 8 and classes["nothing_relevant"] >= 5
    labels = corpus.labels()
    for judgement in judgements:
        best = max(judgement.grades(labels).values(), default=0)
        assert (best >= 2) == (judgement.query_class != "nothing_relevant"), judgement.name
    earlier = {j.name for name in ("main", "heldout") for j in load_judgements(judgements_file(name))}
    assert not earlier & {j.name for j in judgements}
    assert len({j.name for j in judgements}) == len(judgements)


def test_second_heldout_figures_on_sqlite_hold_their_floors() -> None:
    report = run_suite("sqlite", corpus_name="heldout2")
    assert report["corpus"] == "heldout2" and report["figures"]["corpus.queries"] >= 60
    assert below_floors(report, load_floors(floors_file("heldout2"))) == []
