"""The graded judgements (judgements.yaml) and the grade each query gives each labelled record."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
JUDGEMENTS = HERE / "judgements.yaml"
CLASSES = ("two_char", "phrase", "multi_term", "pinyin", "traditional", "theme_filter", "learner", "learner_words",
           "qualified", "learner_course", "theme_words", "pinyin_dev", "learner_sentences",
           "general_word", "nothing_relevant")  # fmt: skip
OUTSIDE_ALL = frozenset({"learner_words", "qualified", "learner_course", "theme_words", "pinyin_dev",
                         "learner_sentences", "general_word"})  # fmt: skip
"""Classes measured on their own and left out of `all`, development sets of the main corpus added after the floors
of `all` were set: learner_words (a learner's own word the catalogue names otherwise) for the thesaurus;
qualified (a subject and a level, season, part or edition marker many subjects share: 古筝 进阶) and
learner_course (a question whose one word names the course that answers it: 果树怎么修剪) for how a query's
words are weighed against each other; theme_words (a theme filter plus a learner's word few of the theme's records
hold as typed: 跳舞 [养生保健]) for finding the theme's courses that name the word otherwise; pinyin_dev (pinyin of
2-6 syllables spaced or not, initials, ü as v or u:, upper case: ba duan jin, zhinengshouji, bdj, lv you) for
pinyin matching; learner_sentences (learners' own sentences over every theme, a few with one general word and
a few nothing answers: 有没有教做馒头的, 我想学手机, 家里水管漏水怎么修) for a question's words the catalogue does
not hold; general_word (a question whose one subject word is general, held by dozens of records in titles and
descriptions: 想学点手机, 有什么养生的课) for how a general word's records are ordered."""
EMPTY_ALLOWED = frozenset({"nothing_relevant", "learner_sentences"})
"""Classes whose queries may have no grades (the right answer is an empty page); only nothing_relevant must."""
LABEL_KEYS = ("subject", "family", "stem", "level", "variant")
STORY_CAP = 1


class JudgementError(ValueError):
    """judgements.yaml says something the suite cannot use (the query id and the reason)."""


@dataclass(frozen=True)
class Judgement:
    """One query as a learner types it, with its class, theme filter and grading rows."""

    q: str
    query_class: str
    theme: str | None
    rows: tuple[tuple[int, dict[str, Any]], ...]

    @property
    def name(self) -> str:
        return f"{self.q} [{self.theme}]" if self.theme else self.q

    def grade(self, labels: dict[str, Any]) -> int:
        """The first matching row's grade for a record's labels (0 when none matches); stories are capped."""
        for grade, condition in self.rows:
            if _holds(condition, labels):
                return min(grade, STORY_CAP) if labels["kind"] == "story" else grade
        return 0

    def grades(self, labels: dict[str, dict[str, Any]]) -> dict[str, int]:
        """uid -> grade for every record this query grades above 0."""
        found = {uid: self.grade(record) for uid, record in labels.items()}
        return {uid: grade for uid, grade in found.items() if grade > 0}


def _holds(condition: dict[str, Any], labels: dict[str, Any]) -> bool:
    for key, wanted in condition.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if key == "theme":
            if not set(values) & set(labels["themes"]):
                return False
        elif labels[key] not in values:
            return False
    return True


def load_judgements(path: Path = JUDGEMENTS) -> list[Judgement]:
    """Every query of the file, checked: known class, grades 1-3, known condition keys."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = []
    for n, item in enumerate(data["queries"], start=1):
        where = f"{path.name} query {n} ({item.get('q')!r})"
        if item.get("class") not in CLASSES:
            raise JudgementError(f"{where}: class must be one of {', '.join(CLASSES)}")
        rows = []
        for grade, condition in item.get("grades") or []:
            unknown = set(condition) - {*LABEL_KEYS, "theme"}
            if grade not in (1, 2, 3) or unknown or not condition:
                raise JudgementError(f"{where}: bad row [{grade}, {condition}]")
            rows.append((int(grade), dict(condition)))
        if (item["class"] == "nothing_relevant" and rows) or (not rows and item["class"] not in EMPTY_ALLOWED):
            raise JudgementError(f"{where}: only nothing_relevant and learner_sentences queries have no grades")
        found.append(Judgement(q=str(item["q"]), query_class=item["class"], theme=item.get("theme"),
                               rows=tuple(rows)))  # fmt: skip
    return found
