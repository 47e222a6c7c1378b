"""The `oai_pmh` kind: Identify, ListRecords over resumption tokens, selective by `from`, with deletions."""

from __future__ import annotations

import functools
import logging
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from config.source_models import OaiPmhSourceConfig, ResourceTypeMapping
from crawlers.errors import ParseError, SourceConfigError
from crawlers.kinds.base import ItemProblem, fill_template, register
from crawlers.kinds.cursor import IncrementalSource
from crawlers.kinds.oai_metadata import (
    OAI_NS,
    OaiRecord,
    oai_errors,
    parse_datestamp,
    parse_xml,
    read_metadata,
    read_records,
    text_of,
    verb_element,
)
from indexer.normalize.text import http_url
from indexer.record import RawRecord

logger = logging.getLogger(__name__)

DAY = "YYYY-MM-DD"
SECONDS = "YYYY-MM-DDThh:mm:ssZ"
# The request asks for something this repository cannot give: the source's configuration must change.
CONFIG_ERRORS = {"cannotDisseminateFormat", "noSetHierarchy", "noMetadataFormats"}


@dataclass(frozen=True)
class Identity:
    """What Identify says about the repository."""

    name: str
    granularity: str
    earliest: str | None


@dataclass
class _ListState:
    """What one run has seen so far across pages and restarts."""

    since: datetime | None
    latest: datetime | None
    yielded: set[str] = field(default_factory=set)
    deleted: int = 0
    pages: int = 0


class _BadResumptionToken(Exception):
    def __init__(self, token: str, url: str) -> None:
        super().__init__(token)
        self.token = token
        self.url = url


def format_from(stamp: datetime, granularity: str) -> str:
    """A `from` argument at the repository's granularity (UTC)."""
    return stamp.strftime("%Y-%m-%d" if granularity == DAY else "%Y-%m-%dT%H:%M:%SZ")


@register("oai_pmh")
class OaiPmhSource(IncrementalSource):
    """Harvests one OAI-PMH repository (or set); after a first full run, only records changed since `from`."""

    config: OaiPmhSourceConfig

    def iter_records(self) -> Iterator[RawRecord]:
        stored = self.stored_cursor()
        identity = self._identify()
        prefix = self._choose_prefix()
        if stored and stored.get("metadata_prefix") != prefix:
            self.notes.append(f"metadata format changed to {prefix}; harvesting in full")
            stored = {}
        since = parse_datestamp(stored.get("from"))
        self.scope = "incremental" if since else "full"
        state = _ListState(since=since, latest=since)
        complete = yield from self._list(self._first_params(prefix, identity=identity, since=since), state)
        self.notes.append(f"{state.pages} ListRecords pages, {len(state.yielded)} records, {state.deleted} deleted")
        if complete:
            latest = state.latest.strftime("%Y-%m-%dT%H:%M:%SZ") if state.latest else None
            self.finish({"from": latest, "metadata_prefix": prefix, "granularity": identity.granularity})

    def _call(self, params: dict[str, str], verb: str) -> tuple[etree._Element | None, str]:
        """One OAI request: the verb element and the URL, or None for noRecordsMatch; OAI errors raise."""
        response = self.fetcher.get(str(self.config.base_url), params=params)
        root = parse_xml(response.content, url=response.url)
        errors = oai_errors(root) if root.tag == f"{{{OAI_NS}}}OAI-PMH" else []
        codes = {e.code for e in errors}
        if "noRecordsMatch" in codes:
            return None, response.url
        if "badResumptionToken" in codes:
            raise _BadResumptionToken(params.get("resumptionToken", ""), response.url)
        if errors:
            said = "; ".join(f"{e.code}: {e.message}" if e.message else e.code for e in errors)
            if codes & CONFIG_ERRORS:
                raise SourceConfigError(self.config.id, reason=f"the repository refused {verb}: {said}")
            raise ParseError(response.url, reason=f"OAI-PMH error {said}")
        return verb_element(root, verb, url=response.url), response.url

    def _identify(self) -> Identity:
        element, url = self._call({"verb": "Identify"}, "Identify")
        if element is None:
            raise ParseError(url, reason="Identify answered noRecordsMatch")
        values = {etree.QName(c).localname: text_of(c) for c in element if isinstance(c.tag, str)}
        granularity = values.get("granularity", "")
        if granularity not in (DAY, SECONDS):
            self.warnings.append(f"Identify gives granularity {granularity!r}; using {DAY} for `from`")
            granularity = DAY
        return Identity(values.get("repositoryName", ""), granularity, values.get("earliestDatestamp"))

    def _choose_prefix(self) -> str:
        """The LOM prefix when configured and offered by ListMetadataFormats, else metadata_prefix."""
        cfg = self.config
        if not cfg.lom_prefix:
            return cfg.metadata_prefix
        try:
            element, _ = self._call({"verb": "ListMetadataFormats"}, "ListMetadataFormats")
        except SourceConfigError:
            element = None
        offered = [] if element is None else [text_of(p) for p in element.iter(f"{{{OAI_NS}}}metadataPrefix")]
        if cfg.lom_prefix in offered:
            return cfg.lom_prefix
        self.notes.append(f"the repository does not offer {cfg.lom_prefix}; harvesting {cfg.metadata_prefix}")
        return cfg.metadata_prefix

    def _first_params(self, prefix: str, *, identity: Identity, since: datetime | None) -> dict[str, str]:
        params = {"verb": "ListRecords", "metadataPrefix": prefix}
        if since is not None:
            params["from"] = format_from(since, identity.granularity)
        if self.config.set_spec:
            params["set"] = self.config.set_spec
        return params

    def _list(self, params: dict[str, str], state: _ListState) -> Generator[RawRecord, None, bool]:
        """Every page of the list; a bad resumption token restarts it from the run's `from` (a few times)."""
        restarts = 0
        while True:
            try:
                return (yield from self._pages(params, state))
            except _BadResumptionToken as bad:
                if restarts >= self.config.max_restarts:
                    raise ParseError(
                        bad.url,
                        reason=f"badResumptionToken {bad.token!r} after {restarts} restarts of the list; giving up",
                    ) from None
                restarts += 1
                start = params.get("from", "the beginning")
                self.warnings.append(f"badResumptionToken {bad.token!r}: restarted the list from {start}")

    def _pages(self, params: dict[str, str], state: _ListState) -> Generator[RawRecord, None, bool]:
        """Yield the records of each page; return True when the list ended, False when a guard stopped it."""
        tokens: set[str] = set()
        while True:
            if state.pages >= self.config.max_pages:
                self.warnings.append(
                    f"stopped after max_pages={self.config.max_pages} ListRecords pages; "
                    "the list may go on, the cursor is not advanced"
                )
                return False
            state.pages += 1
            element, url = self._call(params, "ListRecords")
            if element is None:
                return True
            records, token = read_records(element)
            for record in records:
                yield from self._take(record, state, page_url=url)
            if not token:
                return True
            if token in tokens:
                self.warnings.append(
                    f"resumptionToken {token!r} came back a second time; stopped the list "
                    "to avoid a loop, the cursor is not advanced"
                )
                return False
            tokens.add(token)
            params = {"verb": "ListRecords", "resumptionToken": token}

    def _take(self, record: OaiRecord, state: _ListState, *, page_url: str) -> Iterator[RawRecord]:
        header = record.header
        if not header.identifier:
            self._reject(f"a record on {page_url} has no header identifier", source_id=None, payload=header.to_dict())
            return
        stamp = parse_datestamp(header.datestamp)
        if stamp is None:
            self.warnings.append(f"{header.identifier}: unreadable datestamp {header.datestamp!r}")
        elif state.latest is None or stamp > state.latest:
            state.latest = stamp
        if header.deleted:
            state.deleted += 1
            self.mark_deleted(header.identifier)
            return
        if header.identifier in state.yielded:
            return  # seen before a restart of the list
        raw = self._raw(record, page_url=page_url)
        if raw is not None:
            state.yielded.add(header.identifier)
            self.mark_alive(header.identifier)
            yield raw

    def _raw(self, record: OaiRecord, *, page_url: str) -> RawRecord | None:
        header = record.header
        identifier = str(header.identifier)
        payload = {"header": header.to_dict(), "metadata": None}
        if record.metadata is None:
            self._reject(f"{identifier}: no metadata", source_id=identifier, payload=payload)
            return None
        payload["metadata"] = etree.tostring(record.metadata, encoding="unicode")
        found = read_metadata(record.metadata)
        if found is None:
            namespace = etree.QName(record.metadata).namespace
            reason = f"{identifier}: metadata format {namespace!r} is not one edufed reads"
            self._reject(reason, source_id=identifier, payload=payload)
            return None
        fields = dict(found.fields)
        url = next((u for u in map(http_url, found.links) if u), None) or self._template_url(identifier)
        if url is None:
            reason = f"{identifier}: no http(s) identifier in the metadata and no url_template"
            self._reject(reason, source_id=identifier, payload=payload)
            return None
        fields["url"] = url
        if header.datestamp:
            fields["updated_at"] = header.datestamp
        fields.update(self._types(found.types))
        return RawRecord(source_id=identifier, fields=fields, payload=payload, api_url=page_url)

    def _template_url(self, identifier: str) -> str | None:
        if not self.config.url_template:
            return None
        try:
            return fill_template(self.config.url_template, {"identifier": identifier})
        except KeyError:
            return None

    @functools.cached_property
    def _known_types(self) -> dict[str, ResourceTypeMapping]:
        """type_map with its keys stripped and lowercased, built once per run rather than per record."""
        return {key.strip().lower(): mapping for key, mapping in self.config.type_map.items()}

    def _types(self, values: list[str]) -> dict[str, Any]:
        known = self._known_types
        for value in values:
            mapping = known.get(value.strip().lower())
            if mapping is not None:
                found: dict[str, Any] = {"record_type": mapping.record_type}
                if mapping.media_type is not None:
                    found["media_type"] = mapping.media_type
                return found
        return {}

    def _reject(self, reason: str, *, source_id: str | None, payload: Any) -> None:
        logger.info("%s: %s", self.config.id, reason)
        self.problems.append(ItemProblem(reason, source_id, payload))
