"""The theme classifier on a development set written the way other editors write (data/themes_dev.yaml):
community-education sites, 老年大学 sites, the open university's 终身教育平台, the smartedu lifelong platform and
provincial sites, every record labelled from its words and PLATFORMS.md §6.1 before the classifier ran on it.

Measured as the quality suite measures themes (bench.quality.metrics.theme_figures: multi-label F1 per theme over
every record, macro-F1 their mean). The floors are the figures the rules reached, rounded down: a change of the
rules that loses records of this set fails here, as one that loses the quality corpora's fails there.
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

RECORDS: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).with_name("data") / "themes_dev.yaml").read_text(encoding="utf-8")
)["records"]
FIELDS = {"source", "title", "categories", "tags", "subtitle", "description", "themes", "taught", "why"}
MACRO_FLOOR = 0.97
THEME_FLOOR = 0.94
UNTHEMED_CEILING = 0.01


def classify(classifier: ThemeClassifier, record: dict[str, Any]) -> list[str]:
    categories = [list(path) for path in record.get("categories", [])]
    folded = FoldedFields.of(title=record["title"], subtitle=record.get("subtitle"), tags=list(record.get("tags", [])),
                             description=record.get("description"), categories=categories)  # fmt: skip
    return classifier.classify_folded(folded, categories=categories, taught=record.get("taught", True)).themes


@pytest.fixture(scope="module")
def found() -> dict[str, list[str]]:
    classifier = ThemeClassifier(load_themes())
    return {str(i): classify(classifier, r) for i, r in enumerate(RECORDS)}


def test_the_set_is_what_it_says() -> None:
    """Enough records of every theme, the three weakest on other corpora most of all, labelled with known themes."""
    assert len(RECORDS) >= 250
    for record in RECORDS:
        assert set(record) <= FIELDS and {"source", "title", "themes"} <= set(record), record
        assert record["themes"] and set(record["themes"]) <= set(THEMES) and len(record["themes"]) <= 3, record
    primaries = [r["themes"][0] for r in RECORDS]
    assert all(primaries.count(t) >= 10 for t in THEMES)
    assert all(primaries.count(t) >= 30 for t in ("思想道德", "职业技能", "代际沟通"))


def test_the_classifier_meets_the_floors_on_the_set(found: dict[str, list[str]]) -> None:
    truth = {str(i): r["themes"] for i, r in enumerate(RECORDS)}
    figures = theme_figures(truth, found)
    unthemed = sum(1 for uid in truth if not found[uid]) / len(truth)
    per_theme = {t: round(figures[f"f1.{t}"], 3) for t in THEMES}
    said = f"macro-F1 {figures['macro_f1']:.3f}, unthemed {unthemed:.3f}, per theme {per_theme}"
    assert figures["macro_f1"] >= MACRO_FLOOR, said
    assert min(per_theme.values()) >= THEME_FLOOR, said
    assert unthemed <= UNTHEMED_CEILING, said
