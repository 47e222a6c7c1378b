"""HTML-safe highlighting of query matches in third-party text: escape the text, wrap matches in <mark>."""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence

from indexer.analysis import QueryTerm, fold, pinyin_spelled

SNIPPET_CHARS = 120
"""Length of a description snippet."""
_LEAD_CHARS = 30
"""How much text a snippet shows before its first match."""
_TITLE_CHARS = 200
_TO_ESCAPE = re.compile("[&<>\"']")
"""The characters html.escape replaces."""


def needles(terms: Sequence[QueryTerm], *, title: str = "") -> list[str]:
    """The folded strings to mark for these terms, longest first (a pinyin term marks the words it spells)."""
    fixed, spelled = _term_needles(tuple(terms))
    return list(_with_spelled(fixed, spelled, title=title))


def _with_spelled(fixed: tuple[str, ...], spelled: tuple[tuple[str, ...], ...], *, title: str) -> tuple[str, ...]:
    """`fixed` with the words of `title` the pinyin token tuples `spelled` spell, longest first."""
    if not spelled:
        return fixed
    found = set(fixed)
    folded = fold(title)
    for tokens in spelled:
        found.update(pinyin_spelled(folded, tokens))
    return tuple(sorted(found, key=lambda n: (-len(n), n)))


@functools.lru_cache(maxsize=256)
def _term_needles(terms: tuple[QueryTerm, ...]) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """The needles of a query's terms that do not depend on the record, longest first, and the token tuples of
    its pinyin alternatives (which mark the title words they spell): worked out once per query, not per hit."""
    found: set[str] = set()
    spelled: list[tuple[str, ...]] = []
    for term in terms:
        for alt in term.alternatives:
            if alt.field == "pinyin":
                spelled.append(alt.tokens)
            elif alt.phrase:
                found.add("".join(alt.tokens))
            else:
                found.update(alt.tokens)
    return tuple(sorted(found, key=lambda n: (-len(n), n))), tuple(spelled)


def highlight(text: str, marks: Sequence[str], *, width: int | None = None) -> str:
    """`text` HTML-escaped, every needle found in <mark>; `width` cuts a window around the first match."""
    return _highlight(text, _marker(tuple(marks)), width=width)


def highlight_record(*, title: str, description: str | None, terms: Sequence[QueryTerm]) -> dict[str, str]:
    """The `title` and `description` highlights of one search hit."""
    return Highlighter(terms).record(title=title, description=description)


class Highlighter:
    """`highlight_record` for the hits of one query: what its terms mark is worked out once, not per hit."""

    def __init__(self, terms: Sequence[QueryTerm]) -> None:
        self._fixed, self._spelled = _term_needles(tuple(terms))
        self._marker = _marker(self._fixed)

    def record(self, *, title: str, description: str | None) -> dict[str, str]:
        """The `title` and `description` highlights of one hit."""
        marker = _marker(_with_spelled(self._fixed, self._spelled, title=title)) if self._spelled else self._marker
        return {
            "title": _highlight(title, marker, width=_TITLE_CHARS),
            "description": _highlight(description or "", marker, width=SNIPPET_CHARS),
        }


def match_spans(text: str, marks: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) offsets in `text` of non-overlapping needle matches, compared after folding."""
    return _spans(text, _marker(tuple(marks)))


def _highlight(text: str, marker: re.Pattern[str] | None, *, width: int | None) -> str:
    spans = _spans(text, marker)
    size = len(text)
    if width is None or size <= width:
        return _render(text, spans, start=0, end=size)
    first = spans[0][0] if spans else 0
    start = max(0, min(first - _LEAD_CHARS, size - width))
    end = start + width
    body = _render(text, spans, start=start, end=end)
    return ("…" if start > 0 else "") + body + ("…" if end < size else "")


def _spans(text: str, marker: re.Pattern[str] | None) -> list[tuple[int, int]]:
    if marker is None or not text:
        return []
    folded, offsets = _fold_aligned(text)
    spans = [span for match in marker.finditer(folded) if (span := match.span())[1] > span[0]]
    if offsets is None:
        return spans
    return [(offsets[s], offsets[e]) for s, e in spans]


@functools.lru_cache(maxsize=512)
def _marker(marks: tuple[str, ...]) -> re.Pattern[str] | None:
    """The one expression matching any of `marks`, or None for no marks (compiled once per set of needles, not
    per field of each hit)."""
    return re.compile("|".join(_needle_pattern(n) for n in marks)) if marks else None


def _needle_pattern(needle: str) -> str:
    """Latin and digit needles match whole words only, so "ai" is not marked inside "email"."""
    escaped = re.escape(needle)
    if needle.isascii():
        return rf"(?<![a-z0-9]){escaped}(?![a-z0-9])"
    return escaped


def _fold_aligned(text: str) -> tuple[str, list[int] | None]:
    """The folded text and, when folding changed its length, the original offset of each folded offset."""
    folded = fold(text)
    if len(folded) == len(text):
        return folded, None
    pieces: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        piece = fold(char)
        pieces.append(piece)
        offsets.extend([index] * len(piece))
    offsets.append(len(text))
    return "".join(pieces), offsets


def _render(text: str, spans: Sequence[tuple[int, int]], *, start: int, end: int) -> str:
    """text[start:end] with the spans in <mark>, HTML-escaped."""
    if _TO_ESCAPE.search(text, start, end):
        return _render_escaped(text, spans, start=start, end=end)
    # most windows hold nothing HTML must escape: their pieces are then taken as they are
    if not spans:
        return text[start:end]
    out: list[str] = []
    position = start
    for span_start, span_end in spans:
        if span_start < position:
            span_start = position
        if span_end > end:
            span_end = end
        if span_end <= span_start:
            continue
        out += (text[position:span_start], "<mark>", text[span_start:span_end], "</mark>")
        position = span_end
    out.append(text[position:end])
    return "".join(out)


def _render_escaped(text: str, spans: Sequence[tuple[int, int]], *, start: int, end: int) -> str:
    escape = html.escape
    out: list[str] = []
    position = start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, position), min(span_end, end)
        if span_end <= span_start:
            continue
        out.append(escape(text[position:span_start]))
        out.append("<mark>" + escape(text[span_start:span_end]) + "</mark>")
        position = span_end
    out.append(escape(text[position:end]))
    return "".join(out)
