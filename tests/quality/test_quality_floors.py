"""The quality suite in CI: relevance, duplicate and theme figures of both backends hold their floors, and the
two backends rank alike.

SQLite answers every query of bench/quality/judgements.yaml, with its default search engine and with FTS5 (the
engine `index.search_engine: fts5` picks); Elasticsearch (noida-db, or ELASTICSEARCH_URL's
cluster) answers the first two of each class, as its floors in bench/quality/floors.yaml are measured; both
index the whole corpus through a real harvest of its local platforms.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from bench.quality.report import below_floors, load_floors
from bench.quality.suite import run_suite

CI_RUNS = [("sqlite", None), ("sqlite-fts5", None), ("elasticsearch", 2)]
pytestmark = pytest.mark.xdist_group(__name__)  # one worker: the runs `report_of` keeps are shared by its tests


@functools.cache
def report_of(backend: str, sample: int | None) -> dict[str, Any]:
    """One run of the suite per backend and sample, shared by the tests of this module (a worker runs them)."""
    return run_suite(backend, sample=sample)


@pytest.mark.parametrize(("backend", "sample"), CI_RUNS, ids=[kind for kind, _ in CI_RUNS])
def test_quality_figures_hold_their_floors(backend: str, sample: int | None) -> None:
    report = report_of(backend, sample)
    floors = load_floors()
    assert report["backend"] in floors, f"bench/quality/floors.yaml has no floors for {report['backend']}"
    assert below_floors(report, floors) == []


def test_elasticsearch_ranks_every_sampled_query_as_the_embedded_engine_does() -> None:
    """Both score a word or phrase in the same weighted fields (indexer/backends/weighted_fields.py) with the same
    bm25 and order ties by uid: each query finds as many records, the same first ten, each rank's score the same
    (to SCORE_AGREEMENT: the engines round floats apart), and in the same order but where two records score that
    close (a near tie either engine may order either way)."""
    embedded = {(row["q"], row["theme"]): row for row in report_of("sqlite", None)["queries"]}
    sampled = report_of("elasticsearch", 2)["queries"]
    assert len(sampled) >= 2 * 10
    differing = [row["q"] for row in sampled if not ranked_alike(embedded[row["q"], row["theme"]], row)]
    assert differing == []


SCORE_AGREEMENT = 1e-5
"""Relative difference two engines' scores of one rank may have (measured: at most 1.6e-7 on the sampled queries)."""


def ranked_alike(one: dict[str, Any], other: dict[str, Any]) -> bool:
    if one["total"] != other["total"] or sorted(one["top"]) != sorted(other["top"]):
        return False
    for uid, score, their_uid, their_score in zip(
        one["top"], one["top_scores"], other["top"], other["top_scores"], strict=True
    ):
        if abs(score - their_score) > SCORE_AGREEMENT * max(abs(score), 1e-9):
            return False
        if uid != their_uid and not any(
            abs(score - s) <= SCORE_AGREEMENT * max(abs(score), 1e-9)
            for u, s in zip(one["top"], one["top_scores"], strict=True)
            if u == their_uid
        ):
            return False  # a different record at this rank, and not one scoring as close as a near tie
    return True
