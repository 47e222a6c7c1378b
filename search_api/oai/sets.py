"""OAI-PMH sets: one per platform, theme, programme and region, under the parent set of each kind (`region`…).

setSpec allows only ASCII letters, digits and -_.!~*'() between colons, so a Chinese theme or programme name
becomes its toneless pinyin (养生保健 -> `theme:yangshengbaojian`); the setName keeps the Chinese. Two names
with the same pinyin share one set. Platform ids are ASCII already (`platform:le_ouchn`); a region's setSpec is
its slug in config/regions.yaml (广东 -> `region:guangdong`, 陕西 -> `region:shaanxi`, 全国 -> `region:quanguo`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import lazy_pinyin

from config.regions import region_table
from indexer.backends.changes import SET_KINDS

PARENT_NAMES = {
    "platform": "平台", "theme": "学习主题（全民终身学习活动周十大主题）", "programme": "学习项目",
    "region": "地区（省级行政区；全国为全国性平台）",
}  # fmt: skip
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
    if kind == "platform":
        return f"platform:{value}"
    if kind == "region" and (province := region_table().province(value)) is not None:
        return f"region:{province.slug}"  # the table's own slug: 山西 shanxi and 陕西 shaanxi stay apart
    return f"{kind}:{slug(value)}"


def set_name(kind: str, value: str) -> str:
    """The Chinese setName part of a theme, programme or region value (a region by its full name: 广东省)."""
    province = region_table().province(value) if kind == "region" else None
    return province.name if province is not None else value


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
