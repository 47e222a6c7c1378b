"""The fourth held-out set of the quality suite (bench/quality/heldout5): a corpus of its own with its own queries.

Written without reading the engine's ranking, analysis, thesaurus, query-word, linkage or theme code and rules, and
committed before the engine answered any of its queries (bench/quality/HELDOUT5.md); never to be tuned against. Its
floors are the figures measured at its one run, rounded down: they catch a regression, they are not a target.
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
EARLIER_CORPORA = ("main", "heldout", "heldout3")
EARLIER_QUERY_SETS = ("main", "heldout", "heldout2", "heldout3", "heldout4")


def test_fourth_heldout_corpus_is_new_material_over_every_theme() -> None:
    mine = material(corpus_dir("heldout5") / "material.yaml")
    keys = {s.key for s in subjects(mine)}
    assert 22 <= len(keys) <= 26
    for name in EARLIER_CORPORA:
        other = material(corpus_dir(name) / "material.yaml")
        assert not keys & {s.key for s in subjects(other)}
        assert not {s.tags[0] for s in subjects(mine)} & {s.tags[0] for s in subjects(other)}
        assert not set(mine["teachers"]) & set(other["teachers"])
        assert not set(mine["institutions"]) & set(other["institutions"])
        assert not set(mine["cities"]) & set(other.get("cities") or ())
        assert not set(mine["places"]) & set(other.get("places") or ())
        assert mine["seed"] != other.get("seed")
    primary = Counter(s.themes[0] for s in subjects(mine))
    assert set(primary) == THEMES
    assert {t for s in subjects(mine) for t in s.themes} <= THEMES


def test_fourth_heldout_corpus_has_the_labelled_pairs_and_rewordings_it_was_written_for() -> None:
    corpus = build_corpus(name="heldout5")
    assert len(corpus.listings) >= 600
    assert len(corpus.duplicate_pairs) >= 350
    kinds = Counter(corpus.hard_negatives.values())
    assert sum(n for kind, n in kinds.items() if kind != "lecture") >= 400
    assert set(kinds) == {"tier", "semester", "year", "unit", "same_teacher", "other_teacher", "lecture"}
    rewordings = set(corpus.duplicate_pairs.values())
    assert rewordings == {"zone", "duration", "province", "teacher_in_text", "rewritten", "punctuation", "traditional"}
    assert sum(1 for x in corpus.listings if x.kind == "lecture") >= 60
    assert sum(1 for x in corpus.listings if x.kind == "story") == 24
    assert_pairs_as_labelled(corpus, traditional_platform="smartedu")


def test_fourth_heldout_set_asks_mostly_as_learners_ask_and_every_query_has_an_answer_or_none() -> None:
    labels = build_corpus(name="heldout5").labels()
    judgements = load_judgements(judgements_file("heldout5"))
    classes = Counter(j.query_class for j in judgements)
    assert len(judgements) >= 85
    assert set(classes) == set(CLASSES) - OUTSIDE_ALL
    assert classes["learner"] >= 35 and classes["theme_filter"] >= 16 and classes["nothing_relevant"] >= 5
    assert {j.theme for j in judgements if j.query_class == "theme_filter"} == THEMES
    pinyin = [j.q for j in judgements if j.query_class == "pinyin"]
    assert len(pinyin) >= 6 and any(" " in q for q in pinyin) and any(" " not in q for q in pinyin)
    for judgement in judgements:
        best = max(judgement.grades(labels).values(), default=0)
        assert (best >= 2) == (judgement.query_class != "nothing_relevant"), judgement.name
    assert len({j.name for j in judgements}) == len(judgements)


def test_fourth_heldout_set_asks_for_every_subject_family_of_its_corpus() -> None:
    labels = build_corpus(name="heldout5").labels()
    asked = {labels[uid]["family"] for j in load_judgements(judgements_file("heldout5"))
             for uid, grade in j.grades(labels).items() if grade == 3}  # fmt: skip
    assert asked == {label["family"] for label in labels.values()}


def test_fourth_heldout_queries_repeat_none_of_the_earlier_sets() -> None:
    # The third held-out corpus's two query sets are blind: their queries are compared here, never printed.
    earlier = {j.name for name in EARLIER_QUERY_SETS for j in load_judgements(judgements_file(name))}
    repeated = sum(1 for j in load_judgements(judgements_file("heldout5")) if j.name in earlier)
    assert repeated == 0


def test_fourth_heldout_figures_on_sqlite_hold_their_floors() -> None:
    report = run_suite("sqlite", corpus_name="heldout5")
    assert report["corpus"] == "heldout5" and report["figures"]["corpus.queries"] >= 85
    assert below_floors(report, load_floors(floors_file("heldout5"))) == []
