"""One small catalogue per source kind on a fixture server, served whole, emptied, with bad records or broken.

A `FaultySite` serves six courses the way its kind publishes them (a paged JSON list, a complete feed, a
versioned catalogue of part files, an OAI-PMH list over a resumption token, a sitemap index, CMS list pages) and
`break_with(fault)` breaks it: a faulty reply (an error status, a stall, a body cut short, a redirect loop) comes
from `target`, a later page of the listing (the feed itself for rss), while `empty_listing` and `bad_records` serve
a well-formed listing of nothing, or one with items that cannot become records. `heal()` serves it whole again.
Every route a site serves is keyed as `target` is, so serving it whole replaces whatever a fault put there.

    site = SITES["json_api"](server)
    site.heal()                  # run 1 harvests six records
    site.break_with("timeout")   # run 2 meets the fault
    site.heal()                  # run 3 finds the catalogue whole again
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from config.settings import HttpSettings
from config.source_models import HtmlSourceConfig, SourceBase, StaticCatalogSourceConfig
from tests.support.cms import sitemap_config
from tests.support.feeds import rss_config
from tests.support.http_server import FixtureServer, Reply
from tests.support.json_sources import json_api_config
from tests.support.oai import document, list_records
from tests.support.oai import source_config as oai_config
from tests.support.settings import local_http

Fault = Literal["http_500", "http_503_retry_after", "timeout", "truncated", "cut_off", "redirect_loop",
                "empty_listing", "bad_records"]  # fmt: skip
HTTP_FAULTS: tuple[Fault, ...] = ("http_500", "http_503_retry_after", "timeout", "truncated", "redirect_loop")
# The body stops halfway and the connection closes, with no Content-Length to tell: only the document shows it.
BODY_FAULTS: tuple[Fault, ...] = ("cut_off",)
FAULTS: tuple[Fault, ...] = (*HTTP_FAULTS, *BODY_FAULTS, "empty_listing", "bad_records")
Listing = Literal["whole", "empty", "bad"]

TIMEOUT_SECONDS = 1.0
RETRY_AFTER_SECONDS = 1
TITLES = ("书法入门", "太极拳基础", "老年人学用智能手机", "家庭理财常识", "合唱发声练习", "中医养生保健")
# Every source withdraws a record missing from one complete listing, whatever share of the source that is: a broken
# listing taken for a complete one would withdraw at once, so no cell can pass by the guard's grace.
SOURCE_OPTIONS: dict[str, Any] = {"withdraw_after_missed_runs": 1, "max_withdraw_share": 1.0, "obey_robots": False}


def fault_http() -> HttpSettings:
    """The HTTP settings of the matrix: no delay, one retry without backoff, a short read timeout."""
    return local_http(retries=1, backoff_seconds=0, timeout_seconds=TIMEOUT_SECONDS)


@dataclass(frozen=True)
class Target:
    """The page a faulty reply comes from: a path and the query parameters its route matches."""

    path: str
    query: Mapping[str, str] = field(default_factory=dict)

    def url(self, server: FixtureServer, path: str | None = None) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query.items())
        return server.url(path or self.path) + (f"?{query}" if query else "")


def broken_replies(fault: Fault, body: bytes, *, content_type: str) -> list[Reply]:
    """What a page answers under a fault of its reply (the redirect loop aside: it needs a second route)."""
    if fault == "http_500":
        return [Reply(status=500, body=b"Internal Server Error", headers={"Content-Type": "text/plain"})]
    if fault == "http_503_retry_after":
        headers = {"Content-Type": "text/plain", "Retry-After": str(RETRY_AFTER_SECONDS)}
        return [Reply(status=503, body=b"Service Unavailable", headers=headers)]
    if fault == "timeout":
        return [Reply(body=body, headers={"Content-Type": content_type}, delay=TIMEOUT_SECONDS * 5)]
    if fault == "truncated":  # the connection closes halfway through the length the header promised
        headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        return [Reply(body=body[: len(body) // 2], headers=headers, send_length=False)]
    if fault == "cut_off":
        return [Reply(body=body[: len(body) // 2], headers={"Content-Type": content_type}, send_length=False)]
    raise ValueError(f"{fault} is not a fault of one reply")


class FaultySite(ABC):
    """A kind's catalogue of six courses on `server`, each a record after a healthy harvest."""

    kind: ClassVar[str]
    target: ClassVar[Target]
    rejection_reasons: ClassVar[tuple[str, ...]]  # what the report says of each item the bad listing rejects

    def __init__(self, server: FixtureServer) -> None:
        self.server = server
        self.bodies: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[bytes, str]] = {}

    @abstractmethod
    def config(self) -> SourceBase:
        """The source config reading this site."""

    @abstractmethod
    def serve(self, listing: Listing) -> None:
        """Route every page of the listing: whole, listing nothing, or with items that cannot become records."""

    def heal(self) -> None:
        self.serve("whole")

    def break_with(self, fault: Fault) -> None:
        """Serve the site with this fault (a faulty reply from `target`, the rest of the listing whole)."""
        if fault == "empty_listing":
            self.serve("empty")
        elif fault == "bad_records":
            self.serve("bad")
        else:
            self.serve("whole")
            self.break_page(self.target, fault)

    def break_page(self, target: Target, fault: Fault) -> None:
        """Make one page this site serves answer with a fault."""
        if fault == "redirect_loop":  # target -> its loop twin -> target -> ...
            twin = target.path + ".loop"
            self._redirect(target.path, target.query, to=target.url(self.server, twin))
            self._redirect(twin, {}, to=target.url(self.server))
            return
        body, content_type = self.bodies[(target.path, tuple(sorted(target.query.items())))]
        self.server.route(target.path, query=target.query,
                          responses=broken_replies(fault, body, content_type=content_type))  # fmt: skip

    def route(self, path: str, body: bytes | str, content_type: str, query: Mapping[str, str] | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.bodies[(path, tuple(sorted((query or {}).items())))] = (data, content_type)
        self.server.route(path, query=query, body=data, content_type=content_type)

    def _redirect(self, path: str, query: Mapping[str, str], *, to: str) -> None:
        self.server.route(path, query=query, status=302, headers={"Location": to})


class JsonApiSite(FaultySite):
    """A JSON course list in two pages of three (`p=1`, `p=2`), the page count in the body."""

    kind = "json_api"
    target = Target("/api/courses", {"p": "2"})
    rejection_reasons = ("title: no title", "no id at 'id'", "not an object but str")

    def config(self) -> SourceBase:
        return json_api_config(self.server, "/api/courses", id="faulty_json_api", page_param="p",
                               page_count_path="data.pages", **SOURCE_OPTIONS)  # fmt: skip

    def serve(self, listing: Listing) -> None:
        items: list[Any] = [{"id": f"c{n}", "name": title} for n, title in enumerate(TITLES, start=1)]
        if listing == "bad":
            items[4]["name"] = ""
            items += [{"name": "没有编号的课程"}, "不是课程"]
        pages = [items[:3], items[3:]] if listing != "empty" else [[], []]
        for number, page in enumerate(pages, start=1):
            body = json.dumps({"data": {"items": page, "pages": 2}}, ensure_ascii=False)
            self.route("/api/courses", body, "application/json", query={"p": str(number)})


class RssSite(FaultySite):
    """A feed that lists the whole catalogue (`complete_listing: true`)."""

    kind = "rss"
    target = Target("/feed.xml")
    rejection_reasons = ("title: no title", "no id, guid or link")

    def config(self) -> SourceBase:
        return rss_config(self.server, path="/feed.xml", id="faulty_rss", complete_listing=True, **SOURCE_OPTIONS)

    def serve(self, listing: Listing) -> None:
        items = [(f"c{n}", title) for n, title in enumerate(TITLES, start=1)] if listing != "empty" else []
        entries = [
            f"<item><guid>{guid}</guid><title>{'' if listing == 'bad' and guid == 'c5' else title}</title>"
            f"<link>https://example.edu.cn/course/{guid}</link></item>"
            for guid, title in items
        ]
        if listing == "bad":
            entries.append("<item><title>没有编号的课程</title></item>")
        body = ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>社区学习课程</title>"
                f"{''.join(entries)}</channel></rss>")  # fmt: skip
        self.route("/feed.xml", body, "application/rss+xml; charset=utf-8")


class StaticCatalogSite(FaultySite):
    """A version index naming two part files of three records; every serve publishes a new version."""

    kind = "static_catalog"
    target = Target("/catalogue/part_b.json")
    rejection_reasons = ("title: no title", "no id at 'id'", "not an object but int")

    def __init__(self, server: FixtureServer) -> None:
        super().__init__(server)
        self.version = 0

    def config(self) -> SourceBase:
        return StaticCatalogSourceConfig.model_validate({
            "id": "faulty_catalogue", "kind": "static_catalog", "name": "老年教育资源目录", "platform": "test_platform",
            "platform_name": "测试平台", "version_url": self.server.url("/catalogue/data_version.json"),
            "url_template": "https://example.edu.cn/r/{id}", "fields": {"title": "title"}, **SOURCE_OPTIONS,
        })  # fmt: skip

    def serve(self, listing: Listing) -> None:
        self.version += 1
        records: list[Any] = [{"id": f"r{n}", "title": t, "status": "ONLINE"} for n, t in enumerate(TITLES, start=1)]
        if listing == "bad":
            records[4]["title"] = ""
            records += [{"title": "没有编号的资源", "status": "ONLINE"}, 7]
        parts = ["part_a.json", "part_b.json"] if listing != "empty" else []
        index = {"module": "elder_edu", "module_version": self.version, "urls": parts}
        self.route("/catalogue/data_version.json", json.dumps(index), "application/json")
        for name, chunk in (("part_a.json", records[:3]), ("part_b.json", records[3:])):
            self.route(f"/catalogue/{name}", json.dumps(chunk, ensure_ascii=False), "application/json")


OAI_LIST = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
NO_RECORDS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
    "<responseDate>2024-03-12T02:00:00Z</responseDate>"
    '<request verb="ListRecords">http://learn.example.edu.cn/oai</request>'
    '<error code="noRecordsMatch">no records match</error></OAI-PMH>\n'
)


class OaiSite(FaultySite):
    """An OAI-PMH repository listing three records a page, the second page behind a resumption token.

    After the first (full) harvest a run asks for the changes since `from`; this repository answers with
    everything again, which the run finds unchanged.
    """

    kind = "oai_pmh"
    target = Target("/oai", {"verb": "ListRecords", "resumptionToken": "page-2"})
    rejection_reasons = ("title: no title", "has no header identifier")

    def config(self) -> SourceBase:
        return oai_config(self.server, id="faulty_oai", **SOURCE_OPTIONS)

    def serve(self, listing: Listing) -> None:
        self.route("/oai", document("identify.xml"), "text/xml; charset=utf-8", query={"verb": "Identify"})
        records: list[tuple[str, str, str | None]] = [
            (f"r{n}", "2024-03-01T00:00:00Z", "" if listing == "bad" and n == 5 else title)
            for n, title in enumerate(TITLES, start=1)
        ]
        first = list_records(records[:3]).replace(
            b"</ListRecords>", b"<resumptionToken>page-2</resumptionToken></ListRecords>"
        )
        second = list_records(records[3:])
        if listing == "bad":
            nameless = b"<record><header><identifier></identifier><datestamp>2024-03-01</datestamp></header></record>"
            second = second.replace(b"</ListRecords>", nameless + b"</ListRecords>")
        if listing == "empty":
            first = NO_RECORDS.encode("utf-8")
        self.route("/oai", first, "text/xml; charset=utf-8", query=OAI_LIST)
        self.route("/oai", second, "text/xml; charset=utf-8", query=self.target.query)


SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
XML = "application/xml"
ITEM_PATH = "/Pages/News/2024/01/02/item-{n}.htm"


def _course_page(title: str | None) -> str:
    course: dict[str, Any] = {"@context": "https://schema.org", "@type": "Course", "provider": "某市终身学习网"}
    if title:
        course["name"] = title
    block = json.dumps(course, ensure_ascii=False)
    return f'<html><head><script type="application/ld+json">{block}</script></head><body></body></html>'


class SitemapSite(FaultySite):
    """A sitemap index naming two sitemaps of three course pages, each page a schema.org Course in JSON-LD.

    After the first crawl only pages with a newer lastmod are fetched; the others name their records unchanged.
    """

    kind = "sitemap"
    target = Target("/sitemap-2.xml")
    rejection_reasons = ("title: no title", "title: no title")
    detail_targets = tuple(Target(f"/course/{n}.html") for n in range(1, 6))

    def config(self) -> SourceBase:
        return sitemap_config(self.server, id="faulty_sitemap", url=self.server.url("/sitemap_index.xml"),
                              **SOURCE_OPTIONS)  # fmt: skip

    def serve(self, listing: Listing, *, lastmod: str = "2024-03-01") -> None:
        maps = "".join(f"<sitemap><loc>{self.server.url(f'/sitemap-{n}.xml')}</loc></sitemap>" for n in (1, 2))
        self.route("/sitemap_index.xml", f'<sitemapindex xmlns="{SITEMAP_NS}">{maps}</sitemapindex>', XML)
        pages: dict[int, tuple[str | None, str]] = {}
        if listing != "empty":
            pages = {n: (TITLES[n - 1], lastmod) for n in range(1, 7)}
        if listing == "bad":  # page 5 lost its name, a new page 7 never had one
            pages[5] = pages[7] = (None, "2024-04-01")
        for number, section in ((1, (1, 2, 3)), (2, (4, 5, 6, 7))):
            urls = "".join(
                f"<url><loc>{self.server.url(f'/course/{n}.html')}</loc><lastmod>{pages[n][1]}</lastmod></url>"
                for n in section
                if n in pages
            )
            self.route(f"/sitemap-{number}.xml", f'<urlset xmlns="{SITEMAP_NS}">{urls}</urlset>', XML)
        for n, (title, _) in pages.items():
            self.route(f"/course/{n}.html", _course_page(title), "text/html; charset=utf-8")

    def break_details(self, faults: tuple[Fault, ...]) -> None:
        """Pages 1-5 changed (a newer lastmod), so the crawl fetches them: each answers with one fault in turn."""
        self.serve("whole", lastmod="2024-04-01")
        for target, fault in zip(self.detail_targets, faults, strict=True):
            self.break_page(target, fault)


class HtmlSite(FaultySite):
    """A CMS section: two list pages of three links (the first points to the second), one detail page each."""

    kind = "html"
    target = Target("/list_2.htm")
    rejection_reasons = ("no title found", "no title found")
    detail_targets = tuple(Target(ITEM_PATH.format(n=n)) for n in range(1, 6))

    def config(self) -> SourceBase:
        return HtmlSourceConfig.model_validate({
            "id": "faulty_section", "kind": "html", "name": "某社区教育网 课程", "platform": "shequ_demo",
            "platform_name": "某社区教育网", "start_urls": [self.server.url("/list_1.htm")],
            "item_links": "ul.list li a", "next_page": "div.pages a.next", "fields": {"title": "h1"},
            **SOURCE_OPTIONS,
        })  # fmt: skip

    def serve(self, listing: Listing, *, revised: bool = False) -> None:
        """The section; list entries show each item's title as a CMS list does (`revised`: each marked updated)."""
        lists = {1: [1, 2, 3], 2: [4, 5, 6]} if listing != "empty" else {1: []}
        if listing == "bad":  # item 5 lost its title, a new item 7 never had one
            lists[2].append(7)
        entries = {n: TITLES[n - 1] for n in range(1, 7)}
        if listing == "bad":
            entries[5] = entries[7] = "（无标题）"
        if revised:
            entries = {n: f"{entry}（更新）" for n, entry in entries.items()}
        for number, items in lists.items():
            links = "".join(f'<li><a href="{ITEM_PATH.format(n=n)}">{entries[n]}</a></li>' for n in items)
            following = f'<a class="next" href="/list_{number + 1}.htm">下一页</a>' if number + 1 in lists else ""
            page = f'<html><body><ul class="list">{links}</ul><div class="pages">{following}</div></body></html>'
            self.route(f"/list_{number}.htm", page, "text/html; charset=utf-8")
        for n in (n for items in lists.values() for n in items):
            title = "" if listing == "bad" and n in (5, 7) else f"<h1>{TITLES[n - 1]}</h1>"
            self.route(ITEM_PATH.format(n=n), f"<html><body>{title}<p>课程介绍</p></body></html>", "text/html")

    def break_details(self, faults: tuple[Fault, ...]) -> None:
        """Items 1-5 changed (their list entries say so), so the crawl asks their pages: each answers with one
        fault in turn; the list pages stay whole. (A page whose entry is unchanged is not asked: it stands.)"""
        self.serve("whole", revised=True)
        for target, fault in zip(self.detail_targets, faults, strict=True):
            self.break_page(target, fault)


SITES: dict[str, type[FaultySite]] = {
    site.kind: site for site in (JsonApiSite, RssSite, StaticCatalogSite, OaiSite, SitemapSite, HtmlSite)
}
