"""OAI-PMH sets: one per platform, theme and programme, under the parent sets `platform`, `theme`, `programme`.

setSpec allows only ASCII letters, digits and -_.!~*'() between colons, so a Chinese theme or programme name
becomes its toneless pinyin (养生保健 -> `theme:yangshengbaojian`); the setName keeps the Chinese. Two names
with the same pinyin share one set. Platform ids are ASCII already (`platform:le_ouchn`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import lazy_pinyin

from indexer.backends.changes import SET_KINDS

PARENT_NAMES = {"platform": "平台", "theme": "学习主题（全民终身学习活动周十大主题）", "programme": "学习项目"}
_NOT_SPEC = re.compile(r"[^A-Za-z0-9\-_.!~*'()]+")


@dataclass(frozen=True)
class SetChoice:
    """What a setSpec selects: a kind, and its values (None: any value of that kind)."""

    kind: str
    values: tuple[str, ...] | None


@lru_cache(maxsize=4096)
def slug(value: str) -> str:
    """The setSpec part of a value: its toneless pinyin, other characters kept if legal, else '-'."""
    spelled = "".join(lazy_pinyin(value, errors=lambda chars: chars)).lower()
    return _NOT_SPEC.sub("-", spelled).strip("-") or "-"


def set_spec(kind: str, value: str) -> str:
    return f"{kind}:{value if kind == 'platform' else slug(value)}"


def header_specs(sets: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The setSpecs of a record's header, in kind order, without repeats."""
    return list(dict.fromkeys(set_spec(kind, v) for kind in SET_KINDS for v in sets.get(kind, ())))


def choose(spec: str, values: Mapping[str, list[str]]) -> SetChoice | None:
    """What `spec` selects among the known set values; None for a set this repository does not have."""
    kind, _, part = spec.partition(":")
    if kind not in SET_KINDS:
        return None
    if not part:
        return SetChoice(kind, None)
    chosen = tuple(v for v in values.get(kind, []) if set_spec(kind, v) == spec)
    return SetChoice(kind, chosen) if chosen else None


def all_sets(values: Mapping[str, list[str]], *, name_of: Callable[[str, str], str]) -> list[tuple[str, str]]:
    """(setSpec, setName) of every set: the parents, then each value's set."""
    found: list[tuple[str, str]] = [(kind, PARENT_NAMES[kind]) for kind in SET_KINDS]
    for kind in SET_KINDS:
        names: dict[str, list[str]] = {}
        for value in values.get(kind, []):
            names.setdefault(set_spec(kind, value), []).append(name_of(kind, value))
        found.extend((spec, " / ".join(dict.fromkeys(n))) for spec, n in sorted(names.items()))
    return found
