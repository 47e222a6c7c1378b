"""Find rule terms in text: one compiled leftmost-longest matcher per rule table, on folded text."""

from __future__ import annotations

import re
from collections.abc import Iterable

from indexer.analysis import fold


class TermMatcher:
    """Finds which of a fixed set of terms occur in a text.

    Matching is on folded text (simplified, lowercase, half-width), so 養生 finds 养生 and EXCEL finds Excel.
    Overlaps resolve leftmost-longest: in 心理健康 the term 心理健康 wins over 健康, so a psychology course is
    not also read as a health one. Latin terms match only as whole words (AI must not match "email").
    """

    def __init__(self, terms: Iterable[str]) -> None:
        folded = sorted({fold(t) for t in terms if t.strip()}, key=len, reverse=True)
        self.terms = folded
        patterns = [
            rf"(?<![a-z0-9]){re.escape(t)}(?![a-z0-9])" if t.isascii() else re.escape(t) for t in folded
        ]
        self._regex = re.compile("|".join(patterns)) if patterns else None

    def find(self, text: str | None) -> list[str]:
        """Distinct terms found in text, in order of first occurrence."""
        if not text or self._regex is None:
            return []
        return list(dict.fromkeys(m.group(0) for m in self._regex.finditer(fold(text))))
