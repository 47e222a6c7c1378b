"""The theme classifier: platform categories, tags and text to 1-3 of the ten national themes, with evidence."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from config.themes import CategoryRule, ThemeTable
from indexer.analysis import fold
from indexer.normalize.terms import TermMatcher
from indexer.record import ThemeEvidence


@dataclass
class Classification:
    themes: list[str]
    evidence: list[ThemeEvidence]
    programmes: list[str] = field(default_factory=list)
    audience: list[str] = field(default_factory=list)


@dataclass
class _Scores:
    """Scores per theme and the rules behind them; evidence becomes models only for the themes kept."""

    total: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    from_category: set[str] = field(default_factory=set)
    found: dict[str, list[tuple[str, str, float]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, theme: str, *, rule_id: str, matched: str, score: float) -> None:
        self.total[theme] += score
        self.found[theme].append((rule_id, matched, score))

    def evidence(self, theme: str) -> list[ThemeEvidence]:
        return [ThemeEvidence(theme=theme, rule_id=r, matched=m, score=s) for r, m, s in self.found[theme]]


class ThemeClassifier:
    """Applies a ThemeTable: category-path rules first, then keyword rules on tags, title and description.

    A category match gives its primary theme outright; keyword-only themes must reach the table's threshold.
    Themes found through a category rank before keyword-only ones; conflict rules then fix the order of known
    close calls (反诈: 法律法规 before 家庭理财). At most `max_themes` are kept, each with the rules that found it.
    """

    def __init__(self, table: ThemeTable) -> None:
        self.table = table
        self._category_terms: dict[str, list[CategoryRule]] = defaultdict(list)
        for rule in table.category_rules:
            for term in rule.match:
                self._category_terms[fold(term)].append(rule)
        self._category_matcher = TermMatcher(self._category_terms)
        self._keyword_rules: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for kw_rule in table.keyword_rules:
            for term in kw_rule.keywords:
                self._keyword_rules[fold(term)].append((kw_rule.id, kw_rule.theme))
        self._keyword_matcher = TermMatcher(self._keyword_rules)
        self._conflict_matchers = [(TermMatcher(r.when), r.prefer) for r in table.conflict_rules]

    def classify(
        self, *, categories: list[list[str]], tags: list[str], title: str, subtitle: str | None, description: str | None
    ) -> Classification:
        scores = _Scores()
        programmes, audience = self._apply_categories(categories, scores)
        weights = self.table.weights
        for text, weight in (
            (" ".join(tags), weights.tag),
            (" ".join(filter(None, (title, subtitle))), weights.title),
            (description, weights.description),
        ):
            for term in self._keyword_matcher.find(text):
                for rule_id, theme in self._keyword_rules[term]:
                    scores.add(theme, rule_id=rule_id, matched=term, score=weight)
        themes = self._rank(scores, " ".join(filter(None, (title, subtitle, " ".join(tags), description))))
        evidence = [e for theme in themes for e in scores.evidence(theme)]
        return Classification(themes=themes, evidence=evidence, programmes=programmes, audience=audience)

    def _apply_categories(self, categories: list[list[str]], scores: _Scores) -> tuple[list[str], list[str]]:
        weights = self.table.weights
        programmes: dict[str, None] = {}
        audience: dict[str, None] = {}
        seen: set[str] = set()
        for segment in (s for path in categories for s in path):
            for term in self._category_matcher.find(segment):
                for rule in self._category_terms[term]:
                    if rule.id in seen:
                        continue
                    seen.add(rule.id)
                    programmes.update(dict.fromkeys(rule.programmes))
                    audience.update(dict.fromkeys(rule.audience))
                    if rule.primary:
                        scores.add(rule.primary, rule_id=rule.id, matched=segment, score=weights.category)
                        scores.from_category.add(rule.primary)
                    for theme in rule.secondary:
                        scores.add(theme, rule_id=rule.id, matched=segment, score=weights.category_secondary)
        return list(programmes), list(audience)

    def _rank(self, scores: _Scores, text: str) -> list[str]:
        threshold = self.table.weights.threshold
        kept = [t for t, s in scores.total.items() if t in scores.from_category or s >= threshold]
        kept.sort(key=lambda t: (t not in scores.from_category, -scores.total[t]))
        folded = fold(text) if self._conflict_matchers else ""
        for matcher, prefer in self._conflict_matchers:
            if matcher.occurs_in_folded(folded):
                kept = _reorder(kept, prefer)
        return kept[: self.table.max_themes]


def _reorder(themes: list[str], prefer: list[str]) -> list[str]:
    """Put the preferred themes that are present into the preferred order, in the slots they occupy."""
    slots = [i for i, t in enumerate(themes) if t in prefer]
    ordered = [t for t in prefer if t in themes]
    result = list(themes)
    for slot, theme in zip(slots, ordered, strict=True):
        result[slot] = theme
    return result
