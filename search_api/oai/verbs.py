"""The six OAI-PMH verbs over an index's change log (indexer.backends.changes)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from lxml import etree

from config.settings import OaiSettings
from indexer.backends.base import IndexBackend
from indexer.backends.changes import Change, ChangeQuery, now_stamp
from search_api.oai import document
from search_api.oai.arguments import check_request, date_bounds, datestamp
from search_api.oai.document import add
from search_api.oai.errors import OaiError
from search_api.oai.formats import FORMATS, MetadataFormat
from search_api.oai.sets import SetChoice, all_sets, choose, set_name
from search_api.oai.tokens import ListPosition, decode, encode

_ID_SAFE = "-_.!~*'();/?:@&=+$,"
"""Characters an oai-identifier's local part may hold as they are; others are percent-encoded."""


@dataclass
class OaiProvider:
    """Answers OAI-PMH requests for one index; `base_url` is the /oai URL harvesters use."""

    backend: IndexBackend
    settings: OaiSettings
    platform_name: Callable[[str], str]

    def respond(self, pairs: Sequence[tuple[str, str]], *, base_url: str) -> bytes:
        """The response document of one request's (name, value) pairs, errors included."""
        now = now_stamp()
        arguments = {k: v for k, v in pairs}
        try:
            request = check_request(pairs)
            root = document.envelope(response_date=now, base_url=base_url, arguments={
                "verb": request.verb, **request.arguments})  # fmt: skip
            handler = getattr(self, f"_{request.verb}")
            handler(add(root, request.verb), request.arguments, now)
        except OaiError as error:
            return document.error_document([error], response_date=now, base_url=base_url, arguments=arguments)
        return document.serialize(root)

    # -- identifiers --------------------------------------------------------------------------------

    def identifier(self, uid: str) -> str:
        return f"oai:{self.settings.repository_identifier}:{quote(uid, safe=_ID_SAFE)}"

    def _uid(self, identifier: str) -> str:
        prefix = f"oai:{self.settings.repository_identifier}:"
        if not identifier.startswith(prefix) or len(identifier) == len(prefix):
            raise OaiError("idDoesNotExist", f"{identifier!r} is not an identifier of this repository")
        return unquote(identifier[len(prefix) :])

    def _entry(self, identifier: str, *, records: bool) -> Change:
        entries = self.backend.changes(ChangeQuery(until=now_stamp(), uid=self._uid(identifier), limit=1,
                                                   records=records))  # fmt: skip
        if not entries:
            raise OaiError("idDoesNotExist", f"no record has the identifier {identifier!r}")
        return entries[0]

    # -- verbs --------------------------------------------------------------------------------------

    def _Identify(self, element: etree._Element, arguments: dict[str, str], now: int) -> None:  # noqa: N802
        earliest = self.backend.change_sets().earliest
        add(element, "repositoryName", self.settings.repository_name)
        add(element, "baseURL", element.getparent().findtext(document.IN_OAI + "request"))  # type: ignore[union-attr]
        add(element, "protocolVersion", "2.0")
        add(element, "adminEmail", self.settings.admin_email)
        add(element, "earliestDatestamp", datestamp(earliest if earliest is not None else now))
        add(element, "deletedRecord", "persistent")
        add(element, "granularity", "YYYY-MM-DDThh:mm:ssZ")
        description = add(element, "description")
        namespace = "http://www.openarchives.org/OAI/2.0/oai-identifier"
        ident = etree.SubElement(description, f"{{{namespace}}}oai-identifier", nsmap={None: namespace})
        ident.set(f"{{{document.XSI_NS}}}schemaLocation", f"{namespace} {namespace}.xsd")
        sample = self.identifier("le_ouchn:1")
        for name, text in (("scheme", "oai"), ("repositoryIdentifier", self.settings.repository_identifier),
                           ("delimiter", ":"), ("sampleIdentifier", sample)):  # fmt: skip
            etree.SubElement(ident, f"{{{namespace}}}{name}").text = text

    def _ListMetadataFormats(self, element: etree._Element, arguments: dict[str, str], now: int) -> None:  # noqa: N802
        if "identifier" in arguments:
            self._entry(arguments["identifier"], records=False)
        for fmt in FORMATS.values():
            entry = add(element, "metadataFormat")
            add(entry, "metadataPrefix", fmt.prefix)
            add(entry, "schema", fmt.schema)
            add(entry, "metadataNamespace", fmt.namespace)

    def _ListSets(self, element: etree._Element, arguments: dict[str, str], now: int) -> None:  # noqa: N802
        if "resumptionToken" in arguments:
            raise OaiError("badResumptionToken", "ListSets is answered in one response and issues no tokens")
        values = self.backend.change_sets().values
        for spec, name in all_sets(values, name_of=self._set_name):
            entry = add(element, "set")
            add(entry, "setSpec", spec)
            add(entry, "setName", name)

    def _set_name(self, kind: str, value: str) -> str:
        return self.platform_name(value) if kind == "platform" else set_name(kind, value)

    def _GetRecord(self, element: etree._Element, arguments: dict[str, str], now: int) -> None:  # noqa: N802
        fmt = _format(arguments["metadataPrefix"])
        change = self._entry(arguments["identifier"], records=True)
        document.record(element, change, identifier=self.identifier(change.uid), fmt=fmt)

    def _ListIdentifiers(self, element: etree._Element, arguments: dict[str, str], now: int) -> None:  # noqa: N802
        self._list(element, arguments, now, verb="ListIdentifiers")

    def _ListRecords(self, element: etree._Element, arguments: dict[str, str], now: int) -> None:  # noqa: N802
        self._list(element, arguments, now, verb="ListRecords")

    # -- lists --------------------------------------------------------------------------------------

    def _list(self, element: etree._Element, arguments: dict[str, str], now: int, *, verb: str) -> None:
        if "resumptionToken" in arguments:
            position = decode(arguments["resumptionToken"], verb=verb, now_seconds=time.time())
            fmt, first = _format(position.prefix), False
        else:
            fmt, first = _format(arguments["metadataPrefix"]), True
            since, until = date_bounds(arguments, now=now)
            position = ListPosition(
                verb=verb, prefix=fmt.prefix, set_spec=arguments.get("set"), since=since, until=until,
                after_stamp=-1, after_uid="", cursor=0, total=0, expires=0,
            )  # fmt: skip
        choice = self._choice(position.set_spec)
        query = ChangeQuery(
            until=position.until, since=position.since, set_kind=choice.kind if choice else None,
            set_values=choice.values if choice else None, limit=self.settings.page_size + 1,
            after=None if first else (position.after_stamp, position.after_uid), records=verb == "ListRecords",
        )  # fmt: skip
        entries = self.backend.changes(query)
        if not entries:
            raise OaiError("noRecordsMatch", "no records match the request's dates and set")
        more, entries = len(entries) > self.settings.page_size, entries[: self.settings.page_size]
        total = self.backend.count_changes(query) if first else position.total
        for change in entries:
            identifier = self.identifier(change.uid)
            if verb == "ListRecords":
                document.record(element, change, identifier=identifier, fmt=fmt)
            else:
                document.header(element, change, identifier=identifier)
        if more or not first:
            self._token(element, position, entries=entries, total=max(total, position.cursor + len(entries)),
                        more=more)  # fmt: skip

    def _token(self, element: etree._Element, position: ListPosition, *, entries: list[Change], total: int,
               more: bool) -> None:  # fmt: skip
        """<resumptionToken>: the next position, or empty on the last page of a list that had tokens."""
        attributes = {"completeListSize": str(total), "cursor": str(position.cursor)}
        if not more:
            add(element, "resumptionToken", **attributes)
            return
        expires = int(time.time()) + self.settings.token_lifetime_seconds
        last = entries[-1]
        following = ListPosition(
            verb=position.verb, prefix=position.prefix, set_spec=position.set_spec, since=position.since,
            until=position.until, after_stamp=last.stamp, after_uid=last.uid,
            cursor=position.cursor + len(entries), total=total, expires=expires,
        )  # fmt: skip
        attributes["expirationDate"] = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        add(element, "resumptionToken", encode(following), **attributes)

    def _choice(self, spec: str | None) -> SetChoice | None:
        if spec is None:
            return None
        found = choose(spec, self.backend.change_sets().values)
        if found is None:
            raise OaiError("noRecordsMatch", f"this repository has no set {spec!r}")
        return found


def _format(prefix: str) -> MetadataFormat:
    fmt = FORMATS.get(prefix)
    if fmt is None:
        raise OaiError("cannotDisseminateFormat", f"{prefix!r} is not offered; ListMetadataFormats lists oai_dc, lom")
    return fmt
