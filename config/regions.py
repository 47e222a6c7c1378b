"""The table of China's 34 provincial-level regions (regions.yaml): canonical names, short forms, OAI set slugs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

REGIONS_FILE = Path(__file__).with_name("regions.yaml")
PROVINCE_COUNT = 34
_CITY_AFTER = re.compile(r"(?:省|市|自治区|特别行政区)?([\u4e00-\u9fff]{1,4}?市|[\u4e00-\u9fff]{1,4}?(?:州|盟|地区))")
"""A city right after a province's name: ending in 市 when it can (杭州市, not 杭州), else 州, 盟 or 地区."""
_SLUG = r"^[a-z]+$"


class Province(BaseModel):
    """One provincial-level region: its full name (广东省), the short form used as facet value (广东), its slug."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=2, description="Full official name, e.g. 广西壮族自治区.")
    short: str = Field(min_length=2, description="Short form, the canonical facet value, e.g. 广西.")
    slug: str = Field(pattern=_SLUG, description="ASCII name of its OAI set region:<slug> (陕西 is shaanxi).")
    cities: tuple[str, ...] = Field(
        (), description="Cities (without 市) a name may carry without naming the province: capital and others."
    )
    aliases: tuple[str, ...] = Field((), description="Other spellings of the name (traditional characters).")


@dataclass(frozen=True)
class Place:
    """Where a text says something is: the province's short form (or 全国), and the city when it names one."""

    province: str
    city: str | None = None


class RegionTable(BaseModel):
    """The region table: the national pseudo-region and the 34 provinces, looked up by any of their names."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str = Field(min_length=1, description="Version of the table, for the record.")
    national: Province = Field(description="The region of a national platform (全国).")
    provinces: tuple[Province, ...] = Field(description="The 34 provincial-level regions.")

    @model_validator(mode="after")
    def _complete(self) -> RegionTable:
        if len(self.provinces) != PROVINCE_COUNT:
            raise ValueError(f"the table lists {len(self.provinces)} provinces, not {PROVINCE_COUNT}")
        every = [self.national, *self.provinces]
        for attribute in ("name", "short", "slug"):
            values = [getattr(p, attribute) for p in every]
            if len(set(values)) != len(values):
                raise ValueError(f"two regions share a {attribute}")
        return self

    @property
    def every(self) -> tuple[Province, ...]:
        """全国 first, then the provinces in table order."""
        return (self.national, *self.provinces)

    @cached_property
    def _by_alias(self) -> dict[str, tuple[Province, str | None]]:
        aliases: dict[str, tuple[Province, str | None]] = {}
        for province in self.every:
            aliases[province.name] = aliases[province.short] = (province, None)
            for alias in province.aliases:
                aliases[alias] = (province, None)
            for city in province.cities:
                aliases.setdefault(city + "市", (province, city + "市"))
                aliases.setdefault(city, (province, city + "市"))
        return aliases

    @cached_property
    def _pattern(self) -> re.Pattern[str]:
        names = sorted(self._by_alias, key=len, reverse=True)  # longest first: 浙江省 before 浙江
        return re.compile("|".join(re.escape(n) for n in names))

    def names_place(self, word: str) -> bool:
        """Whether `word` is exactly a name the table knows a region or one of its cities by (浙江, 浙江省, 杭州市,
        杭州; not 浙江大学)."""
        return word in self._by_alias

    def canonical(self, value: str) -> str | None:
        """The short form of a region named exactly (广东省, 广东 or the slug guangdong), else None."""
        value = value.strip()
        for province in self.every:
            if value in (province.name, province.short, province.slug, *province.aliases):
                return province.short
        return None

    def province(self, short: str) -> Province | None:
        """The region whose short form is `short`."""
        return next((p for p in self.every if p.short == short), None)

    def find(self, text: str) -> Place | None:
        """The first region a text names (浙江省杭州市老年大学 -> 浙江, 杭州市; 宁波社区大学 -> 浙江, 宁波市)."""
        found = self._pattern.search(text)
        if found is None:
            return None
        province, city = self._by_alias[found.group()]
        if city is None and province is not self.national and len(province.cities) > 0:
            after = _CITY_AFTER.match(text, found.end())
            city = after.group(1) if after else None
        return Place(province.short, city)


@lru_cache(maxsize=1)
def region_table() -> RegionTable:
    """The packaged region table, read and checked once per process."""
    with REGIONS_FILE.open(encoding="utf-8") as handle:
        return RegionTable.model_validate(yaml.safe_load(handle))
