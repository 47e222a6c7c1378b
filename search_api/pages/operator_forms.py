"""The source form of the operator pages: form fields <-> a source config (the mapping is YAML in a textarea).

The form asks for the parts every operator needs (id, name, kind, feed URL, schedule); everything else of
the kind's config (items_path, id_field, url_template, fields...) is the YAML mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from config.source_models import SourceConfig
from search_api.http.body_limits import MAX_DEPTH, json_depth
from search_api.services.source_checks import ADAPTER, KINDS, LocalizedProblem, problems_of

URL_FIELD = {"json_api": "url", "rss": "url", "sitemap": "url", "oai_pmh": "base_url",
             "static_catalog": "version_url", "html": "start_urls"}  # fmt: skip
KIND_LABELS = {
    "json_api": "JSON 接口（分页课程列表）", "rss": "RSS / Atom 订阅", "oai_pmh": "OAI-PMH 元数据接口",
    "sitemap": "网站地图（sitemap.xml）", "html": "网页列表（按 CSS 选择器）", "static_catalog": "静态目录文件",
}  # fmt: skip
_FORM_KEYS = ("id", "name", "kind", "platform", "platform_name", "enabled", "schedule")
MAX_MAPPING_CHARS = 20_000


class FormProblems(Exception):
    """The form cannot become a config (bad YAML, a mapping that is not a mapping); carries the problems."""

    def __init__(self, problems: list[LocalizedProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in problems))


@dataclass
class SourceForm:
    """The values of the source form, as typed (shown again with the problems when they are wrong)."""

    id: str = ""
    name: str = ""
    kind: str = "json_api"
    url: str = ""
    platform: str = ""
    platform_name: str = ""
    interval_minutes: str = "1440"
    mapping: str = ""
    enabled: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_fields(cls, fields: Mapping[str, str], *, platform: str | None) -> SourceForm:
        """The form as posted; an operator's platform is theirs whatever the form says."""
        return cls(
            id=fields.get("id", "").strip(), name=fields.get("name", "").strip(),
            kind=fields.get("kind", "json_api").strip(), url=fields.get("url", "").strip(),
            platform=platform or fields.get("platform", "").strip(),
            platform_name=fields.get("platform_name", "").strip(),
            interval_minutes=fields.get("interval_minutes", "").strip() or "1440",
            mapping=fields.get("mapping", "")[:MAX_MAPPING_CHARS],
        )  # fmt: skip

    @classmethod
    def from_config(cls, config: SourceConfig) -> SourceForm:
        """The form showing a saved config."""
        data = config.model_dump(mode="json", exclude_defaults=True)
        url_field = URL_FIELD.get(config.kind, "url")
        url = data.pop(url_field, "")
        if isinstance(url, list):
            data[url_field], url = url[1:], (url[0] if url else "")
            if not data[url_field]:
                data.pop(url_field)
        schedule = data.pop("schedule", {}) or {}
        interval = str(schedule.pop("interval_minutes", config.schedule.interval_minutes or 1440))
        if schedule:
            data["schedule"] = schedule
        for key in _FORM_KEYS:
            if key != "schedule":
                data.pop(key, None)
        mapping = yaml.safe_dump(data, allow_unicode=True, sort_keys=False) if data else ""
        return cls(config.id, config.name, config.kind, str(url), config.platform, config.platform_name,
                   interval, mapping, config.enabled)  # fmt: skip

    def to_data(self) -> dict[str, Any]:
        """The config data the form describes; FormProblems when the mapping is not a YAML mapping, together
        with every problem of the form's own fields (a broken mapping does not hide a wrong interval)."""
        try:
            mapping = self._mapping()
        except FormProblems as exc:
            raise FormProblems([*exc.problems, *self._field_problems()]) from exc
        return self._data(mapping)

    def _field_problems(self) -> list[LocalizedProblem]:
        """The problems of the fields the form asks for itself, checked without the mapping."""
        if self.kind not in KINDS:
            return []
        own = {"id", "name", "platform", "platform_name", "schedule.interval_minutes", URL_FIELD[self.kind]}
        try:
            ADAPTER.validate_python(self._data({}))
        except ValidationError as exc:
            return [p for p in problems_of(exc) if p.field in own or p.field.startswith("start_urls.")]
        return []

    def _data(self, mapping: dict[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {key: value for key, value in mapping.items() if key not in _FORM_KEYS}
        given = mapping.get("schedule")
        schedule: dict[str, Any] = given if isinstance(given, dict) else {}
        interval: Any = int(self.interval_minutes) if self.interval_minutes.isdigit() else self.interval_minutes
        data.update({"id": self.id, "name": self.name, "kind": self.kind, "platform": self.platform,
                     "platform_name": self.platform_name, "enabled": self.enabled,
                     "schedule": {**schedule, "interval_minutes": interval}})  # fmt: skip
        url_field = URL_FIELD.get(self.kind, "url")
        if url_field == "start_urls":
            listed = list(mapping.get("start_urls") or [])
            data["start_urls"] = [self.url, *listed] if self.url else listed
        elif self.url:
            data[url_field] = self.url
        return data

    def _mapping(self) -> dict[str, Any]:
        if self.kind not in KINDS:
            raise FormProblems([LocalizedProblem("kind", f"unknown kind {self.kind[:40]!r}", "请选择来源类型")])
        if not self.mapping.strip():
            return {}
        if json_depth(self.mapping.encode("utf-8")) > MAX_DEPTH:  # YAML's parser recurses once per level
            raise FormProblems([LocalizedProblem("mapping", f"nested more than {MAX_DEPTH} levels deep",
                                                 f"字段映射的嵌套超过了 {MAX_DEPTH} 层")])  # fmt: skip
        try:
            loaded = yaml.safe_load(self.mapping)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            line = f"（第 {mark.line + 1} 行）" if mark else ""
            problem = LocalizedProblem("mapping", f"not valid YAML{where}", f"字段映射不是有效的 YAML{line}")
            raise FormProblems([problem]) from exc
        if loaded is None:
            return {}
        if not isinstance(loaded, dict):
            raise FormProblems([LocalizedProblem("mapping", "must be a YAML mapping of keys to values",
                                                 "字段映射应该是“键: 值”的形式")])  # fmt: skip
        return loaded
