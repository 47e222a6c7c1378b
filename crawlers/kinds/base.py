"""What a source is: built from a config and a Fetcher, it yields raw records; plus the kind registry."""

from __future__ import annotations

import string
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

from config.source_models import SourceBase
from crawlers.errors import SourceConfigError
from crawlers.fetch import Fetcher
from indexer.record import RawRecord


class _Missing:
    """The value of a path that is not present (distinct from a present null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class ItemProblem:
    """An item the source found but could not turn into a raw record, with the reason."""

    reason: str
    source_id: str | None = None
    payload: Any = None


class Source(ABC):
    """One configured feed of one platform. `iter_records` is lazy: records come as pages arrive.

    Items that cannot become a RawRecord land in `problems`; feed-level oddities in `warnings`.
    """

    kind: ClassVar[str]

    def __init__(self, config: SourceBase, fetcher: Fetcher) -> None:
        self.config = config
        self.fetcher = fetcher
        self.problems: list[ItemProblem] = []
        self.warnings: list[str] = []

    @abstractmethod
    def iter_records(self) -> Iterator[RawRecord]:
        """Fetch and parse the source, yielding one RawRecord per item; raises HarvestError if it cannot."""


S = TypeVar("S", bound=type[Source])

SOURCE_KINDS: dict[str, type[Source]] = {}


def register(kind: str) -> Callable[[S], S]:
    """Class decorator: make a Source class the harvester for configs of this `kind`."""

    def add(cls: S) -> S:
        cls.kind = kind
        SOURCE_KINDS[kind] = cls
        return cls

    return add


def build_source(config: SourceBase, fetcher: Fetcher) -> Source:
    """The Source for a config, chosen by its `kind`; an unknown kind raises SourceConfigError."""
    kind = getattr(config, "kind", None)
    cls = SOURCE_KINDS.get(str(kind))
    if cls is None:
        known = ", ".join(sorted(SOURCE_KINDS)) or "none"
        raise SourceConfigError(config.id, reason=f"no harvester for kind {kind!r} (known: {known})")
    return cls(config, fetcher)


def lookup(data: Any, path: str) -> Any:
    """The value at a dotted path (`Data.PageListInfos`, `a.b.0.c`; numbers index lists), or MISSING."""
    node = data
    for part in path.split("."):
        if isinstance(node, dict):
            if part not in node:
                return MISSING
            node = node[part]
        elif isinstance(node, list) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(node) <= index < len(node):
                return MISSING
            node = node[index]
        else:
            return MISSING
    return node


def fill_template(template: str, item: Any) -> str:
    """Fill `{field}` placeholders (dotted paths allowed) from an item, URL-quoting each value.

    A placeholder whose value is missing, null or empty raises KeyError naming it.
    """
    parts: list[str] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(literal)
        if name is None:
            continue
        value = lookup(item, name)
        if value is MISSING or value is None or value == "":
            raise KeyError(name)
        parts.append(quote(str(value), safe=""))
    return "".join(parts)


def map_fields(item: Any, mapping: dict[str, str]) -> dict[str, Any]:
    """Record field -> value for each mapped path present in the item (absent paths are left out)."""
    found: dict[str, Any] = {}
    for record_field, path in mapping.items():
        value = lookup(item, path)
        if value is not MISSING:
            found[record_field] = value
    return found
