"""The quality suite in CI: relevance, duplicate and theme figures of both backends hold their floors.

SQLite answers every query of bench/quality/judgements.yaml, with its default search engine and with FTS5 (the
engine `index.search_engine: fts5` picks); Elasticsearch (noida-db, or ELASTICSEARCH_URL's
cluster) answers the first two of each class, as its floors in bench/quality/floors.yaml are measured; both
index the whole corpus through a real harvest of its local platforms.
"""

from __future__ import annotations

import pytest

from bench.quality.report import below_floors, load_floors
from bench.quality.suite import run_suite

CI_RUNS = [("sqlite", None), ("sqlite-fts5", None), ("elasticsearch", 2)]


@pytest.mark.parametrize(("backend", "sample"), CI_RUNS, ids=[kind for kind, _ in CI_RUNS])
def test_quality_figures_hold_their_floors(backend: str, sample: int | None) -> None:
    report = run_suite(backend, sample=sample)
    floors = load_floors()
    assert report["backend"] in floors, f"bench/quality/floors.yaml has no floors for {report['backend']}"
    assert below_floors(report, floors) == []
