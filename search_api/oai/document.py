"""The OAI-PMH response document: envelope, request echo, headers and records, serialized with lxml."""

from __future__ import annotations

from lxml import etree

from indexer.backends.changes import Change
from search_api.oai.arguments import datestamp
from search_api.oai.errors import OaiError
from search_api.oai.formats import XSI_NS, MetadataFormat, clean
from search_api.oai.sets import header_specs

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
IN_OAI = f"{{{OAI_NS}}}"


def envelope(*, response_date: int, base_url: str, arguments: dict[str, str] | None) -> etree._Element:
    """<OAI-PMH> with responseDate and request (its attributes only when `arguments` is given)."""
    root = etree.Element(IN_OAI + "OAI-PMH", nsmap={None: OAI_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", OAI_SCHEMA)
    add(root, "responseDate", datestamp(response_date))
    request = add(root, "request", base_url)
    for key, value in (arguments or {}).items():
        request.set(key, clean(value))
    return root


def add(parent: etree._Element, name: str, text: object = None, **attributes: str) -> etree._Element:
    """A child in the OAI namespace."""
    element = etree.SubElement(parent, IN_OAI + name, attributes)
    if text is not None:
        element.text = clean(text)
    return element


def error_document(errors: list[OaiError], *, response_date: int, base_url: str, arguments: dict[str, str]) -> bytes:
    echo = arguments if all(e.echoes_arguments for e in errors) else None
    root = envelope(response_date=response_date, base_url=base_url, arguments=echo)
    for error in errors:
        add(root, "error", error.message, code=error.code)
    return serialize(root)


def header(parent: etree._Element, change: Change, *, identifier: str) -> None:
    """<header> (status="deleted" for a withdrawn record): identifier, datestamp, setSpec*."""
    element = add(parent, "header", **({"status": "deleted"} if change.deleted else {}))
    add(element, "identifier", identifier)
    add(element, "datestamp", datestamp(change.stamp))
    for spec in header_specs(change.sets):
        add(element, "setSpec", spec)


def record(parent: etree._Element, change: Change, *, identifier: str, fmt: MetadataFormat) -> None:
    """<record>: its header, and metadata unless the record is deleted."""
    element = add(parent, "record")
    header(element, change, identifier=identifier)
    if not change.deleted and change.record is not None:
        add(element, "metadata").append(fmt.build(change.record))


def serialize(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
