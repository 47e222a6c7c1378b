"""The held-out set of the quality suite (bench/quality/heldout): its size and labels, and its SQLite figures.

The floors guard against regressions only: they are the figures measured when the set landed, rounded down, and
the set must never be tuned against (bench/quality/README.md, "Held-out set").
"""

from __future__ import annotations

from collections import Counter

import opencc

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
    listing = {x.uid: x for x in corpus.listings}
    to_simplified = opencc.OpenCC("t2s")
    for (a, b), kind in corpus.duplicate_pairs.items():
        one, two = listing[a], listing[b]
        assert one.course.course_id == two.course.course_id
        if kind == "traditional":
            assert "oai" in (one.platform, two.platform)
            written = one if one.platform == "oai" else two
            assert to_simplified.convert(written.description) != written.description
        if kind == "teacher_in_text":
            named = one if one.rewording == kind else two
            assert named.teacher == "" and named.course.teacher in named.description
    for (a, b), kind in corpus.hard_negatives.items():
        one, two = listing[a], listing[b]
        if kind == "lecture":
            assert one.course == two.course and one.lecture != two.lecture
        else:
            assert one.course.course_id != two.course.course_id and one.course.subject == two.course.subject
    main = build_corpus()
    assert not {x.course.teacher for x in main.listings} & {x.course.teacher for x in corpus.listings}


def test_heldout_figures_on_sqlite_hold_their_floors() -> None:
    report = run_suite("sqlite", corpus_name="heldout")
    assert report["corpus"] == "heldout"
    assert below_floors(report, load_floors(HELDOUT / "floors.yaml")) == []
