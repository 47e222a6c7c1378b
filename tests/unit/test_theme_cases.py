"""The theme classifier against a table of records and the themes a learner expects (tests/data/themes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from config import load_themes
from indexer.normalize.themes import ThemeClassifier

FIELDS = {"row", "title", "categories", "tags", "subtitle", "description", "themes", "includes", "excludes"}
CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent.parent / "data" / "themes" / "cases.yaml").read_text(encoding="utf-8")
)["cases"]


@pytest.fixture(scope="module")
def classifier() -> ThemeClassifier:
    return ThemeClassifier(load_themes())


def themes_of(classifier: ThemeClassifier, case: dict[str, Any]) -> list[str]:
    return classifier.classify(
        categories=[list(path) for path in case.get("categories", [])],
        tags=list(case.get("tags", [])),
        title=case["title"],
        subtitle=case.get("subtitle"),
        description=case.get("description"),
    ).themes


@pytest.mark.parametrize("case", CASES, ids=[f"case{i:03d}" for i in range(len(CASES))])
def test_record_gets_the_themes_a_learner_expects(classifier: ThemeClassifier, case: dict[str, Any]) -> None:
    found = themes_of(classifier, case)
    said = f"{case['title']} ({case['row']}): {found}"
    if "themes" in case:
        expected = case["themes"]
        assert sorted(found) == sorted(expected), said
        assert found[:1] == expected[:1], f"primary theme of {said}"
    assert set(case.get("includes", [])) <= set(found), said
    assert not set(case.get("excludes", [])) & set(found), said


def test_every_case_says_what_it_expects() -> None:
    for case in CASES:
        assert {"themes", "includes", "excludes"} & set(case), case["title"]
        assert set(case) <= FIELDS, case["title"]
