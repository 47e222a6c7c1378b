"""The theme classifier: platform categories, tags and text to 1-3 of the ten national themes, with evidence."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from config.themes import CategoryRule, ThemeTable
from indexer.analysis import fold
from indexer.normalize.terms import LabelMatcher, TermMatcher
from indexer.record import ThemeEvidence


@dataclass
class Classification:
    """Themes found, with the evidence as plain dicts (Record validates them; `evidence` gives models)."""

    themes: list[str]
    evidence_rows: list[dict[str, Any]]
    programmes: list[str] = field(default_factory=list)
    audience: list[str] = field(default_factory=list)

    @property
    def evidence(self) -> list[ThemeEvidence]:
        return [ThemeEvidence.model_validate(row) for row in self.evidence_rows]


@dataclass(frozen=True)
class FoldedFields:
    """A record's texts folded once (indexer.analysis.fold), for every matcher that reads them.

    `subtitle` and `description` are "" when absent; `categories` holds the folded segments of each path.
    Folding works character by character and phrase by phrase within words, so folding fields one by one and
    joining them with spaces gives what folding the joined text gives.
    """

    title: str
    subtitle: str
    tags: list[str]
    description: str
    categories: list[list[str]]

    @classmethod
    def of(
        cls, *, title: str, subtitle: str | None, tags: list[str], description: str | None,
        categories: list[list[str]],
    ) -> FoldedFields:  # fmt: skip
        return cls(
            title=fold(title),
            subtitle=fold(subtitle) if subtitle else "",
            tags=[fold(t) for t in tags],
            description=fold(description) if description else "",
            categories=[[fold(s) for s in path] for path in categories],
        )

    def labels(self) -> str:
        """Title, subtitle, tags and category names: the text audience and programme rules read."""
        return " ".join([self.title, self.subtitle, *self.tags, *(s for path in self.categories for s in path)])


class _Scores:
    """Scores per theme and the rules behind them; evidence is written out only for the themes kept.

    `from_category` holds the themes a category rule gave (primary or secondary: both are kept outright);
    `direct` the themes a keyword rule of their own scored (not only a share carried by another rule's match);
    `carried` maps a keyword rule's secondary theme to the rules (id, theme) that carried it; it is kept when
    such a rule's theme is the record's primary one and that rule's own matches (`by_rule`) reach the threshold:
    电脑 once in a description carries no 闲暇生活, nor does 电脑 in a vocational computing course.
    """

    __slots__ = ("total", "from_category", "category_primary", "direct", "carried", "by_rule", "found", "branches")

    def __init__(self) -> None:
        # a plain class: one is made per record, and a dataclass's field factories cost more than the scoring
        self.total: dict[str, float] = defaultdict(float)
        self.from_category: set[str] = set()
        self.category_primary: set[str] = set()
        self.direct: set[str] = set()
        self.carried: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self.by_rule: dict[str, float] = defaultdict(float)
        self.found: dict[str, list[tuple[str, str, float]]] = defaultdict(list)
        self.branches: list[str] = []  # folded segments a branch rule decided a path by, read by the conflict rules

    def add(self, theme: str, *, rule_id: str, matched: str, score: float) -> None:
        self.total[theme] += score
        self.found[theme].append((rule_id, matched, score))

    def evidence(self, theme: str) -> list[dict[str, Any]]:
        return [{"theme": theme, "rule_id": r, "matched": m, "score": s} for r, m, s in self.found[theme]]


class ThemeClassifier:
    """Applies a ThemeTable: category-path rules first, then keyword rules on tags, title and description.

    A category match gives its primary and secondary themes outright (PLATFORMS.md 6.1); in a path the deepest
    segment a theme rule matches decides (书画非遗系 › 面花 is 面花's row, 舞蹈体育系 › 太极 is 太极's), unless a
    shallower one names an occupation's branch (职业培训 › 茶艺 is the tea-art occupation's: a `branch` rule).
    Keyword-only themes must reach the table's threshold (a record that teaches and none reaches keeps the one theme
    it has evidence of from the lower fallback score: a news item listing 书画、养生、摄影 courses, or any news item,
    names no subject of its own); a keyword rule's secondary themes come with its theme when that is kept; a category
    rule's term found in tags counts as such a keyword. Neutral terms (保健品) hide the keywords inside them. Category
    themes rank first, then the rest by score; conflict rules then drop themes the text rules out (电商 makes 短视频
    work, not leisure; a certificate course's text overrides a craft's category, where the rule says so) and fix the
    order of known close calls (反诈: 法律法规 before 家庭理财). At most `max_themes` are kept, each with the rules
    that found it.
    """

    def __init__(self, table: ThemeTable) -> None:
        self.table = table
        self._category_terms: dict[str, list[CategoryRule]] = defaultdict(list)
        for rule in table.category_rules:
            for term in rule.match:
                self._category_terms[fold(term)].append(rule)
        self._category_matcher = TermMatcher(self._category_terms)
        # term -> (rule id, theme, secondary themes) of each keyword rule holding it; neutral terms hold none
        self._keyword_rules: dict[str, list[tuple[str, str, tuple[str, ...]]]] = defaultdict(list)
        for kw_rule in table.keyword_rules:
            for term in kw_rule.keywords:
                self._keyword_rules[fold(term)].append((kw_rule.id, kw_rule.theme, tuple(kw_rule.secondary)))
        neutral = [fold(t) for t in table.neutral_terms]
        self._keyword_matcher = TermMatcher([*self._keyword_rules, *neutral])
        # tags are labels like category names: a category rule's term no keyword rule holds (养老护理, 书画, 理论学习)
        # counts in tags as a keyword of the rule's theme, carrying its secondary themes; a tag naming a programme
        # (智慧助老) or a department (neutral: 电子信息系) says nothing of the theme
        self._tag_rules = dict(self._keyword_rules)
        markers = {fold(t) for rule in table.programme_rules for t in rule.keywords} | set(neutral)
        for term, rules in self._category_terms.items():
            if term not in self._tag_rules and term not in markers:
                self._tag_rules[term] = [(r.id, r.primary, tuple(r.secondary)) for r in rules if r.primary]
        self._tag_matcher = TermMatcher([*self._tag_rules, *neutral])
        self._conflicts = LabelMatcher([(str(i), r.when) for i, r in enumerate(table.conflict_rules)])

    def classify(
        self, *, categories: list[list[str]], tags: list[str], title: str, subtitle: str | None, description: str | None
    ) -> Classification:
        folded = FoldedFields.of(
            title=title, subtitle=subtitle, tags=tags, description=description, categories=categories
        )
        return self.classify_folded(folded, categories=categories)

    def classify_folded(
        self, folded: FoldedFields, *, categories: list[list[str]], taught: bool = True
    ) -> Classification:
        """`classify` of fields folded once by the caller; `categories` are the raw paths, named in evidence.
        `taught` says the record teaches something (a course, a lesson, a video: not a news article, a case or a
        programme entry): only such a record keeps a weak theme below the threshold (the fallback score)."""
        scores = _Scores()
        programmes, audience, unknown = self._apply_categories(categories, folded.categories, scores)
        tags = " ".join(folded.tags)
        self._apply_keywords(folded, tags, scores, unknown=unknown)
        texts = (folded.title, folded.subtitle, tags, folded.description, *scores.branches)
        themes = self._rank(scores, " ".join(filter(None, texts)), weak=taught)
        evidence = [e for theme in themes for e in scores.evidence(theme)]
        return Classification(themes=themes, evidence_rows=evidence, programmes=programmes, audience=audience)

    def _apply_categories(
        self, categories: list[list[str]], folded: list[list[str]], scores: _Scores
    ) -> tuple[list[str], list[str], str]:
        """Programmes and audience the paths name, and the (folded) segments of themeless paths no rule knows.

        Those unknown segments (慢病管理, 天文地理) are left to the keyword rules: a platform's own category name
        says what a course is about even when the table has no row for it. Segments a rule matched without a
        theme (银龄课堂, 全民阅读) are markers of audience or programme, and say nothing of the theme.
        """
        weights = self.table.weights
        if not categories:
            return [], [], ""
        programmes: dict[str, None] = {}
        audience: dict[str, None] = {}
        unknown: list[str] = []
        seen: set[str] = set()
        for path, folded_path in zip(categories, folded, strict=True):
            matched = [(segment, self._rules_in(f)) for segment, f in zip(path, folded_path, strict=True)]
            for _, rules in matched:
                for rule in rules:
                    programmes.update(dict.fromkeys(rule.programmes))
                    audience.update(dict.fromkeys(rule.audience))
            branch = next((i for i, (_, rules) in enumerate(matched) if any(r.branch for r in rules)), None)
            if branch is not None:  # an occupation's branch: the trade below it is the occupation's (conflict rules)
                scores.branches.append(folded_path[branch])
                deepest: tuple[str, list[CategoryRule]] | None = matched[branch]
            else:
                deepest = next(((s, rules) for s, rules in reversed(matched) if any(r.primary for r in rules)), None)
            if deepest is None:
                unknown += [f for f, (_, rules) in zip(folded_path, matched, strict=True) if not rules]
                continue
            segment, rules = deepest
            for rule in rules:
                if rule.primary is None or rule.id in seen:
                    continue
                seen.add(rule.id)
                scores.add(rule.primary, rule_id=rule.id, matched=segment, score=weights.category)
                scores.category_primary.add(rule.primary)
                for theme in rule.secondary:
                    scores.add(theme, rule_id=rule.id, matched=segment, score=weights.category_secondary)
                scores.from_category.update([rule.primary, *rule.secondary])
        return list(programmes), list(audience), " ".join(dict.fromkeys(unknown))

    def _apply_keywords(self, folded: FoldedFields, tags: str, scores: _Scores, *, unknown: str) -> None:
        weights = self.table.weights
        total, found, by_rule, carried = scores.total, scores.found, scores.by_rule, scores.carried
        direct = scores.direct
        keyword = (self._keyword_matcher, self._keyword_rules)
        for text, weight, (matcher, rules) in (
            (unknown, weights.category_keyword, keyword),
            (tags, weights.tag, (self._tag_matcher, self._tag_rules)),
            (folded.title, weights.title, keyword),
            (folded.subtitle, weights.subtitle, keyword),
            (folded.description, weights.description, keyword),
        ):
            share = weight * weights.secondary_share
            for term in matcher.find_folded(text):
                for rule_id, theme, secondary in rules.get(term, ()):
                    total[theme] += weight
                    found[theme].append((rule_id, term, weight))
                    direct.add(theme)
                    if secondary:
                        by_rule[rule_id] += weight
                        for other in secondary:
                            total[other] += share
                            found[other].append((rule_id, term, share))
                            carried[other].add((rule_id, theme))

    def _rules_in(self, segment: str) -> list[CategoryRule]:
        """The category rules whose terms a (folded) path segment holds."""
        return [rule for term in self._category_matcher.find_folded(segment) for rule in self._category_terms[term]]

    def _rank(self, scores: _Scores, folded: str, *, weak: bool) -> list[str]:
        threshold = self.table.weights.threshold
        conflicts = [self.table.conflict_rules[i] for i in self._conflicts.lists_in_folded(folded)]
        dropped: set[str] = set()
        for rule in conflicts:
            dropped.update(t for t in rule.drop if rule.over_category or t not in scores.from_category)
        kept = [
            t for t, s in scores.total.items() if t not in dropped and (s >= threshold or t in scores.from_category)
        ]
        carry_from = threshold
        if not kept and weak:  # weak evidence of one subject beats none: the only theme scored, from the fallback
            # a share its own rule carried to a secondary theme is no second subject: the theme comes with the
            # secondary themes of its rules (隔代 twice in a description is 代际沟通 with 思想道德, §6.1's row)
            scored = [t for t in scores.direct if t not in dropped and scores.total[t] > 0]
            if len(scored) == 1 and scores.total[scored[0]] >= self.table.weights.fallback:
                kept, carry_from = scored, 0.0
        kept.sort(key=lambda t: (t not in scores.category_primary, -scores.total[t]))
        for rule in conflicts:
            if rule.prefer:
                kept = _reorder(kept, rule.prefer)
        if kept and scores.carried:
            carried = [
                t
                for t, rules in scores.carried.items()
                if t not in kept and t not in dropped
                and any(theme == kept[0] and scores.by_rule[rule_id] >= carry_from for rule_id, theme in rules)
            ]  # fmt: skip
            kept += sorted(carried, key=lambda t: -scores.total[t])
        return kept[: self.table.max_themes]


def _reorder(themes: list[str], prefer: list[str]) -> list[str]:
    """Put the preferred themes that are present into the preferred order, in the slots they occupy."""
    slots = [i for i, t in enumerate(themes) if t in prefer]
    ordered = [t for t in prefer if t in themes]
    result = list(themes)
    for slot, theme in zip(slots, ordered, strict=True):
        result[slot] = theme
    return result
