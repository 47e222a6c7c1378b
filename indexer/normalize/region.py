"""Where a record comes from: its own region field, else its provider's name, else its platform's region.

Every place is brought to the region table's canonical short form (config/regions.yaml): `province` holds
广东 / 内蒙古 / 全国 whichever way the text spelled it (广东省, 广州市…), `city` the city when one is named;
other keys a source gave (district, adcode, name) are kept as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config.regions import Place, RegionTable, region_table
from indexer.normalize.text import clean_text

MAX_REGION_CHARS = 60
_TEXT_KEYS = ("province", "city", "district", "name")


def normalize_region(
    value: Any, *, provider: str | None, default: Mapping[str, str], table: RegionTable | None = None
) -> dict[str, str]:
    """The record's region: the first of its own value, its provider's name and the platform's default
    that names a region of the table. A value naming none is kept as given (without province and city)."""
    table = table or region_table()
    own = _given(value)
    if (place := _place(own, table)) is not None:
        return _placed(own, place)
    unplaced = {k: v for k, v in own.items() if k not in ("province", "city")}
    if provider and (place := table.find(provider)) is not None:
        return _placed(unplaced, place)
    if (place := _place(default, table)) is not None:
        return _placed({**default, **unplaced}, place)
    return unplaced


def _placed(fields: Mapping[str, str], place: Place) -> dict[str, str]:
    placed = {k: v for k, v in fields.items() if k not in ("province", "city")}
    placed["province"] = place.province
    if place.city:
        placed["city"] = place.city
    return placed


def _given(value: Any) -> dict[str, str]:
    if isinstance(value, Mapping):
        found = {str(k): clean_text(v, max_chars=MAX_REGION_CHARS) for k, v in value.items()
                 if isinstance(v, str | int)}  # fmt: skip
        return {k: v for k, v in found.items() if v}
    name = clean_text(value, max_chars=MAX_REGION_CHARS)
    return {"name": name} if name else {}


def _place(fields: Mapping[str, str], table: RegionTable) -> Place | None:
    text = "".join(fields.get(k, "") for k in _TEXT_KEYS)
    return table.find(text) if text else None
