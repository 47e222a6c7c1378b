"""The metadata formats: `oai_dc` (Dublin Core) for any harvester, `lom` (IEEE LOM, GB/T 21365) for courses.

LOM carries what Dublin Core cannot: the course's lessons' total duration, its type, its teachers and provider
as contributors, the platform's own category paths and edufed's themes as classifications; its subtitle is a
second general.description (LOM has no subtitle element) and its region general.coverage (as dc:coverage: the
province's full name and the city). A LOM classification with the source THEMES_SOURCE holds the record's
national themes (全民终身学习活动周十大主题) in order, so another aggregator (edufed's own `oai_pmh` source
included) keeps them as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from config.regions import region_table
from crawlers import LOM_NS, OAI_DC_NS, THEMES_SOURCE
from indexer.record import Record

DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str
    build: Callable[[Record], etree._Element]


def clean(text: object) -> str:
    """Text without the characters XML 1.0 cannot carry."""
    return _XML_ILLEGAL.sub("", str(text))


def _add(parent: etree._Element, tag: str, text: object = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = clean(text)
    return element


def oai_dc(record: Record) -> etree._Element:
    """Dublin Core: the course URL is the first identifier, themes and category paths are subjects."""
    q = f"{{{DC_NS}}}"
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
    _add(root, q + "title", record.title)
    if record.subtitle:
        _add(root, q + "title", record.subtitle)
    for person in record.instructors:
        _add(root, q + "creator", person.name)
    for subject in [*record.themes, *(" > ".join(p) for p in record.categories_raw if p)]:
        _add(root, q + "subject", subject)
    if record.description:
        _add(root, q + "description", record.description)
    if record.provider:
        _add(root, q + "publisher", record.provider.name)
    _add(root, q + "contributor", record.platform_name)
    if record.published_at:
        _add(root, q + "date", record.published_at.date().isoformat())
    _add(root, q + "type", record.record_type)
    if record.media_type:
        _add(root, q + "format", record.media_type)
    _add(root, q + "identifier", record.url)
    _add(root, q + "source", record.platform_name)
    _add(root, q + "language", record.language)
    if place := region_text(record):
        _add(root, q + "coverage", place)
    _add(root, q + "rights", "免费" if record.is_free else "收费")
    return root


def region_text(record: Record) -> str | None:
    """Where the course comes from, as dc:coverage / LOM general.coverage: 广东省 广州市, 全国, or the name given."""
    province = region_table().province(record.region.get("province", ""))
    parts = [province.name if province else record.region.get("name"), record.region.get("city")]
    return " ".join(p for p in dict.fromkeys(parts) if p) or None


def _lang(parent: etree._Element, tag: str, text: str, language: str) -> etree._Element:
    container = _add(parent, tag)
    _add(container, f"{{{LOM_NS}}}string", text, language=language)
    return container


def _vocabulary(parent: etree._Element, tag: str, value: str, *, source: str = "LOMv1.0") -> None:
    element = _add(parent, tag)
    _add(element, f"{{{LOM_NS}}}source", source)
    _add(element, f"{{{LOM_NS}}}value", value)


def _vcard(name: str) -> str:
    escaped = name.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", " ")
    return f"BEGIN:VCARD\nVERSION:3.0\nFN:{escaped}\nEND:VCARD"


def lom(record: Record) -> etree._Element:
    """IEEE LOM: general, lifeCycle, technical, educational and classification, in the schema's order."""
    n = f"{{{LOM_NS}}}"
    language = record.language or "zh-CN"
    root = etree.Element(n + "lom", nsmap={None: LOM_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{LOM_NS} http://ltsc.ieee.org/xsd/lomv1.0/lom.xsd")
    general = _add(root, n + "general")
    for catalog, entry in (("URI", record.url), ("edufed", record.uid)):
        identifier = _add(general, n + "identifier")
        _add(identifier, n + "catalog", catalog)
        _add(identifier, n + "entry", entry)
    _lang(general, n + "title", record.title, language)
    _add(general, n + "language", language)
    for text in (record.description, record.subtitle):  # LOM has no subtitle: a second description holds it
        if text:
            _lang(general, n + "description", text, language)
    for keyword in record.tags:
        _lang(general, n + "keyword", keyword, language)
    if place := region_text(record):
        _lang(general, n + "coverage", place, "zh-CN")
    _life_cycle(root, record)
    technical = _add(root, n + "technical")
    if record.media_type:
        _add(technical, n + "format", record.media_type)
    _add(technical, n + "location", record.url)
    if record.duration_seconds:
        _add(_add(technical, n + "duration"), n + "duration", f"PT{record.duration_seconds}S")
    educational = _add(root, n + "educational")
    _vocabulary(educational, n + "learningResourceType", record.record_type, source="edufed")
    if record.themes:
        _classification(root, THEMES_SOURCE, [[t] for t in record.themes])
    if record.categories_raw:
        _classification(root, record.platform_name, record.categories_raw)
    return root


def _life_cycle(root: etree._Element, record: Record) -> None:
    n = f"{{{LOM_NS}}}"
    people = [("author", p.name) for p in record.instructors]
    if record.provider:
        people.append(("publisher", record.provider.name))
    if not people and not record.published_at:
        return
    life = _add(root, n + "lifeCycle")
    for role, name in people or [("publisher", record.platform_name)]:
        contribute = _add(life, n + "contribute")
        _vocabulary(contribute, n + "role", role)
        _add(contribute, n + "entity", _vcard(name))
        if record.published_at:
            date = _add(contribute, n + "date")
            _add(date, n + "dateTime", record.published_at.date().isoformat())


def _classification(root: etree._Element, source: str, paths: list[list[str]]) -> None:
    n = f"{{{LOM_NS}}}"
    classification = _add(root, n + "classification")
    _vocabulary(classification, n + "purpose", "discipline")
    for path in paths:
        taxon_path = _add(classification, n + "taxonPath")
        _lang(taxon_path, n + "source", source, "zh-CN")
        for entry in path:
            _lang(_add(taxon_path, n + "taxon"), n + "entry", entry, "zh-CN")


FORMATS = {
    "oai_dc": MetadataFormat("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC_NS, oai_dc),
    "lom": MetadataFormat("lom", "http://ltsc.ieee.org/xsd/lomv1.0/lom.xsd", LOM_NS, lom),
}
