"""The held-out set of the quality suite (bench/quality/heldout): its size and labels, and its SQLite figures.

The floors guard against regressions only: they are the figures measured when the set landed, rounded down, and
the set must never be tuned against (bench/quality/README.md, "Held-out set").
"""

from __future__ import annotations

from collections import Counter

from labelled_pairs import assert_pairs_as_labelled

from bench.quality.corpus import CORPORA, build_corpus
from bench.quality.judge import CLASSES, OUTSIDE_ALL, load_judgements
from bench.quality.report import below_floors, load_floors
from bench.quality.suite import run_suite

HELDOUT = CORPORA["heldout"]


def test_heldout_set_has_the_queries_and_labelled_pairs_the_review_asks_for() -> None:
    corpus, judgements = build_corpus(name="heldout"), load_judgements(HELDOUT / "judgements.yaml")
    labels = corpus.labels()
    assert len(judgements) >= 60
    assert set(Counter(j.query_class for j in judgements)) == set(CLASSES) - OUTSIDE_ALL
    for judgement in judgements:
        best = max(judgement.grades(labels).values(), default=0)
        assert (best >= 2) == (judgement.query_class != "nothing_relevant"), judgement.name
    courses = {kind for kind in corpus.hard_negatives.values() if kind != "lecture"}
    assert len(corpus.duplicate_pairs) >= 150
    assert sum(1 for kind in corpus.hard_negatives.values() if kind != "lecture") >= 150
    assert courses == {"class_level", "volume", "answer_session", "term", "same_teacher"}
    assert {"replay", "retitle", "teacher_in_text", "traditional", "lecture"} <= set(corpus.duplicate_pairs.values())


def test_heldout_listings_are_reworded_as_their_labels_say() -> None:
    corpus = build_corpus(name="heldout")
    assert_pairs_as_labelled(corpus, traditional_platform="oai")
    main = build_corpus()
    assert not {x.course.teacher for x in main.listings} & {x.course.teacher for x in corpus.listings}


def test_heldout_figures_on_sqlite_hold_their_floors() -> None:
    report = run_suite("sqlite", corpus_name="heldout")
    assert report["corpus"] == "heldout"
    assert below_floors(report, load_floors(HELDOUT / "floors.yaml")) == []
