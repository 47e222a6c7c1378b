"""Find rule terms in text: compiled matchers per rule table, on folded text.

Chinese (any non-ASCII) terms are found by Aho-Corasick automata (ahocorasick_rs, Rust): one pass over the text
whatever the number of terms, a microsecond for a course description where Python's regex engine, even with
the terms compiled as a trie, took eight. Latin terms keep a regex with a whole-word check.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ahocorasick_rs import AhoCorasick, MatchKind

from indexer.analysis import fold

_ASCII = re.compile("[\x00-\x7f]")
_WORD_CHAR = re.compile("[a-z0-9]")
_BEFORE_WORD = r"(?<![a-z0-9])"
_AFTER_WORD = r"(?![a-z0-9])"


class TermMatcher:
    """Finds which of a fixed set of terms occur in a text.

    Matching is on folded text (simplified, lowercase, half-width), so 養生 finds 养生 and EXCEL finds Excel.
    Overlaps resolve leftmost-longest: in 心理健康 the term 心理健康 wins over 健康, so a psychology course is
    not also read as a health one. Latin terms match only as whole words (AI must not match "email").
    Callers that look at one text with several matchers fold it once and use the `*_folded` methods.

    When the latin terms are pure ASCII and the others hold no ASCII at all, their matches can never overlap,
    so the two sets are scanned separately (an automaton, and a regex run only when the text has a latin
    letter or digit) and merged by position: the same matches as one alternation of every term, longest
    first. A term mixing both keeps that single alternation.
    """

    def __init__(self, terms: Iterable[str]) -> None:
        folded = sorted({fold(t) for t in terms if t.strip()}, key=len, reverse=True)
        self.terms = folded
        other = [t for t in folded if not t.isascii()]
        self._other = AhoCorasick(other, matchkind=MatchKind.LeftmostLongest) if other else None
        self._other_terms = other
        self._latin = _latin_pattern([t for t in folded if t.isascii()])
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
        latin = self._latin_matches(folded)
        if self._other is None:
            return list(dict.fromkeys(m.group(0) for m in latin))
        if not latin:
            return list(dict.fromkeys(self._other.find_matches_as_strings(folded)))
        found = [(start, self._other_terms[i]) for i, start, _ in self._other.find_matches_as_indexes(folded)]
        found += [(m.start(), m.group(0)) for m in latin]
        return list(dict.fromkeys(term for _, term in sorted(found)))

    def _latin_matches(self, folded: str) -> list[re.Match[str]]:
        if self._latin is None or not _WORD_CHAR.search(folded):
            return []
        return list(self._latin.finditer(folded))


class LabelMatcher:
    """Which of several labelled term lists occur in a text, all answered by one pass over it.

    A list occurs when one of its terms does: a term holding any non-ASCII character as a plain substring, a
    pure-ASCII term as a whole word. That is exactly when a TermMatcher of the list would find something (any
    occurrence of a term makes its leftmost-longest scan find that term or an earlier match). Labels come back
    in the order of the lists, each once.
    """

    def __init__(self, rules: Sequence[tuple[str, Iterable[str]]]) -> None:
        self._labels = [label for label, _ in rules]
        owners: dict[str, set[int]] = {}
        self._latin: list[tuple[int, re.Pattern[str]]] = []
        for index, (_, terms) in enumerate(rules):
            folded = {fold(t) for t in terms if t.strip()}
            for term in folded:
                if not term.isascii():
                    owners.setdefault(term, set()).add(index)
            pattern = _latin_pattern(sorted((t for t in folded if t.isascii()), key=len, reverse=True))
            if pattern is not None:
                self._latin.append((index, pattern))
        self._terms = list(owners)
        self._owners = [owners[t] for t in self._terms]
        self._automaton = AhoCorasick(self._terms, matchkind=MatchKind.Standard) if self._terms else None

    def labels_in_folded(self, folded: str) -> list[str]:
        """The labels of the lists with a term in `folded` (already folded text)."""
        return list(dict.fromkeys(self._labels[i] for i in self.lists_in_folded(folded)))

    def lists_in_folded(self, folded: str) -> list[int]:
        """The positions (in the rules given) of the lists with a term in `folded`, in order."""
        if not folded:
            return []
        hits: set[int] = set()
        if self._automaton is not None:
            for term in {i for i, _, _ in self._automaton.find_matches_as_indexes(folded, overlapping=True)}:
                hits.update(self._owners[term])
        if self._latin and _WORD_CHAR.search(folded):
            hits.update(index for index, pattern in self._latin if index not in hits and pattern.search(folded))
        return sorted(hits)


def _latin_pattern(terms: list[str]) -> re.Pattern[str] | None:
    """The latin terms (longest first) between one pair of word checks: the same matches as one check each."""
    if not terms:
        return None
    return re.compile(f"{_BEFORE_WORD}(?:{'|'.join(map(re.escape, terms))}){_AFTER_WORD}")
