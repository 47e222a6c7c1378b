"""CMS pages as fields: CSS-selected values, labelled lines (案例名称：…), programme rows, URL ids, dates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from parsel import Selector, SelectorList

from config.source_models import ProgrammeRows

BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "td",
        "th",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "section",
        "article",
        "ul",
        "ol",
        "dd",
        "dt",
        "blockquote",
        "hr",
    }
)
SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template"})
_SPACES = re.compile(r"[ \t\r\f\v\u3000\xa0]+")


def element_text(root: Any) -> str:
    """Text of an lxml element with line breaks around block elements, spaces squeezed, no blank lines."""
    parts: list[str] = []
    _collect(root, parts, tail=False)  # the text after the element is not the element's
    lines = (_SPACES.sub(" ", line).strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _collect(element: Any, parts: list[str], *, tail: bool = True) -> None:
    tag = element.tag.lower() if isinstance(element.tag, str) else ""
    if tag in SKIPPED_TAGS:
        parts.append(element.tail or "" if tail else "")
        return
    block = tag in BLOCK_TAGS
    if block:
        parts.append("\n")
    if isinstance(element.tag, str):
        parts.append(element.text or "")
        for child in element:
            _collect(child, parts)
    if block:
        parts.append("\n")
    if tail:
        parts.append(element.tail or "")


def selected(page: Selector, css: str) -> str | list[str] | None:
    """What a CSS selector finds: element text, or the strings of a ::text / ::attr() selector."""
    found: SelectorList[Selector] = page.css(css)
    values = [(" ".join(str(s.root).split()) if isinstance(s.root, str) else element_text(s.root)) for s in found]
    values = [v for v in values if v]
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def id_from_url(url: str, pattern: str) -> str:
    """The platform id in a detail URL (the `id` group of `pattern`), else the whole URL."""
    match = re.search(pattern, url)
    return match.group("id") if match and match.group("id") else url


def date_from_url(url: str, pattern: str) -> str | None:
    """YYYY-MM-DD from a date-partitioned path (/Pages/News/2022/12/05/...) when it holds a real date."""
    match = re.search(pattern, url)
    if match is None:
        return None
    year, month, day = (int(match.group(g)) for g in ("year", "month", "day"))
    if not (1990 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def labelled_groups(text: str, labels: dict[str, str]) -> list[dict[str, str]]:
    """Record field -> value for each labelled block; a label seen again starts the next block.

    A value runs from `label：` (or `label:`) to the next known label, so it may span lines.
    """
    if not labels:
        return []
    names = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    marks = list(re.finditer(rf"(?:^|(?<=[\s。；;，,]))({names})\s*[:：]", text))
    groups: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(text)
        value = _SPACES.sub(" ", text[mark.end() : end]).strip()
        field = labels[mark.group(1)]
        if field in current:
            groups.append(current)
            current = {}
        if value:
            current[field] = value
    if current:
        groups.append(current)
    return groups


@dataclass(frozen=True)
class ProgrammeEntryRow:
    """One row of a programme list: its number on the page and the entry fields it gave."""

    number: int
    values: dict[str, str]


def programme_rows(page: Selector, rows: ProgrammeRows) -> tuple[list[ProgrammeEntryRow], int]:
    """Rows with a name, numbered from 1, and how many rows had cells but no name (bad rows)."""
    found: list[ProgrammeEntryRow] = []
    nameless = 0
    for row in page.css(rows.selector):
        values: dict[str, str] = {}
        for field, css in rows.columns.items():
            value = selected(row, css)
            if value:
                values[field] = value if isinstance(value, str) else " ".join(value)
        if values.get("name"):
            found.append(ProgrammeEntryRow(len(found) + 1, values))
        elif values:
            nameless += 1
    return found, nameless


def year_in(text: str | None, pattern: str) -> str | None:
    """The `year` group of `pattern` in a text (a page title such as 2023年…名单), if any."""
    match = re.search(pattern, text or "")
    return match.group("year") if match else None
