"""The `static_catalog` kind: a version index listing JSON part files of full records (smartedu's NDR CDN).

Every part file read whole is a complete listing. An unchanged version (or a 304 for the index) downloads
nothing and is the very listing of the last complete run: the run counts it as such, so a record missing from
the catalogue keeps counting missed runs and leaves after `withdraw_after_missed_runs` of them.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from config.source_models import StaticCatalogSourceConfig
from crawlers.errors import FetchError, ParseError
from crawlers.kinds.base import MISSING, ItemProblem, fill_template, lookup, register
from crawlers.kinds.cursor import IncrementalSource
from indexer.record import RawRecord

logger = logging.getLogger(__name__)

FieldPaths = str | list[str]


def lookup_all(data: Any, path: str) -> list[Any]:
    """Every value at a dotted path where `*` stands for each element of a list or each value of an object."""
    nodes = [data]
    for part in path.split("."):
        found: list[Any] = []
        for node in nodes:
            if part != "*":
                value = lookup(node, part)
                if value is not MISSING:
                    found.append(value)
            elif isinstance(node, dict):
                found.extend(node.values())
            elif isinstance(node, list):
                found.extend(node)
        nodes = found
    return [node for node in nodes if node is not None]


def first_value(data: Any, paths: FieldPaths) -> Any:
    """The value of the first path (or `*` path) that holds something non-empty, or MISSING."""
    for path in [paths] if isinstance(paths, str) else paths:
        if "*" in path:
            values = lookup_all(data, path)
            if values:
                return values
            continue
        value = lookup(data, path)
        if value is not MISSING and value not in (None, "", [], {}):
            return value
    return MISSING


def _names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if isinstance(v, str | int)]
    return [str(value).strip()] if isinstance(value, str | int) else []


@dataclass(frozen=True)
class CatalogueIndex:
    """What a version index says: the module, its version and the part files to read."""

    url: str
    module: str | None
    version: int
    part_urls: list[str]
    etag: str | None = None
    last_modified: str | None = None

    def cursor(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "module_version": self.version,
            "etag": self.etag,
            "last_modified": self.last_modified,
        }


def parse_version_index(data: Any, *, url: str) -> tuple[str | None, int, list[str]]:
    """(module, module_version, part URLs) of a version index; `urls` is a list or one comma-joined string."""
    if not isinstance(data, dict):
        raise ParseError(url, reason=f"version index is {type(data).__name__}, not an object")
    version = data.get("module_version")
    if isinstance(version, str) and version.strip().isdigit():
        version = int(version)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ParseError(url, reason=f"module_version is missing or not a whole number: {version!r}")
    listed = data.get("urls")
    if isinstance(listed, str):
        listed = listed.split(",")
    if not isinstance(listed, list) or not all(isinstance(u, str) for u in listed):
        raise ParseError(url, reason="urls is neither a list of URLs nor a comma-joined string of them")
    parts = list(dict.fromkeys(u.strip() for u in listed if u.strip()))
    module = data.get("module")
    return (str(module) if module is not None else None), version, [urljoin(url, p) for p in parts]


@register("static_catalog")
class StaticCatalogSource(IncrementalSource):
    """Reads the version index; when the version moved, reads every part file and yields its kept records."""

    config: StaticCatalogSourceConfig

    def iter_records(self) -> Iterator[RawRecord]:
        stored = self.stored_cursor()
        index = self._read_index(stored)
        if index is None:
            self._unchanged(stored, "the version index answered 304 Not Modified")
            return
        if stored.get("module_version") == index.version and stored.get("module") == index.module:
            self._unchanged(index.cursor(), f"module_version {index.version} as before")
            return
        if stored:
            self.notes.append(f"catalogue version {stored.get('module_version')} -> {index.version}")
        complete = yield from self._read_parts(index)
        if complete:
            self.finish(index.cursor())

    def _unchanged(self, cursor: dict[str, Any], why: str) -> None:
        self.scope = "unchanged"
        self.repeats_listing = True  # the cursor is only ever kept after every part file was read
        self.notes.append(f"unchanged catalogue: {why}; no part file downloaded")
        logger.info("%s: unchanged catalogue (%s)", self.config.id, why)
        self.finish({k: v for k, v in cursor.items() if k != "config_fingerprint"})

    def _read_index(self, stored: dict[str, Any]) -> CatalogueIndex | None:
        url = str(self.config.version_url)
        conditional = "module_version" in stored
        response = self.fetcher.get(
            url,
            etag=stored.get("etag") if conditional else None,
            last_modified=stored.get("last_modified") if conditional else None,
        )
        if response.not_modified:
            return None
        module, version, parts = parse_version_index(response.json(), url=response.url)
        return CatalogueIndex(
            response.url, module, version, parts, etag=response.etag, last_modified=response.last_modified
        )

    def _read_parts(self, index: CatalogueIndex) -> Generator[RawRecord, None, bool]:
        """Yield the records of every readable part; return whether all were listed; a failed part raises."""
        urls = index.part_urls
        complete = True
        if not urls:
            self.notes.append("the version index lists no part files: an empty catalogue")
        if len(urls) > self.config.max_parts:
            self.warnings.append(
                f"the version index lists {len(urls)} part files; read the first "
                f"max_parts={self.config.max_parts}, the catalogue is incomplete"
            )
            urls, complete = urls[: self.config.max_parts], False
        failed: list[tuple[str, str]] = []
        counts: Counter[str] = Counter()
        for url in urls:
            try:
                items = self._read_part(url, index=index)
            except (FetchError, ParseError) as exc:
                failed.append((url, str(exc)))
                self.warnings.append(f"part file {url} skipped: {exc}")
                continue
            for number, item in enumerate(items):
                raw = self._record(item, where=f"record {number} of {url}", part_url=url, counts=counts)
                if raw is not None:
                    counts["kept"] += 1
                    yield raw
        self.notes.append(self._summary(counts, parts=len(urls) - len(failed)))
        if failed:
            first_url, first_reason = failed[0]
            raise ParseError(
                first_url,
                reason=f"{len(failed)} of {len(urls)} part files could not be read, "
                f"the catalogue is incomplete (first: {first_reason})",
            )
        return complete

    def _read_part(self, url: str, *, index: CatalogueIndex) -> list[Any]:
        allowed = {urlsplit(index.url).hostname, *self.config.part_hosts}
        if urlsplit(url).hostname not in allowed:
            raise ParseError(url, reason="part file host is not the version index's host nor in part_hosts")
        response = self.fetcher.get(url)
        data = response.json()
        path = self.config.items_path
        items = data if path is None else lookup(data, path)
        if not isinstance(items, list):
            where = "the part file" if path is None else f"{path!r} in the part file"
            reason = f"{where} holds {type(items).__name__}, not a list of records"
            raise ParseError(response.url, reason=reason)
        return items

    def _summary(self, counts: Counter[str], *, parts: int) -> str:
        seen = sum(counts.values())
        return (
            f"kept {counts['kept']} of {seen} records in {parts} part files; {counts['tags']} without "
            f"any keep_tags tag, {counts['status']} not published, {counts['rejected']} rejected"
        )

    def _record(self, item: Any, *, where: str, part_url: str, counts: Counter[str]) -> RawRecord | None:
        cfg = self.config
        if not isinstance(item, dict):
            self._reject(f"{where}: not an object but {type(item).__name__}", counts=counts, source_id=None, item=item)
            return None
        found_id = lookup(item, cfg.id_field)
        if found_id in (MISSING, None, "") or isinstance(found_id, dict | list | bool):
            self._reject(f"{where}: no id at {cfg.id_field!r}", counts=counts, source_id=None, item=item)
            return None
        source_id = str(found_id)
        status = lookup(item, cfg.status_field)
        if status not in (MISSING, None) and str(status) not in cfg.keep_statuses:
            counts["status"] += 1
            return None
        fields = self._fields(item)
        if cfg.keep_tags and not set(_names(fields.get("tags"))) & set(cfg.keep_tags):
            counts["tags"] += 1
            return None
        try:
            fields["url"] = fill_template(cfg.url_template, item)
        except KeyError as exc:
            reason = f"{where}: url_template needs {exc.args[0]!r}, which the record lacks"
            self._reject(reason, counts=counts, source_id=source_id, item=item)
            return None
        return RawRecord(source_id=source_id, fields=fields, payload=item, api_url=part_url)

    def _reject(self, reason: str, *, counts: Counter[str], source_id: str | None, item: Any) -> None:
        counts["rejected"] += 1
        logger.info("%s: %s", self.config.id, reason)
        self.problems.append(ItemProblem(reason, source_id, item))

    def _fields(self, item: dict[str, Any]) -> dict[str, Any]:
        cfg = self.config
        fields: dict[str, Any] = {}
        for name, paths in cfg.fields.items():
            value = first_value(item, paths)
            if value is not MISSING:
                fields[name] = value
        if "lessons" in fields:
            fields["lessons"] = self._lessons(fields["lessons"])
        if "categories" not in cfg.fields:
            path = self._category_path(item)
            if path:
                fields["categories"] = [path]
        mapping = cfg.type_map.get(str(lookup(item, cfg.type_field)))
        if mapping is not None:
            fields["record_type"] = mapping.record_type
            if mapping.media_type is not None:
                fields["media_type"] = mapping.media_type
        return fields

    def _lessons(self, value: Any) -> list[dict[str, Any]]:
        lessons = []
        for child in value if isinstance(value, list) else [value]:
            if not isinstance(child, dict):
                continue
            mapped = {name: first_value(child, paths) for name, paths in self.config.lesson_fields.items()}
            lessons.append({name: v for name, v in mapped.items() if v is not MISSING})
        return lessons

    def _category_path(self, item: dict[str, Any]) -> list[str]:
        """Tag names forming the category path: the configured dimensions in order, or every tag as listed."""
        tags = lookup(item, self.config.tag_list_path)
        if not isinstance(tags, list):
            return []
        tags = [t for t in tags if isinstance(t, dict) and isinstance(t.get("tag_name"), str)]
        dimensions = self.config.category_dimensions
        if not dimensions:
            return [t["tag_name"] for t in tags]
        return [t["tag_name"] for d in dimensions for t in tags if t.get("tag_dimension_id") == d]
