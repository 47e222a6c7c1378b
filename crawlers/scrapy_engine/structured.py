"""schema.org items in an HTML page: JSON-LD (with @graph and lists), else microdata (itemscope/itemprop).

Like feedparser's bozo flag, a malformed block is reported in `warnings` and the rest of the page still read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from lxml import html as lxml_html

XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
JSON_LD_TYPE = "application/ld+json"
SCHEMA_PREFIXES = ("http://schema.org/", "https://schema.org/", "schema:")
_URL_ATTRIBUTES = {
    "a": "href",
    "area": "href",
    "link": "href",
    "img": "src",
    "audio": "src",
    "video": "src",
    "source": "src",
    "embed": "src",
    "iframe": "src",
    "track": "src",
    "object": "data",
}


@dataclass
class StructuredPage:
    """The schema.org items of wanted types found on one page, which syntax gave them, and what was wrong."""

    items: list[dict[str, Any]] = field(default_factory=list)
    syntax: str = ""
    warnings: list[str] = field(default_factory=list)


def type_names(node: dict[str, Any]) -> list[str]:
    """The schema.org type names of a node, without vocabulary prefixes."""
    raw = node.get("@type")
    names = raw if isinstance(raw, list) else [raw]
    found = []
    for name in names:
        if isinstance(name, str):
            for prefix in SCHEMA_PREFIXES:
                name = name.removeprefix(prefix)
            found.append(name)
    return found


def extract(page: str, *, url: str, types: Collection[str]) -> StructuredPage:
    """The items of `types` on the page: JSON-LD if the page has any of them, else microdata."""
    result = StructuredPage()
    try:
        root = lxml_html.fromstring(XML_DECLARATION.sub("", page, count=1) or "<html></html>")
    except (etree.ParserError, ValueError) as exc:
        result.warnings.append(f"{url}: not readable as HTML ({exc})")
        return result
    wanted = set(types)
    result.items = [n for n in _json_ld_nodes(root, url=url, warnings=result.warnings) if wanted & set(type_names(n))]
    if result.items:
        result.syntax = "json-ld"
        return result
    result.items = [n for n in _microdata_items(root) if wanted & set(type_names(n))]
    result.syntax = "microdata" if result.items else ""
    return result


def _json_ld_nodes(root: Any, *, url: str, warnings: list[str]) -> Iterator[dict[str, Any]]:
    blocks = [s for s in root.iter("script") if (s.get("type") or "").split(";")[0].strip().lower() == JSON_LD_TYPE]
    for number, script in enumerate(blocks, start=1):
        text = (script.text or "").strip().removeprefix("<!--").removesuffix("-->").strip()
        if not text:
            continue
        try:
            data = json.loads(text)
        except ValueError as exc:
            warnings.append(f"{url}: malformed JSON-LD block {number} skipped ({exc})")
            continue
        yield from _top_nodes(data)


def _top_nodes(data: Any) -> Iterator[dict[str, Any]]:
    """Top-level nodes of a JSON-LD document: the object itself, list members, @graph members."""
    if isinstance(data, list):
        for member in data:
            yield from _top_nodes(member)
    elif isinstance(data, dict):
        if "@graph" in data:
            yield from _top_nodes(data["@graph"])
        if "@type" in data:
            yield data


def _microdata_items(root: Any) -> Iterator[dict[str, Any]]:
    for element in root.iter():
        if isinstance(element.tag, str) and element.get("itemscope") is not None and element.get("itemprop") is None:
            yield _microdata_item(element)


def _microdata_item(element: Any) -> dict[str, Any]:
    node: dict[str, Any] = {}
    itemtype = (element.get("itemtype") or "").split()
    if itemtype:
        node["@type"] = [t.rstrip("/").rpartition("/")[2] for t in itemtype]
    if element.get("itemid"):
        node["@id"] = element.get("itemid")
    values: dict[str, list[Any]] = {}
    for prop in _properties(element):
        value = _microdata_item(prop) if prop.get("itemscope") is not None else _microdata_value(prop)
        for name in (prop.get("itemprop") or "").split():
            values.setdefault(name, []).append(value)
    for name, found in values.items():
        node[name] = found[0] if len(found) == 1 else found
    return node


def _properties(element: Any) -> Iterator[Any]:
    """Elements carrying itemprop for this item: descendants, not crossing into nested items."""
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.get("itemprop") is not None:
            yield child
        if child.get("itemscope") is None:
            yield from _properties(child)


def _microdata_value(element: Any) -> str:
    tag = element.tag.lower()
    if tag == "meta":
        return str(element.get("content") or "").strip()
    if tag in _URL_ATTRIBUTES:
        return str(element.get(_URL_ATTRIBUTES[tag]) or "").strip()
    if tag == "time" and element.get("datetime"):
        return str(element.get("datetime")).strip()
    if tag in ("data", "meter") and element.get("value"):
        return str(element.get("value")).strip()
    return " ".join(element.text_content().split())
