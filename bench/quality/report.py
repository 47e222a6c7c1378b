"""Tables of the suite's figures for a terminal, and the floors check (floors.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bench.quality.judge import CLASSES
from bench.quality.metrics import THEMES

FLOORS = Path(__file__).resolve().parent / "floors.yaml"


def tables(reports: list[dict[str, Any]]) -> str:
    """Relevance per query class, duplicates per kind and themes per theme, one column per backend."""
    names = [r["backend"] for r in reports]
    figures = [r["figures"] for r in reports]
    corpus = reports[0].get("corpus", "main")
    lines = [f"edufed quality suite ({corpus} corpus): {int(figures[0]['corpus.records'])} records, "
             f"{int(figures[0]['corpus.queries'])} queries"]  # fmt: skip
    header = "".join(f"{name:>20}" for name in names)
    lines += ["", f"{'relevance (nDCG@10 / recall@50 / MRR)':<40}{header}"]
    for cls in (*[c for c in CLASSES if c != "nothing_relevant"], "all"):
        if not any(f"relevance.{cls}.ndcg@10" in f for f in figures):
            continue  # a class this corpus has no query of (the held-out set has no learner_words)
        cells = "".join(f"{_triple(f, cls):>20}" for f in figures)
        lines.append(f"  {cls:<38}{cells}")
    cells = "".join(f"{_one(f, 'relevance.nothing_relevant.empty_rate'):>20}" for f in figures)
    lines.append(f"  {'nothing_relevant: empty answers':<38}{cells}")
    if any("relevance.learner_sentences.empty_rate" in f for f in figures):
        cells = "".join(f"{_one(f, 'relevance.learner_sentences.empty_rate'):>20}" for f in figures)
        lines.append(f"  {'learner_sentences: empty answers':<38}{cells}")
    lines += ["", f"{'duplicates':<40}{header}"]
    keys = sorted({k for f in figures for k in f if k.startswith("duplicates.")},
                  key=lambda k: (k.count("."), k))  # fmt: skip
    for key in keys:
        lines.append(f"  {key.removeprefix('duplicates.'):<38}" + "".join(f"{_one(f, key):>20}" for f in figures))
    lines += ["", f"{'themes (F1; per theme F1 / P / R)':<40}{header}"]
    for key in ("macro_f1", "min_f1", "unthemed_share"):
        lines.append(f"  {key:<38}" + "".join(f"{_one(f, 'themes.' + key):>20}" for f in figures))
    for theme in THEMES:  # precision and recall say whether a theme fires on others' records or misses its own
        cells = "".join(f"{_theme_triple(f, theme):>20}" for f in figures)
        lines.append(f"  {'f1/p/r.' + theme:<{38 - len(theme)}}{cells}")
    platforms = sorted({k for f in figures for k in f if k.startswith("themes.macro_f1.")})
    for key in platforms:
        lines.append(f"  {key.removeprefix('themes.'):<38}" + "".join(f"{_one(f, key):>20}" for f in figures))
    lines += ["", f"{'seconds (index / search)':<40}"
              + "".join(f"{f['seconds.index']:>12.1f} /{f['seconds.search']:>6.1f}" for f in figures)]  # fmt: skip
    return "\n".join(lines)


def worst_queries(report: dict[str, Any], count: int) -> str:
    """The `count` queries with the lowest nDCG@10 (and every nothing_relevant query that got results), with
    the grade and title of each of their first ten results: where to look first."""
    rows = sorted((r for r in report["queries"] if "ndcg@10" in r), key=lambda r: r["ndcg@10"])[:count]
    rows += [r for r in report["queries"] if r.get("empty") == 0.0]
    lines = [f"worst queries on {report['backend']}:"]
    for row in rows:
        score = f"nDCG@10 {row['ndcg@10']:.3f}" if "ndcg@10" in row else f"{row['total']} results"
        theme = f" [{row['theme']}]" if row["theme"] else ""
        lines.append(f"  {row['q']}{theme} ({row['class']}, {score}{', relaxed' if row['relaxed'] else ''})")
        lines += [f"      {grade}  {title}" for grade, title in zip(row["grades_top"], row["top_titles"], strict=True)]
    return "\n".join(lines)


def _triple(figures: dict[str, float], cls: str) -> str:
    return "/".join(_one(figures, f"relevance.{cls}.{m}") for m in ("ndcg@10", "recall@50", "mrr"))


def _theme_triple(figures: dict[str, float], theme: str) -> str:
    return "/".join(_one(figures, f"themes.{m}.{theme}") for m in ("f1", "precision", "recall"))


def _one(figures: dict[str, float], key: str) -> str:
    value = figures.get(key)
    return "-" if value is None else f"{value:.3f}"


def load_floors(path: Path = FLOORS) -> dict[str, dict[str, dict[str, float]]]:
    """backend -> {"at_least": {figure: floor}, "at_most": {figure: ceiling}}."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {backend: {"at_least": dict(limits.get("at_least") or {}), "at_most": dict(limits.get("at_most") or {})}
            for backend, limits in data["backends"].items()}  # fmt: skip


def below_floors(report: dict[str, Any], floors: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """Every figure of the report beyond its floor (or ceiling), as readable lines; empty when all hold."""
    limits = floors.get(report["backend"], {"at_least": {}, "at_most": {}})
    figures = report["figures"]
    problems = []
    for key, floor in limits["at_least"].items():
        if key not in figures or figures[key] < floor:
            problems.append(f"{report['backend']}: {key} = {figures.get(key)} is below its floor {floor}")
    for key, ceiling in limits["at_most"].items():
        if key not in figures or figures[key] > ceiling:
            problems.append(f"{report['backend']}: {key} = {figures.get(key)} is above its ceiling {ceiling}")
    return problems
