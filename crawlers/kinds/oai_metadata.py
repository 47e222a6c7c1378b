"""OAI-PMH documents read safely with lxml, and oai_dc / IEEE LOM metadata mapped to record fields."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from crawlers.errors import ParseError

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NAMESPACES = ("http://purl.org/dc/elements/1.1/", "http://purl.org/dc/terms/")
_DC_PREFIXES = tuple(f"{{{ns}}}" for ns in DC_NAMESPACES)
"""Clark-notation tag prefixes of the Dublin Core namespaces (a string test is cheaper than QName)."""
LOM_NS = "http://ltsc.ieee.org/xsd/LOM"
THEMES_SOURCE = "全民终身学习活动周十大学习主题"
"""The source of a LOM taxonPath that holds one of the national themes (edufed's own provider writes these)."""
_O = {"o": OAI_NS}
_RECORD, _HEADER, _METADATA, _TOKEN = (f"{{{OAI_NS}}}{n}" for n in ("record", "header", "metadata", "resumptionToken"))
_IDENTIFIER, _DATESTAMP, _SET_SPEC = (f"{{{OAI_NS}}}{n}" for n in ("identifier", "datestamp", "setSpec"))
_L = {"l": LOM_NS}
_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_VCARD_NAME = re.compile(r"^FN[^:]*:(.+)$", re.MULTILINE)
_SUBJECT_LEVELS = re.compile(r"\s*(?:>|＞|›|--)\s*")
_ENTITY_DECLARATION = re.compile(rb"<!DOCTYPE[^\[>]*\[[^\]]*<!ENTITY")
PROLOG_BYTES = 64 * 1024
ENTITIES_REFUSED = "the document declares XML entities, which edufed never expands"


def parse_xml(content: bytes, *, url: str) -> etree._Element:
    """The root of an XML document; entities are never expanded, nothing is fetched, no huge trees.

    A document that declares entities (billion laughs, external entities) is refused outright: lxml keeps
    unexpanded entity references in the tree, and some accessors would still expand them.
    """
    if _ENTITY_DECLARATION.search(content[:PROLOG_BYTES]):
        raise ParseError(url, reason=ENTITIES_REFUSED)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, remove_pis=True)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(url, reason=f"not well-formed XML: {exc}") from exc
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise ParseError(url, reason=ENTITIES_REFUSED)
    return root


def text_of(element: etree._Element) -> str:
    """An element's text content, stripped."""
    if len(element) == 0:  # no child elements, comments or entities: the text is all there is (the common case)
        return (element.text or "").strip()
    return "".join(t for t in element.itertext() if isinstance(t, str)).strip()


def parse_datestamp(value: str | None) -> datetime | None:
    """An OAI datestamp (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ) as an aware UTC datetime; None if unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)


@dataclass(frozen=True)
class OaiHeader:
    identifier: str | None
    datestamp: str | None
    sets: list[str]
    deleted: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "datestamp": self.datestamp,
            "sets": self.sets,
            "status": "deleted" if self.deleted else None,
        }


@dataclass(frozen=True)
class OaiRecord:
    header: OaiHeader
    metadata: etree._Element | None


@dataclass(frozen=True)
class OaiErrorCode:
    code: str
    message: str


def oai_errors(root: etree._Element) -> list[OaiErrorCode]:
    return [OaiErrorCode(e.get("code", "unknown"), text_of(e)) for e in root.findall("o:error", _O)]


def verb_element(root: etree._Element, verb: str, *, url: str) -> etree._Element:
    """The `<verb>` element of an OAI-PMH response; anything else is a ParseError."""
    if root.tag != f"{{{OAI_NS}}}OAI-PMH":
        name = etree.QName(root).localname
        raise ParseError(url, reason=f"not an OAI-PMH response (root element {name!r})")
    found = root.find(f"o:{verb}", _O)
    if found is None:
        raise ParseError(url, reason=f"the OAI-PMH response has no <{verb}> element")
    return found


def read_records(element: etree._Element) -> tuple[list[OaiRecord], str | None]:
    """The records of a ListRecords element and its resumption token (None or empty at the end)."""
    records = []
    for record in element.iterchildren(_RECORD):
        header = metadata = None
        for child in record:  # one pass over the (two) children: cheaper than a search per tag
            if child.tag == _HEADER and header is None:
                header = child
            elif child.tag == _METADATA and metadata is None:
                metadata = child
        content = None if metadata is None else next((c for c in metadata if isinstance(c.tag, str)), None)
        records.append(OaiRecord(_header(header), content))
    token = _first_child(element, _TOKEN)
    return records, (text_of(token) or None) if token is not None else None


def _first_child(element: etree._Element, tag: str) -> etree._Element | None:
    """The first child with this (Clark notation) tag: `find` without parsing a path for every record."""
    return next(element.iterchildren(tag), None)


def _header(header: etree._Element | None) -> OaiHeader:
    if header is None:
        return OaiHeader(None, None, [], False)
    identifier = datestamp = None
    sets: list[str] = []
    for child in header:
        tag = child.tag
        if tag == _IDENTIFIER:
            identifier = identifier if identifier is not None else text_of(child)
        elif tag == _DATESTAMP:
            datestamp = datestamp if datestamp is not None else text_of(child)
        elif tag == _SET_SPEC:
            sets.append(text_of(child))
    return OaiHeader(
        identifier=identifier or None, datestamp=datestamp or None, sets=sets, deleted=header.get("status") == "deleted"
    )


@dataclass
class MetadataFields:
    """Record fields read from one metadata element, with the raw type values and links still to resolve."""

    format: str
    fields: dict[str, Any] = field(default_factory=dict)
    types: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


def read_dc(element: etree._Element) -> MetadataFields:
    """oai_dc: Dublin Core elements to record fields (subjects become categories, their last level tags)."""
    values: dict[str, list[str]] = {}
    for child in element:
        tag = child.tag
        if not isinstance(tag, str) or not tag.startswith(_DC_PREFIXES):
            continue
        text = text_of(child)
        if text:
            values.setdefault(tag.rpartition("}")[2], []).append(text)
    found = MetadataFields("oai_dc", types=values.get("type", []), links=values.get("identifier", []))
    titles, subjects = values.get("title", []), values.get("subject", [])
    _set(
        found.fields,
        title=_first(titles),
        subtitle=_first(titles[1:]),
        description="\n".join(values.get("description", [])),
        instructors=values.get("creator"),
        provider=_first(values.get("publisher", [])),
        tags=list(dict.fromkeys(_SUBJECT_LEVELS.split(s)[-1] for s in subjects)),
        categories=subjects,
        published_at=_first(values.get("date", [])),
        language=_first(values.get("language", [])),
    )
    return found


def read_lom(element: etree._Element) -> MetadataFields:
    """IEEE LOM (GB/T 21365): general, lifeCycle, technical, educational, classification to record fields."""
    roles = _contributors(element)
    durations = _texts(element, "l:technical/l:duration/l:duration")
    durations += _texts(element, "l:educational/l:typicalLearningTime/l:duration")
    paths: list[list[str]] = []
    themes: list[str] = []
    for taxon_path in element.xpath("l:classification/l:taxonPath", namespaces=_L):
        entries = [s for s in (_lang_string([t]) for t in taxon_path.xpath("l:taxon/l:entry", namespaces=_L)) if s]
        # a path from the national themes' taxonomy is a theme the repository gave, not a platform category
        if _lang_string(taxon_path.xpath("l:source", namespaces=_L)) == THEMES_SOURCE:
            themes.extend(entries)
        else:
            paths.append(entries)
    found = MetadataFields(
        "lom",
        types=_texts(element, "l:educational/l:learningResourceType/l:value"),
        links=_texts(element, "l:technical/l:location | l:general/l:identifier/l:entry"),
    )
    _set(
        found.fields,
        title=_lang_string(element.xpath("l:general/l:title", namespaces=_L)),
        description=_lang_string(element.xpath("l:general/l:description", namespaces=_L)),
        tags=[k for k in (_lang_string([k]) for k in element.xpath("l:general/l:keyword", namespaces=_L)) if k],
        language=_first(_texts(element, "l:general/l:language")),
        instructors=roles.get("author"),
        provider=_first(roles.get("publisher", [])),
        published_at=_first(_texts(element, "l:lifeCycle/l:contribute/l:date/l:dateTime")),
        duration_seconds=next((s for s in map(iso_duration_seconds, durations) if s is not None), None),
        categories=[p for p in paths if p],
        themes=themes,
    )
    return found


READERS: dict[str, Callable[[etree._Element], MetadataFields]] = {
    f"{{{OAI_DC_NS}}}dc": read_dc,
    f"{{{LOM_NS}}}lom": read_lom,
}


def read_metadata(element: etree._Element) -> MetadataFields | None:
    """Fields of a metadata element by its qualified name; None for a format edufed does not read."""
    reader = READERS.get(str(element.tag))
    return reader(element) if reader else None


def iso_duration_seconds(value: str) -> int | None:
    """Seconds of an ISO 8601 duration such as PT1H20M or P1DT30S; None if it is not one."""
    match = _ISO_DURATION.match(value.strip())
    if not match or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return int(days * 86400 + hours * 3600 + minutes * 60 + seconds)


def _texts(element: etree._Element, path: str) -> list[str]:
    return [t for t in (text_of(e) for e in element.xpath(path, namespaces=_L)) if t]


def _lang_string(containers: list[Any]) -> str:
    """The Chinese <string> of the first LangString container, else its first non-empty <string>."""
    strings = [s for c in containers[:1] for s in c.xpath("l:string", namespaces=_L)]
    for preferred in (True, False):
        for string in strings:
            language = string.get("language", "")
            if (not preferred or language.lower().startswith("zh")) and text_of(string):
                return text_of(string)
    return ""


def _contributors(element: etree._Element) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {}
    for contribute in element.xpath("l:lifeCycle/l:contribute", namespaces=_L):
        role = next(iter(_texts(contribute, "l:role/l:value")), "").lower()
        for entity in _texts(contribute, "l:entity"):
            match = _VCARD_NAME.search(entity)
            name = match.group(1).strip() if match else entity
            roles.setdefault(role, []).append(name)
    return roles


def _first(values: list[str]) -> str | None:
    return values[0] if values else None


def _set(fields: dict[str, Any], **values: Any) -> None:
    """Put each value that says something (not None, empty or zero) into the fields."""
    for name, value in values.items():
        if value:
            fields[name] = value
