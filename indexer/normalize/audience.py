"""Audience, programme and level detection from categories, tags and titles."""

from __future__ import annotations

import re

from config.themes import ThemeTable
from indexer.analysis import fold
from indexer.normalize.terms import LabelMatcher

GENERAL_AUDIENCE = "通用"
_LEVELS = (
    ("高级", re.compile(r"高级|精通|研修")),
    ("中级", re.compile(r"中级|提高|进阶|二年级|三年级")),
    ("入门", re.compile(r"入门|零基础|初学|启蒙")),
    ("初级", re.compile(r"初级|基础|一年级")),
)


class AudienceDetector:
    """Labels records with audiences and programmes by the table's keyword rules."""

    def __init__(self, table: ThemeTable) -> None:
        self._audience = LabelMatcher([(r.audience, r.keywords) for r in table.audience_rules])
        self._programmes = LabelMatcher([(r.programme, r.keywords) for r in table.programme_rules])

    def audience(self, text: str, *, given: list[str]) -> list[str]:
        """Given audiences first, then detected ones; 通用 when nothing narrower is known."""
        return self.audience_folded(fold(text), given=given)

    def audience_folded(self, folded: str, *, given: list[str]) -> list[str]:
        """`audience` of text that is already folded (one fold serves both audiences and programmes)."""
        found = dict.fromkeys(given)
        found.update(dict.fromkeys(self._audience.labels_in_folded(folded)))
        found.pop(GENERAL_AUDIENCE, None)
        return list(found) or [GENERAL_AUDIENCE]

    def programmes(self, text: str, *, given: list[str]) -> list[str]:
        return self.programmes_folded(fold(text), given=given)

    def programmes_folded(self, folded: str, *, given: list[str]) -> list[str]:
        """`programmes` of text that is already folded."""
        found = dict.fromkeys(given)
        found.update(dict.fromkeys(self._programmes.labels_in_folded(folded)))
        return list(found)


def detect_level(title: str) -> str | None:
    """入门 / 初级 / 中级 / 高级 from words in a title, the way 老年大学 classes are named."""
    for level, pattern in _LEVELS:
        if pattern.search(title):
            return level
    return None
