"""The theme classifier on development sets written the way other editors write (data/themes_dev.yaml and the
smaller themes_dev2.yaml, themes_dev3.yaml and themes_dev4.yaml, the last of the weakest themes and their hard
negatives): community-education sites, 老年大学 sites, the open university's
终身教育平台, the smartedu lifelong platform and provincial sites, every record labelled from its words and
PLATFORMS.md §6.1 before the classifier ran on it.

Measured as the quality suite measures themes (bench.quality.metrics.theme_figures: multi-label F1 per theme over
every record, macro-F1 their mean). The floors are the figures the rules reached, rounded down: a change of the
rules that loses records of these sets fails here, as one that loses the quality corpora's fails there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bench.quality.metrics import theme_figures
from config import load_themes
from config.themes import THEMES
from indexer.normalize.themes import FoldedFields, ThemeClassifier

DATA = Path(__file__).with_name("data")
FIELDS = {"source", "title", "categories", "tags", "subtitle", "description", "themes", "taught", "why"}
FLOORS = {  # file: (macro-F1 floor, every theme's F1 floor, ceiling of the share of records given no theme)
    "themes_dev.yaml": (0.97, 0.94, 0.015),
    "themes_dev2.yaml": (0.95, 0.83, 0.03),
    "themes_dev3.yaml": (0.86, 0.54, 0.14),
    "themes_dev4.yaml": (0.91, 0.83, 0.04),
}


def records_of(name: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["records"]
    return records


def classify(classifier: ThemeClassifier, record: dict[str, Any]) -> list[str]:
    categories = [list(path) for path in record.get("categories", [])]
    folded = FoldedFields.of(title=record["title"], subtitle=record.get("subtitle"), tags=list(record.get("tags", [])),
                             description=record.get("description"), categories=categories)  # fmt: skip
    return classifier.classify_folded(folded, categories=categories, taught=record.get("taught", True)).themes


@pytest.fixture(scope="module")
def classifier() -> ThemeClassifier:
    return ThemeClassifier(load_themes())


def test_the_sets_are_what_they_say() -> None:
    """Enough records of every theme, the three weakest on other corpora most of all, labelled with known themes."""
    first = records_of("themes_dev.yaml")
    others = [r for name in ("themes_dev2.yaml", "themes_dev3.yaml", "themes_dev4.yaml") for r in records_of(name)]
    assert len(first) >= 250 and len(others) >= 250
    for record in first + others:
        assert set(record) <= FIELDS and {"source", "title", "themes"} <= set(record), record
        assert record["themes"] and set(record["themes"]) <= set(THEMES) and len(record["themes"]) <= 3, record
    primaries = [r["themes"][0] for r in first]
    assert all(primaries.count(t) >= 10 for t in THEMES)
    assert all(primaries.count(t) >= 30 for t in ("思想道德", "职业技能", "代际沟通"))


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_the_classifier_meets_the_floors_on_the_set(classifier: ThemeClassifier, name: str) -> None:
    records = records_of(name)
    truth = {str(i): r["themes"] for i, r in enumerate(records)}
    found = {str(i): classify(classifier, r) for i, r in enumerate(records)}
    figures = theme_figures(truth, found)
    unthemed = sum(1 for uid in truth if not found[uid]) / len(truth)
    per_theme = {t: round(figures[f"f1.{t}"], 3) for t in THEMES}
    said = f"{name}: macro-F1 {figures['macro_f1']:.3f}, unthemed {unthemed:.3f}, per theme {per_theme}"
    macro_floor, theme_floor, unthemed_ceiling = FLOORS[name]
    assert figures["macro_f1"] >= macro_floor, said
    assert min(per_theme.values()) >= theme_floor, said
    assert unthemed <= unthemed_ceiling, said
