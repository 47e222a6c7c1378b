"""The `rss` kind: RSS 0.9x/1.0/2.0 and Atom feeds via feedparser, with Chinese encodings handled first.

Incremental runs: the feed is asked with the ETag / Last-Modified of the last complete run; a 304 means scope
"unchanged" and nothing is parsed. A feed shows a window of recent items, so a read feed is a partial listing
(scope "incremental": an item that left the window is not gone) unless its config sets `complete_listing` or the
feed itself declares it is complete (RFC 5005 `<fh:complete/>`). A feed of neither kind without paging links
gets a note in its run report (and so in the dry-run) saying how many items it shows, and when it seems to list
the whole catalogue, that `complete_listing: true` lets items leaving it be withdrawn.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import feedparser

from config.source_models import RssSourceConfig
from crawlers.errors import ParseError, SourceConfigError
from crawlers.fetch import FetchResponse
from crawlers.kinds.base import ItemProblem, register
from crawlers.kinds.cursor import IncrementalSource
from indexer.record import RawRecord

logger = logging.getLogger(__name__)

XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?\?>", re.IGNORECASE)
DECLARED_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""", re.IGNORECASE)
HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
# GB2312 and GBK are subsets of GB18030, so decoding with GB18030 never loses a character they hold.
WIDER_CODEC = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "ascii": "utf-8"}
# A bare HTTP default charset says nothing about the feed.
UNINFORMATIVE_CHARSETS = {"iso8859-1", "latin-1", "latin1", "iso-8859-1"}
FALLBACK_ENCODINGS = ("utf-8", "gb18030")
# What the cursor keeps of the last complete read: HTTP validators and the body's digest.
VALIDATORS = ("etag", "last_modified", "sha256")
HISTORY_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005 Feed Paging and Archiving
PAGING_RELS = {"next", "previous", "prev", "first", "last", "prev-archive", "next-archive"}
# Item counts feed software shows by default: a feed of exactly this many items is most likely a window.
WINDOW_SIZES = {10, 15, 20, 25, 30, 40, 50, 60, 100, 200}


@dataclass(frozen=True)
class DecodedFeed:
    """A feed's text as UTF-8 bytes ready for feedparser, and how it was decoded."""

    data: bytes
    encoding: str
    warning: str | None = None


def _codec(name: str) -> str | None:
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    return WIDER_CODEC.get(canonical, canonical)


def _declared(content: bytes) -> str | None:
    match = XML_DECLARATION.match(content)
    if match is None:
        return None
    found = DECLARED_ENCODING.search(match.group(0))
    return found.group(1).decode("ascii") if found else None


def _candidates(content: bytes, *, content_type: str, forced: str | None) -> list[tuple[str, str]]:
    """(codec, where it came from) pairs to try in order."""
    if forced:
        return [(forced, "the source's encoding setting")]
    if content.startswith(codecs.BOM_UTF8):
        return [("utf-8-sig", "a UTF-8 byte order mark")]
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return [("utf-16", "a UTF-16 byte order mark")]
    found: list[tuple[str, str]] = []
    declared = _declared(content)
    if declared:
        found.append((declared, "the XML declaration"))
    charset = HTTP_CHARSET.search(content_type)
    if charset and charset.group(1).lower() not in UNINFORMATIVE_CHARSETS:
        found.append((charset.group(1), "the HTTP Content-Type"))
    found += [(name, "a guess") for name in FALLBACK_ENCODINGS]
    return found


def decode_feed(content: bytes, *, content_type: str = "", forced: str | None = None) -> DecodedFeed:
    """Decode feed bytes and re-declare them as UTF-8.

    Tried in order: the forced encoding, a BOM, the XML declaration, the HTTP charset, then UTF-8 and GB18030.
    An unknown forced encoding raises LookupError.
    """
    first_choice: str | None = None
    for name, origin in _candidates(content, content_type=content_type, forced=forced):
        codec = _codec(name)
        if codec is None:
            if forced:
                raise LookupError(f"unknown encoding {forced!r}")
            continue
        first_choice = first_choice or name
        try:
            text = content.decode(codec)
        except UnicodeDecodeError:
            continue
        warning = None
        if origin == "a guess" and first_choice != name:
            warning = f"feed bytes are not valid {first_choice}; decoded as {codec}"
        return DecodedFeed(_as_utf8(text), codec, warning)
    codec = _codec(first_choice or "utf-8") or "utf-8"
    text = content.decode(codec, errors="replace")
    return DecodedFeed(_as_utf8(text), codec, f"feed bytes are not valid in any known encoding; {codec} with ?")


def _as_utf8(text: str) -> bytes:
    data = text.lstrip("\ufeff").encode("utf-8")
    match = XML_DECLARATION.match(data)
    if match is None:
        return data
    declaration = DECLARED_ENCODING.sub(b'encoding="utf-8"', match.group(0))
    return declaration + data[match.end() :]


def json_safe(value: Any) -> Any:
    """A copy of feedparser output fit for JSON: struct_time dates dropped (the text forms are kept)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items() if not isinstance(v, time.struct_time)}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


@register("rss")
class RssSource(IncrementalSource):
    """Fetches one feed and yields a raw record per entry; a malformed feed is parsed as far as it goes."""

    config: RssSourceConfig

    def iter_records(self) -> Iterator[RawRecord]:
        stored = self.stored_cursor()
        response = self.fetcher.get(
            str(self.config.url), etag=stored.get("etag"), last_modified=stored.get("last_modified")
        )
        if response.not_modified:
            if not (stored.get("etag") or stored.get("last_modified")):
                raise ParseError(response.url, reason="answered 304 Not Modified to an unconditional request")
            self._unchanged(stored, why="it answered 304 Not Modified")
            return
        if stored.get("sha256") and stored["sha256"] == response.sha256:
            self._unchanged(stored, why="the same bytes as last time")
            return
        parsed = self._parse(self._decode(response), url=response.url)
        for index, entry in enumerate(parsed.entries):
            raw = self._record(entry, where=f"entry {index} of {response.url}", feed_url=response.url)
            if raw is not None:
                yield raw
        if parsed.get("bozo"):
            # Parsed only as far as it went, it may have lost entries: an incomplete listing, so no cursor is
            # kept (the next run reads it again rather than trusting a 304 for it) and nothing is withdrawn.
            self.scope = "incremental"
            self.incomplete_reason = "the feed is not well-formed: parsed as far as it went, it may have lost items"
            return
        self.finish(self._listed(response, parsed))

    def _unchanged(self, stored: dict[str, Any], *, why: str) -> None:
        self.scope = "unchanged"
        self.notes.append(f"unchanged feed: {why}; nothing parsed")
        # The same feed as the last complete read: when that was a complete listing, so is this one.
        self.repeats_listing = bool(stored.get("complete"))
        self.finish({k: stored.get(k) for k in (*VALIDATORS, "complete")})

    def _decode(self, response: FetchResponse) -> bytes:
        try:
            decoded = decode_feed(response.content, content_type=response.content_type, forced=self.config.encoding)
        except LookupError as exc:
            raise SourceConfigError(self.config.id, reason=str(exc)) from exc
        if decoded.warning:
            self.warnings.append(f"{response.url}: {decoded.warning}")
        return decoded.data

    def _listed(self, response: FetchResponse, parsed: Any) -> dict[str, Any]:
        """The scope of a well-formed feed and the cursor to keep: validators, the body's digest, completeness.

        The digest serves servers that send no validators: the same bytes under the same config give the same
        records, so they need no parsing.
        """
        declared = _declares_complete(parsed)
        complete = self.config.complete_listing or declared
        self.scope = "full" if complete else "incremental"
        self.window_listing = not complete
        if declared and not self.config.complete_listing:
            self.notes.append("the feed declares itself complete (RFC 5005 fh:complete): a complete listing")
        elif not complete:
            self.notes.append(self._window_note(parsed))
        return {"etag": response.etag, "last_modified": response.last_modified, "sha256": response.sha256,
                "complete": complete}  # fmt: skip

    @staticmethod
    def _window_note(parsed: Any) -> str:
        """What a feed not known to be complete shows, and whether it seems to list the whole catalogue."""
        count = len(parsed.entries)
        rels = {str(link.get("rel")) for link in parsed.feed.get("links", []) if isinstance(link, dict)}
        if rels & PAGING_RELS:
            return f"the feed shows {count} items and pages on: items missing from it are not withdrawn"
        if count and count not in WINDOW_SIZES:
            return (
                f"this feed seems to list its whole catalogue: {count} items, no paging. If it does, set "
                "complete_listing: true so items that leave it are withdrawn; until then none are"
            )
        return f"the feed shows its latest {count} items only: items missing from it are not withdrawn"

    def _parse(self, data: bytes, *, url: str) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # A file object, never bytes: feedparser would try bytes as a local file name first.
            parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)
        for warning in caught:
            logger.debug("feedparser warned on %s: %s", url, warning.message)
        problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
        if not parsed.get("version") and not parsed.entries:
            reason = f"not an RSS or Atom feed ({problem})" if problem else "not an RSS or Atom feed"
            raise ParseError(url, reason=reason)
        if problem is not None:
            self.warnings.append(f"{url}: feed is not well-formed, parsed as far as possible: {problem}")
        return parsed

    def _record(self, entry: Any, *, where: str, feed_url: str) -> RawRecord | None:
        source_id = _get(entry, "id") or _get(entry, "link")
        if not source_id:
            self.problems.append(ItemProblem(f"{where}: no id, guid or link", None, json_safe(entry)))
            return None
        return RawRecord(
            source_id=str(source_id), fields=entry_fields(entry), payload=json_safe(entry), api_url=feed_url
        )


def _declares_complete(parsed: Any) -> bool:
    """Whether the feed carries RFC 5005's `<fh:complete/>`: it lists every current entry."""
    prefixes = [prefix for prefix, uri in parsed.get("namespaces", {}).items() if uri == HISTORY_NS and prefix]
    return any(f"{prefix}_complete" in parsed.feed for prefix in prefixes)


def _get(entry: Any, key: str) -> Any:
    """An entry value by its own key: plain dict access skips feedparser's deprecated alias lookups."""
    return dict.get(entry, key) if isinstance(entry, dict) else None


def entry_fields(entry: Any) -> dict[str, Any]:
    """Record field -> the entry's raw value, for the fields a feed entry can carry."""
    fields: dict[str, Any] = {}
    simple = {"title": "title", "url": "link", "published_at": "published", "updated_at": "updated"}
    for name, key in simple.items():
        if _get(entry, key):
            fields[name] = _get(entry, key)
    content = _get(entry, "content") or []
    description = _get(content[0], "value") if content else _get(entry, "summary")
    if description:
        fields["description"] = description
    authors = [_get(a, "name") for a in _get(entry, "authors") or [] if _get(a, "name")]
    if not authors and _get(entry, "author"):
        authors = [_get(entry, "author")]
    if authors:
        fields["instructors"] = authors
    categories = [_get(t, "label") or _get(t, "term") for t in _get(entry, "tags") or []]
    if any(categories):
        fields["categories"] = [c for c in categories if c]
    cover = _cover_image(entry)
    if cover:
        fields["cover_image_url"] = cover
    return fields


def _cover_image(entry: Any) -> str | None:
    for thumbnail in _get(entry, "media_thumbnail") or []:
        if _get(thumbnail, "url"):
            return str(_get(thumbnail, "url"))
    for enclosure in _get(entry, "enclosures") or []:
        if str(_get(enclosure, "type") or "").startswith("image/") and _get(enclosure, "href"):
            return str(_get(enclosure, "href"))
    return None
