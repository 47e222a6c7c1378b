"""The theme rule table: platform categories and keywords mapped to the ten national learning themes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

THEMES = (
    "思想道德",
    "科学文化",
    "养生保健",
    "心理健康",
    "职业技能",
    "法律法规",
    "家庭理财",
    "闲暇生活",
    "代际沟通",
    "生命尊严",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CategoryRule(_Strict):
    id: str = Field(description="Stable rule id, recorded in theme_evidence.")
    match: list[str] = Field(min_length=1, description="Terms matched inside category path segments.")
    primary: str | None = Field(None, description="Theme given when a category matches (none = audience marker).")
    secondary: list[str] = Field(
        default_factory=list, description="Further themes given with every match, at a lower score than the primary."
    )
    programmes: list[str] = Field(default_factory=list, description="Programmes a matching record belongs to.")
    audience: list[str] = Field(default_factory=list, description="Audience a matching record is for.")
    branch: bool = Field(
        False,
        description="A matching segment decides its path over deeper ones: the names below it are the trades of "
        "an occupation's branch (职业培训 › 茶艺 is the tea-art occupation's course, not a hobby's).",
    )


class KeywordRule(_Strict):
    id: str = Field(description="Stable rule id, recorded in theme_evidence.")
    theme: str = Field(description="Theme this keyword list points to.")
    keywords: list[str] = Field(min_length=1, description="Terms matched in tags, title and description.")
    secondary: list[str] = Field(
        default_factory=list,
        description="Further themes a match carries (PLATFORMS.md 6.1: 书法 is also 科学文化), kept when `theme` is.",
    )


class ConflictRule(_Strict):
    id: str = Field(description="Stable rule id.")
    when: list[str] = Field(min_length=1, description="Applies when any of these terms occurs in the text.")
    prefer: list[str] = Field(default_factory=list, description="Themes in the order they must rank.")
    drop: list[str] = Field(
        default_factory=list,
        description="Themes the terms rule out unless a category gave them (电商 makes 短视频 work, not leisure).",
    )
    over_category: bool = Field(
        False,
        description="`drop` rules out a category's themes too: the text says what a course is where a craft's "
        "category name cannot (考证 makes a 面点 or 茶艺 category an occupation's, not a hobby's).",
    )

    @model_validator(mode="after")
    def _does_something(self) -> ConflictRule:
        if len(self.prefer) == 1 or not (self.prefer or self.drop):
            raise ValueError(f"{self.id}: give two or more themes to `prefer`, or themes to `drop`")
        return self


class AudienceRule(_Strict):
    id: str = Field(description="Stable rule id.")
    audience: str = Field(description="Audience label given.")
    keywords: list[str] = Field(min_length=1, description="Terms in categories, tags or text that imply it.")


class ProgrammeRule(_Strict):
    id: str = Field(description="Stable rule id.")
    programme: str = Field(description="Programme label given (智慧助老, 能者为师, ...).")
    keywords: list[str] = Field(min_length=1, description="Terms in categories, tags or title that imply it.")


class Weights(_Strict):
    category: float = Field(3.0, description="Score of a primary theme from a category rule.")
    category_secondary: float = Field(1.0, description="Score of a secondary theme from a category rule.")
    tag: float = Field(2.0, description="Score per keyword found in tags.")
    title: float = Field(1.5, description="Score per keyword found in the title.")
    subtitle: float = Field(
        1.0, description="Score per keyword found in the subtitle (on le.ouchn a short description, not a title)."
    )
    description: float = Field(0.5, description="Score per keyword found in the description.")
    category_keyword: float = Field(
        2.0,
        description="Score per keyword found in a category path no category rule matched (慢病管理, 自然科学): "
        "a platform's own category names still say what a course is about.",
    )
    threshold: float = Field(1.5, description="Lowest score for a keyword-only theme to be kept.")
    fallback: float = Field(
        0.75,
        description="A record no theme reached the threshold for keeps the only theme it has evidence of from this "
        "score up (two mentions in a description): weak evidence of one subject beats none; evidence of several "
        "(a news item listing 书画、养生、摄影 courses) names none.",
    )
    secondary_share: float = Field(
        0.5, ge=0, le=1, description="Share of a keyword match's score its rule's secondary themes get."
    )


class ThemeTable(_Strict):
    version: str = Field(
        description="Version of this rule table: with the classifier's own (indexer.themes_version), the themes "
        "version an index records its records were classified by; bump it with every change of the rules."
    )
    max_themes: int = Field(3, ge=1, le=10, description="Most themes one record gets.")
    weights: Weights = Field(default_factory=Weights)
    category_rules: list[CategoryRule] = Field(default_factory=list)
    keyword_rules: list[KeywordRule] = Field(default_factory=list)
    conflict_rules: list[ConflictRule] = Field(default_factory=list)
    neutral_terms: list[str] = Field(
        default_factory=list,
        description="Words holding a keyword that do not mean its theme (保健品): found first, they give nothing.",
    )
    audience_rules: list[AudienceRule] = Field(default_factory=list)
    programme_rules: list[ProgrammeRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _themes_are_the_ten(self) -> ThemeTable:
        named: list[tuple[str, str]] = []
        for c in self.category_rules:
            named += [(c.id, t) for t in ([c.primary] if c.primary else []) + c.secondary]
        named += [(k.id, t) for k in self.keyword_rules for t in [k.theme, *k.secondary]]
        named += [(r.id, t) for r in self.conflict_rules for t in r.prefer + r.drop]
        unknown = [f"{rule}: {theme}" for rule, theme in named if theme not in THEMES]
        if unknown:
            raise ValueError("not one of the ten national themes: " + ", ".join(unknown))
        ids = [c.id for c in self.category_rules] + [k.id for k in self.keyword_rules]
        ids += [r.id for r in self.conflict_rules]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError("duplicate rule ids: " + ", ".join(duplicates))
        return self
