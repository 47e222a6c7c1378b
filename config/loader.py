"""Load and validate the YAML configuration files, applying EDUFED_* environment overrides to settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from config.errors import ConfigError, ConfigProblem
from config.query_words import QueryWords
from config.settings import Settings
from config.source_models import SourceConfig, SourcesFile
from config.themes import ThemeTable

BUNDLED_DIR = Path(__file__).resolve().parent
ENV_PREFIX = "EDUFED_"
ENV_NESTING = "__"

M = TypeVar("M", bound=BaseModel)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [ConfigProblem("(file)", f"cannot read: {exc.strerror or exc}")]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        raise ConfigError(str(path), [ConfigProblem(where, f"not valid YAML: {exc}")]) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(str(path), [ConfigProblem("(top level)", "must be a mapping of keys to values")])
    return data


def problems_from(exc: ValidationError) -> list[ConfigProblem]:
    """Turn pydantic's errors into (field path, reason) pairs a person can act on."""
    problems = []
    for err in exc.errors():
        location = ".".join(str(part) for part in err["loc"]) or "(top level)"
        value = err.get("input")
        shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
        problems.append(ConfigProblem(location, f"{err['msg']}{shown}"))
    return problems


def validate(model: type[M], data: Mapping[str, Any], origin: str) -> M:
    """Validate data against a config model, raising ConfigError that names the origin and each field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(origin, problems_from(exc)) from exc


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """EDUFED_INDEX__BACKEND=elasticsearch becomes {"index": {"backend": "elasticsearch"}}."""
    tree: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split(ENV_NESTING) if part]
        if not path:
            continue
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[path[-1]] = yaml.safe_load(raw) if raw.strip() else None
    return tree


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from a YAML file (default: the bundled settings.yaml) with EDUFED_* variables applied."""
    path = path or BUNDLED_DIR / "settings.yaml"
    overrides = _env_overrides(os.environ if environ is None else environ)
    origin = str(path) + (" + EDUFED_* environment" if overrides else "")
    return validate(Settings, _merge(_read_yaml(path), overrides), origin)


def load_sources(path: Path | None = None) -> list[SourceConfig]:
    """Every source in a sources.yaml (default: the bundled list of national platforms)."""
    path = path or BUNDLED_DIR / "sources.yaml"
    return validate(SourcesFile, _read_yaml(path), str(path)).sources


def load_query_words(path: Path | None = None) -> QueryWords:
    """How learners phrase a search: fillers, course-form endings, synonyms (default: the bundled query_words.yaml)."""
    path = path or BUNDLED_DIR / "query_words.yaml"
    return validate(QueryWords, _read_yaml(path), str(path))


def load_themes(path: Path | None = None) -> ThemeTable:
    """The theme rule table (default: the bundled themes.yaml)."""
    path = path or BUNDLED_DIR / "themes.yaml"
    return validate(ThemeTable, _read_yaml(path), str(path))
