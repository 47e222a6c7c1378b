"""Find rule terms in text: one compiled leftmost-longest matcher per rule table, on folded text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from indexer.analysis import fold

_ASCII = re.compile("[\x00-\x7f]")
_BEFORE_WORD = r"(?<![a-z0-9])"
_AFTER_WORD = r"(?![a-z0-9])"
_END = ""
"""Trie key marking that a term ends at a node (no character is the empty string)."""


class TermMatcher:
    """Finds which of a fixed set of terms occur in a text.

    Matching is on folded text (simplified, lowercase, half-width), so 養生 finds 养生 and EXCEL finds Excel.
    Overlaps resolve leftmost-longest: in 心理健康 the term 心理健康 wins over 健康, so a psychology course is
    not also read as a health one. Latin terms match only as whole words (AI must not match "email").
    Callers that look at one text with several matchers fold it once and use the `*_folded` methods.

    Speed: Python's regex engine skips ahead by the possible first characters of a pattern only when the
    pattern starts with them; the word check in front of latin terms defeats that, so every position would
    try every term. When the latin terms are pure ASCII and the others hold no ASCII at all, their matches
    can never overlap, so the two sets are scanned by two patterns and the matches merged by position:
    the same matches as one pattern, several times faster. A mixed term keeps the single pattern. The
    non-latin terms are compiled as a character trie (see `_trie_pattern`), which tries one branch per
    character instead of every term in turn.
    """

    def __init__(self, terms: Iterable[str]) -> None:
        folded = sorted({fold(t) for t in terms if t.strip()}, key=len, reverse=True)
        self.terms = folded
        latin = [t for t in folded if t.isascii()]
        other = [t for t in folded if not t.isascii()]
        self._substrings = tuple(other)
        self._latin = _latin_pattern(latin)
        self._other = re.compile(_trie_pattern(other)) if other else None
        self._single: re.Pattern[str] | None = None
        if any(_ASCII.search(t) for t in other):
            patterns = [_BEFORE_WORD + re.escape(t) + _AFTER_WORD if t.isascii() else re.escape(t) for t in folded]
            self._single = re.compile("|".join(patterns))

    def find(self, text: str | None) -> list[str]:
        """Distinct terms found in text, in order of first occurrence."""
        if not text:
            return []
        return self.find_folded(fold(text))

    def find_folded(self, folded: str) -> list[str]:
        """`find` on text that is already folded."""
        if not folded:
            return []
        if self._single is not None:
            return list(dict.fromkeys(m.group(0) for m in self._single.finditer(folded)))
        found = [(m.start(), m.group(0)) for m in self._other.finditer(folded)] if self._other else []
        if self._latin is not None:
            latin = [(m.start(), m.group(0)) for m in self._latin.finditer(folded)]
            if latin:
                found = sorted(found + latin)
        return list(dict.fromkeys(term for _, term in found))

    def occurs_in_folded(self, folded: str) -> bool:
        """Whether `find_folded` would find anything, answered without collecting the matches.

        Any occurrence of a term makes the leftmost-longest scan find something (that term, or an earlier
        match), so a plain substring test answers for the non-latin terms; latin terms keep their word check.
        """
        if not folded:
            return False
        if any(term in folded for term in self._substrings):
            return True
        return self._latin is not None and self._latin.search(folded) is not None


def _latin_pattern(terms: list[str]) -> re.Pattern[str] | None:
    """The latin terms (longest first) between one pair of word checks: the same matches as one check each."""
    if not terms:
        return None
    return re.compile(f"{_BEFORE_WORD}(?:{'|'.join(map(re.escape, terms))}){_AFTER_WORD}")


def _trie_pattern(terms: list[str]) -> str:
    """A pattern matching exactly `terms`, longest match first, built as a trie of their characters.

    At each position the text leads down a single path (sibling branches start with different characters);
    a term ending inside the path is an optional tail tried after the longer continuations, so the match is
    the longest term starting there: what the flat longest-first alternation finds, with less backtracking.
    """
    trie: dict[str, Any] = {}
    for term in terms:
        node = trie
        for char in term:
            node = node.setdefault(char, {})
        node[_END] = {}
    return _node_pattern(trie)


def _node_pattern(node: dict[str, Any]) -> str:
    branches = [re.escape(char) + _node_pattern(child) for char, child in sorted(node.items()) if char != _END]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
    return f"(?:{body})?" if _END in node else body
