"""The field documentation of source configs, from the pydantic models' descriptions (config/source_models.py).

One table per kind: every field the YAML mapping (or an API body) can carry, nested models spelt out as dotted
paths (`schedule.interval_minutes`), with its Chinese name, whether it is required, its default, its Chinese
description (search_api.pages.field_help) and the model's own description, which the API's schema carries.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from config.source_models import (
    HtmlSourceConfig,
    JsonApiSourceConfig,
    OaiPmhSourceConfig,
    RssSourceConfig,
    SitemapSourceConfig,
    StaticCatalogSourceConfig,
)
from search_api.pages.field_help import field_help_zh
from search_api.pages.labels import FIELD_LABELS

MODELS: dict[str, type[BaseModel]] = {
    "json_api": JsonApiSourceConfig, "rss": RssSourceConfig, "static_catalog": StaticCatalogSourceConfig,
    "oai_pmh": OaiPmhSourceConfig, "sitemap": SitemapSourceConfig, "html": HtmlSourceConfig,
}  # fmt: skip
FORM_FIELDS = frozenset({"id", "name", "kind", "platform", "platform_name", "enabled", "schedule.interval_minutes",
                         "url", "base_url", "version_url", "start_urls"})  # fmt: skip
_MAX_DEFAULT_CHARS = 80


@dataclass(frozen=True)
class FieldDoc:
    """One documented field of a kind's config."""

    path: str
    label: str
    type: str
    required: bool
    default: str
    description: str
    description_zh: str
    in_form: bool


def field_docs(kind: str) -> list[FieldDoc]:
    """Every field of `kind`'s config, nested models flattened to dotted paths, in the model's order."""
    return list(_walk(MODELS[kind], kind=kind, prefix=""))


def _walk(model: type[BaseModel], *, kind: str, prefix: str) -> typing.Iterator[FieldDoc]:
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        nested = _nested_model(info.annotation)
        if name == "kind":
            continue
        yield FieldDoc(path, FIELD_LABELS.get(path, ""), _type_name(info.annotation), info.is_required(),
                       _default(info), info.description or "", field_help_zh(kind, path),
                       path in FORM_FIELDS)  # fmt: skip
        if nested is not None:
            yield from _walk(nested, kind=kind, prefix=f"{path}.")


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (also inside `X | None`), for documenting its fields too."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _type_name(annotation: Any) -> str:
    """A short readable type: `str`, `int | None`, `list[str]`, `'GET' | 'POST'`."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is not None:
        return f"{getattr(origin, '__name__', str(origin))}[{', '.join(_type_name(a) for a in args)}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return ""
    value = info.default_factory() if info.default_factory is not None else info.default  # type: ignore[call-arg]
    if value is PydanticUndefined:
        return ""
    if isinstance(value, BaseModel):
        return "（见下面各项）"
    text = repr(value)
    return text if len(text) <= _MAX_DEFAULT_CHARS else text[: _MAX_DEFAULT_CHARS - 1] + "…"
