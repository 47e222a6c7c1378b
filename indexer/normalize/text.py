"""Text normalizers: HTML to plain text, whitespace, size limits, lists, people, counts, URLs."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

_WS = re.compile(r"\s+")
_LIST_SEPARATORS = re.compile(r"[,，、;；|/／]+")
_PATH_SEPARATORS = re.compile(r"\s*(?:>|＞|›|»|/|／)\s*")
_NUMBER = re.compile(r"^\s*([0-9][0-9,，]*(?:\.[0-9]+)?)\s*(万|亿|w|W|k|K)?\s*(?:人|次|人次)?\s*\+?\s*$")
_UNITS = {"万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "k": 1_000, "K": 1_000}
MAX_COUNT = 10**12
"""The largest learner, lesson or duration count taken as real."""
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]*[A-Za-z0-9](?::[0-9]{1,5})?(?:[/?#][^\s<>\"']*)?\Z")
"""http(s), a host name or IPv4 address (and port), then anything but whitespace and the characters refused."""
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object")


def strip_html(value: str) -> str:
    """Plain text of an HTML fragment: tags and scripts dropped, entities decoded, whitespace folded."""
    if "<" not in value:
        # str.split() splits at exactly the characters the regex \s matches, and is several times faster
        return " ".join((html.unescape(value) if "&" in value else value).split())
    try:
        root = lxml.html.fragment_fromstring(value, create_parent="div")
    except (etree.ParserError, ValueError):
        return _WS.sub(" ", re.sub(r"<[^>]*>", " ", html.unescape(value))).strip()
    for bad in root.iter(*_DROP_TAGS):
        bad.drop_tree()
    for br in root.iter("br", "p", "div", "li"):
        br.tail = " " + (br.tail or "")
    return _WS.sub(" ", root.text_content()).strip()


def clean_text(value: Any, *, max_chars: int) -> str | None:
    """A plain-text string of at most max_chars, or None for empty values."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value if v is not None)
    text = strip_html(str(value))
    if not text:
        return None
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


def split_list(value: Any, *, max_items: int = 50, max_chars: int = 60) -> list[str]:
    """Tags or names from a string with Chinese or Latin separators, or from a list; deduplicated, in order."""
    if value is None:
        return []
    pieces: Iterable[Any] = value if isinstance(value, list | tuple) else _LIST_SEPARATORS.split(str(value))
    seen: dict[str, None] = {}
    for piece in pieces:
        if isinstance(piece, dict):
            piece = piece.get("name") or piece.get("title") or piece.get("tag_name") or ""
        text = clean_text(piece, max_chars=max_chars)
        if text and text not in seen:
            seen[text] = None
    return list(seen)[:max_items]


def category_paths(value: Any) -> list[list[str]]:
    """Category paths from a list of lists, a list of 'a > b' strings, or one such string."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else [value]
    paths: list[list[str]] = []
    for item in items:
        if isinstance(item, list | tuple):
            path = [t for t in (clean_text(p, max_chars=60) for p in item) if t]
        else:
            path = [t for t in (clean_text(p, max_chars=60) for p in _PATH_SEPARATORS.split(str(item))) if t]
        if path and path not in paths:
            paths.append(path)
    return paths[:20]


def parse_count(value: Any) -> int | None:
    """A non-negative count from 1234, '1,234', '1.2万', '3k人次'; None when it is not a count.

    Beyond MAX_COUNT (and for infinity or NaN, which JSON parsers accept) a value is not a count: it would
    overflow the index's 64-bit integers and fail the record's write.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = value
    else:
        match = _NUMBER.match(str(value))
        if not match:
            return None
        number = float(match.group(1).replace(",", "").replace("，", "")) * _UNITS.get(match.group(2) or "", 1)
    return int(number) if 0 <= number <= MAX_COUNT else None


def http_url(value: Any) -> str | None:
    """The value as an absolute http(s) URL with a host, or None."""
    if not isinstance(value, str) or ":" not in value:  # no scheme at all (an id, a path): not a URL
        return None
    url = value.strip()
    if _PLAIN_URL.match(url):  # the common shape, which urlsplit would accept: no need to split it
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c in url for c in " \n\t<>\"'"):
        return None
    return url
