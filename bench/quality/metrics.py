"""The suite's measures: graded ranking (nDCG@10, recall@50, MRR), duplicate pairs and theme labels.

Relevance: nDCG@10 uses the graded gain 2^grade - 1 and the ideal ranking of every graded record in the corpus;
recall@50 and MRR count a record as relevant at grade >= 2 (what the learner asked for, not merely related);
recall@50 divides by the relevant records, or by 50 when there are more.
Duplicates: the catalogue presents two records as one course when they share a cluster id; precision and
recall are over record pairs, against the labelled same-course pairs; the hard-negative merge rate is the
share of labelled different-course pairs (another level, season, part, edition, or teacher) it merged.
Themes: multi-label precision, recall and F1 per theme over every record; macro-F1 is their plain mean (the
suite adds the share of records the classifier gave no theme at all, which PLATFORMS.md 8.5 asks to watch).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations

from config.themes import THEMES

RELEVANT = 2


def ndcg(ranked: Sequence[str], grades: Mapping[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain of the first k results."""
    ideal = sorted(grades.values(), reverse=True)[:k]
    best = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    got = sum((2 ** grades.get(uid, 0) - 1) / math.log2(i + 2) for i, uid in enumerate(ranked[:k]))
    return got / best if best else 0.0


def recall(ranked: Sequence[str], grades: Mapping[str, int], k: int = 50) -> float:
    """Share of the relevant records (grade >= RELEVANT) found in the first k results; with more than k relevant
    records, k of them found is 1 (no ranking could do better, so the figure can reach 1 for every query)."""
    relevant = {uid for uid, g in grades.items() if g >= RELEVANT}
    return len(relevant & set(ranked[:k])) / min(len(relevant), k) if relevant else 0.0


def reciprocal_rank(ranked: Sequence[str], grades: Mapping[str, int]) -> float:
    """1 / rank of the first relevant result (0 when none is ranked)."""
    for i, uid in enumerate(ranked, start=1):
        if grades.get(uid, 0) >= RELEVANT:
            return 1.0 / i
    return 0.0


def clustered_pairs(clusters: Mapping[str, str | None]) -> set[tuple[str, str]]:
    """Every (uid, uid) pair, sorted, that shares a cluster id."""
    members: dict[str, list[str]] = defaultdict(list)
    for uid, cluster in clusters.items():
        if cluster:
            members[cluster].append(uid)
    return {(a, b) if a < b else (b, a) for uids in members.values() for a, b in combinations(uids, 2)}


def pair_figures(merged: set[tuple[str, str]], same: Mapping[tuple[str, str], str],
                 different: Mapping[tuple[str, str], str]) -> dict[str, float]:  # fmt: skip
    """Duplicate precision and recall (overall and per rewording), hard-negative merge rate (overall, per kind)."""
    hits = merged & set(same)
    figures = {
        "precision": len(hits) / len(merged) if merged else 1.0,
        "recall": len(hits) / len(same) if same else 1.0,
        "hard_negative_merge_rate": len(merged & set(different)) / len(different) if different else 0.0,
        "merged_pairs": float(len(merged)),
    }
    for kind, total in sorted(Counter(same.values()).items()):
        figures[f"recall.{kind}"] = sum(1 for p in hits if same[p] == kind) / total
    for kind, total in sorted(Counter(different.values()).items()):
        figures[f"hard_negative_merge_rate.{kind}"] = sum(1 for p in merged if different.get(p) == kind) / total
    return figures


def theme_figures(truth: Mapping[str, Iterable[str]], found: Mapping[str, Iterable[str]]) -> dict[str, float]:
    """Per theme f1 (and precision, recall), macro_f1 and the lowest theme f1, over the records of `truth`."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for uid, wanted in truth.items():
        want, got = set(wanted), set(found.get(uid, ()))
        tp.update(want & got)
        fp.update(got - want)
        fn.update(want - got)
    figures: dict[str, float] = {}
    for theme in THEMES:
        p = tp[theme] / (tp[theme] + fp[theme]) if tp[theme] + fp[theme] else 0.0
        r = tp[theme] / (tp[theme] + fn[theme]) if tp[theme] + fn[theme] else 0.0
        figures[f"precision.{theme}"], figures[f"recall.{theme}"] = p, r
        figures[f"f1.{theme}"] = 2 * p * r / (p + r) if p + r else 0.0
    f1s = [figures[f"f1.{theme}"] for theme in THEMES]
    figures["macro_f1"], figures["min_f1"] = sum(f1s) / len(f1s), min(f1s)
    return figures
