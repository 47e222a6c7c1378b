"""The third held-out set of the quality suite (bench/quality/heldout3): a new corpus with its own queries.

Written without reading the engine's ranking, analysis, linkage or theme rules and committed before the engine
answered any of its queries (bench/quality/README.md, "A third held-out set"); never to be tuned against. Its
floors are the figures measured when it landed, rounded down: they catch a regression, they are not a target.
"""

from __future__ import annotations

from collections import Counter

from labelled_pairs import assert_pairs_as_labelled

from bench.quality.corpus import build_corpus, corpus_dir, floors_file, judgements_file, material, subjects
from bench.quality.judge import CLASSES, OUTSIDE_ALL, load_judgements
from bench.quality.report import below_floors, load_floors
from bench.quality.suite import run_suite

THEMES = {"思想道德", "科学文化", "养生保健", "心理健康", "职业技能", "法律法规", "家庭理财", "闲暇生活", "代际沟通",
          "生命尊严"}  # fmt: skip


def test_third_heldout_set_asks_what_learners_ask_and_every_query_has_an_answer_or_none() -> None:
    corpus, judgements = build_corpus(name="heldout3"), load_judgements(judgements_file("heldout3"))
    labels = corpus.labels()
    classes = Counter(j.query_class for j in judgements)
    assert len(judgements) >= 70
    assert set(classes) == set(CLASSES) - OUTSIDE_ALL
    assert classes["learner"] >= 24 and classes["theme_filter"] >= 8
    assert classes["pinyin"] >= 6 and classes["nothing_relevant"] >= 5
    for judgement in judgements:
        best = max(judgement.grades(labels).values(), default=0)
        assert (best >= 2) == (judgement.query_class != "nothing_relevant"), judgement.name
    assert len({j.name for j in judgements}) == len(judgements)


def test_third_heldout_queries_repeat_none_of_the_earlier_sets() -> None:
    # The second held-out set is blind: its queries are compared here, never printed.
    earlier = {j.name for name in ("main", "heldout", "heldout2") for j in load_judgements(judgements_file(name))}
    repeated = sum(1 for j in load_judgements(judgements_file("heldout3")) if j.name in earlier)
    assert repeated == 0


def test_third_heldout_corpus_is_new_material_over_every_theme() -> None:
    mine = material(corpus_dir("heldout3") / "material.yaml")
    earlier = [material(corpus_dir(name) / "material.yaml") for name in ("main", "heldout")]
    keys = {s.key for s in subjects(mine)}
    assert 20 <= len(keys) <= 26
    for other in earlier:
        assert not keys & {s.key for s in subjects(other)}
        assert not {s.tags[0] for s in subjects(mine)} & {s.tags[0] for s in subjects(other)}
        assert not set(mine["teachers"]) & set(other["teachers"])
        assert not set(mine["institutions"]) & set(other["institutions"])
    primary = Counter(s.themes[0] for s in subjects(mine))
    assert set(primary) == THEMES
    assert {t for s in subjects(mine) for t in s.themes} <= THEMES


def test_third_heldout_corpus_has_the_labelled_pairs_and_rewordings_it_was_written_for() -> None:
    corpus = build_corpus(name="heldout3")
    assert len(corpus.listings) >= 550
    assert len(corpus.duplicate_pairs) >= 300
    kinds = Counter(corpus.hard_negatives.values())
    assert sum(n for kind, n in kinds.items() if kind != "lecture") >= 300
    assert set(kinds) == {"grade", "level_words", "half", "issue", "same_teacher", "other_teacher", "lecture"}
    rewordings = set(corpus.duplicate_pairs.values())
    assert rewordings == {"channel", "episodes", "citysite", "teacher_in_text", "rewritten", "traditional"}
    assert sum(1 for x in corpus.listings if x.kind == "lecture") >= 60
    assert_pairs_as_labelled(corpus, traditional_platform="oai")


def test_third_heldout_figures_on_sqlite_hold_their_floors() -> None:
    report = run_suite("sqlite", corpus_name="heldout3")
    assert report["corpus"] == "heldout3" and report["figures"]["corpus.queries"] >= 70
    assert below_floors(report, load_floors(floors_file("heldout3"))) == []
