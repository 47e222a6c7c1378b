"""Checking a source config an operator sends: schema errors in English and Chinese, and the SSRF address check.

Every problem names the field path (`fields.title`, `schedule.interval_minutes`, `url`) so the operator
pages can show it next to the form and API clients can act on it.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import TypeAdapter, ValidationError

from config.loader import problems_from
from config.source_models import SourceConfig
from crawlers import AddressPolicy, UrlRefusedError
from search_api.http.errors import InvalidRequestError, ProblemDetail

ADAPTER: TypeAdapter[SourceConfig] = TypeAdapter(SourceConfig)
KINDS = ("json_api", "rss", "oai_pmh", "sitemap", "html", "static_catalog")
_FETCHED_URL_FIELDS = ("url", "base_url", "version_url")
_FETCHED_URL_LISTS = ("start_urls", "detail_urls")

_ZH: dict[str, str] = {
    "missing": "缺少这一项，必须填写",
    "extra_forbidden": "不认识这一项（拼写错了，或者这种来源没有这一项）",
    "string_pattern_mismatch": "格式不对：只能用小写字母、数字和下划线，并以字母开头",
    "string_too_short": "不能为空",
    "string_too_long": "太长了",
    "string_type": "应该是文字",
    "int_parsing": "应该是整数",
    "int_type": "应该是整数",
    "int_from_float": "应该是整数",
    "float_parsing": "应该是数字",
    "float_type": "应该是数字",
    "bool_parsing": "应该是 true 或 false",
    "bool_type": "应该是 true 或 false",
    "greater_than_equal": "数值太小",
    "greater_than": "数值太小",
    "less_than_equal": "数值太大",
    "less_than": "数值太大",
    "url_parsing": "不是有效的网址",
    "url_scheme": "网址必须以 http:// 或 https:// 开头",
    "url_type": "应该是网址",
    "literal_error": "取值不在允许的范围内",
    "union_tag_invalid": "kind（来源类型）只能是 json_api、rss、oai_pmh、sitemap、html、static_catalog 之一",
    "union_tag_not_found": "缺少 kind（来源类型）",
    "dict_type": "应该是键值对（映射）",
    "list_type": "应该是列表",
    "model_type": "应该是键值对（映射）",
    "model_attributes_type": "应该是键值对（映射）",
    "value_error": "取值有误",
    "datetime_parsing": "不是有效的日期时间",
}


@dataclass(frozen=True)
class LocalizedProblem(ProblemDetail):
    """A problem with a source config, with the reason in Chinese as well."""

    reason_zh: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason, "reason_zh": self.reason_zh}


def _zh_reason(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    base = _ZH.get(kind, "取值有误")
    context = error.get("ctx") or {}
    if kind == "literal_error" and "expected" in context:
        return f"{base}：{context['expected']}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        limit = next(iter(context.values()), "")
        symbol = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤", "less_than": "<"}[kind]
        return f"{base}，应 {symbol} {limit}"
    if kind == "value_error":
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        known = next((zh for words, zh in _MODEL_RULES_ZH.items() if words in message), None)
        return known or f"{base}：{message}"
    return base


_MODEL_RULES_ZH = {
    "must say where the title is": "必须说明标题在哪里（fields.title）",
    "must name at least one page": "至少要填一个列表页或详情页网址",
    "must say which links on a list page": "必须用 item_links 说明列表页上哪些链接通向详情页",
    "must say where each row's name is": "必须用 columns.name 说明每一行的名称在哪里",
}
_LEADING_FIELD = re.compile(r"^(?:Value error, )?([a-z_]+(?:\.[a-z_]+)*)\b")


def _field_path(location: str, message: str) -> str:
    """Drop the kind tag pydantic puts first for a tagged union (`json_api.fields` -> `fields`); a rule over the
    whole config is reported at the field its message names first (`fields.title ...` -> `fields.title`)."""
    head, _, rest = location.partition(".")
    if head in KINDS and rest:
        return rest
    if head in KINDS:
        found = _LEADING_FIELD.match(message)
        return found.group(1) if found else "(config)"
    return location


def problems_of(exc: ValidationError) -> list[LocalizedProblem]:
    """One problem per pydantic error, with the field path, the English reason and the Chinese one."""
    found = []
    for problem, error in zip(problems_from(exc), exc.errors(), strict=True):
        field = _field_path(problem.location, str(error.get("msg", "")))
        if str(error.get("type", "")).startswith("union_tag"):
            field = "kind"
        found.append(LocalizedProblem(field, problem.message, _zh_reason(error)))
    return found


def invalid(problems: list[LocalizedProblem], message: str = "the source configuration is invalid") -> None:
    """Raise the 422 for these problems."""
    raise InvalidRequestError(message, details=list(problems))


def parse_config(data: Any) -> SourceConfig:
    """A validated source config; 422 with every problem when the data is not one."""
    if not isinstance(data, dict):
        invalid([LocalizedProblem("request", "the body must be a JSON object", "请求内容应该是一个 JSON 对象")])
    try:
        return ADAPTER.validate_python(data)
    except ValidationError as exc:
        invalid(problems_of(exc))
    raise AssertionError("unreachable")


def fetched_urls(config: SourceConfig) -> Iterator[tuple[str, str]]:
    """(field path, URL) of every URL a harvest of this config requests first (links found later are checked
    by the fetcher as they are followed)."""
    for name in _FETCHED_URL_FIELDS:
        value = getattr(config, name, None)
        if value is not None:
            yield name, str(value)
    for name in _FETCHED_URL_LISTS:
        for index, value in enumerate(getattr(config, name, None) or []):
            yield f"{name}.{index}", str(value)
    for index, host in enumerate(getattr(config, "part_hosts", None) or []):
        yield f"part_hosts.{index}", f"https://{host}/"
    template = getattr(getattr(config, "detail", None), "url_template", None)  # json_api's detail request only
    if template is not None:
        yield "detail.url_template", template.replace("{", "").replace("}", "")


def address_problems(config: SourceConfig, policy: AddressPolicy) -> list[LocalizedProblem]:
    """Each fetched URL whose host resolves to a refused address, or does not resolve at all."""
    problems = []
    for field, url in fetched_urls(config):
        try:
            policy.check_url(url)
        except UrlRefusedError as exc:
            problems.append(LocalizedProblem(
                field, f"refused: {exc.cause}",
                "这个网址指向本机、内网或其他非公网地址，edufed 不会从这里采集",
            ))  # fmt: skip
        except (socket.gaierror, UnicodeError) as exc:
            problems.append(LocalizedProblem(
                field, f"the host name does not resolve ({exc})", "网址里的主机名解析不到地址，请检查拼写",
            ))  # fmt: skip
    return problems


def check_addresses(config: SourceConfig, policy: AddressPolicy) -> None:
    """422 when any URL the config fetches resolves to a refused address."""
    problems = address_problems(config, policy)
    if problems:
        invalid(problems, "the source would fetch from an address edufed does not fetch from")


@dataclass(frozen=True)
class SameUrlSource:
    """Another registered source that already fetches a URL this config fetches."""

    source_id: str
    name: str
    platform: str
    field: str
    url: str


def comparable_url(url: str) -> str:
    """A URL as two sources harvesting the same feed would both write it: scheme and host lower-case, no
    fragment, no trailing slash, the default port dropped."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return urlunsplit((parts.scheme.lower(), host + port, parts.path.rstrip("/"), parts.query, ""))


def same_url_sources(config: SourceConfig, others: Iterable[tuple[str, str, str, SourceConfig]]) -> list[SameUrlSource]:
    """The other sources (id, name, platform, config) fetching one of this config's start URLs; a warning, not an
    error: two sources of one feed harvest it twice and list each course twice."""
    wanted = {comparable_url(url): name for name, url in _feed_urls(config)}
    found = []
    for source_id, name, platform, other in others:
        if source_id == config.id:
            continue
        for _, url in _feed_urls(other):
            key = comparable_url(url)
            if key in wanted:
                found.append(SameUrlSource(source_id, name, platform, wanted[key], url))
                break
    return found


def _feed_urls(config: SourceConfig) -> Iterator[tuple[str, str]]:
    """The URLs that say which feed a source harvests (not the hosts of its part files or detail pages)."""
    for name, url in fetched_urls(config):
        if not name.startswith(("part_hosts", "detail.")):
            yield name, url
