"""Sitemap documents: a sitemap index or a urlset (plain or gzip) read strictly as (loc, lastmod)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Literal

from lxml import etree

from crawlers.errors import ParseError, ResponseTooLargeError

GZIP_MAGIC = b"\x1f\x8b"
_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "remove_comments": True, "huge_tree": False}


@dataclass(frozen=True)
class SitemapEntry:
    """One <url> or <sitemap> element: its location and, when given, its lastmod text."""

    loc: str
    lastmod: str | None


@dataclass(frozen=True)
class SitemapListing:
    """A parsed sitemap: `sitemapindex` entries are sitemaps, `urlset` entries are pages."""

    kind: Literal["sitemapindex", "urlset"]
    entries: list[SitemapEntry]


def gunzip_capped(data: bytes, *, url: str, limit: int) -> bytes:
    """Decompress a gzip body, refusing more than `limit` bytes of output; a broken stream is a ParseError."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ParseError(url, reason=f"broken gzip data: {exc}") from exc
    if len(out) > limit:
        raise ResponseTooLargeError(url, limit=limit)
    if not inflater.eof:
        raise ParseError(url, reason="gzip data ends early (truncated download?)")
    return out


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def read_sitemap(body: bytes, *, url: str, max_bytes: int) -> SitemapListing:
    """Parse a sitemap document; anything but a well-formed urlset or sitemapindex raises ParseError."""
    if body.startswith(GZIP_MAGIC):
        body = gunzip_capped(body, url=url, limit=max_bytes)
    parser = etree.XMLParser(**_PARSER_OPTIONS)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(url, reason=f"malformed sitemap XML: {exc}") from exc
    kind = _local(root.tag)
    if kind not in ("sitemapindex", "urlset"):
        raise ParseError(url, reason=f"not a sitemap: the root element is <{kind or root.tag}>")
    child = "sitemap" if kind == "sitemapindex" else "url"
    entries: list[SitemapEntry] = []
    for element in root:
        if _local(element.tag) != child:
            continue
        values = {_local(part.tag): (part.text or "").strip() for part in element}
        if values.get("loc"):
            entries.append(SitemapEntry(values["loc"], values.get("lastmod") or None))
    return SitemapListing(kind, entries)  # type: ignore[arg-type]
