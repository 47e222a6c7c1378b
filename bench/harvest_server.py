"""A local catalogue server for the harvest benchmark: the generated corpus in the shape of one source kind.

Run it as its own process, so serving costs none of the harvester's CPU (bench/bench_harvest.py does this):

    .venv/bin/python -m bench.harvest_server json_api --count 100000
    .venv/bin/python -m bench.harvest_server oai_pmh --count 100000 --page-size 200
    .venv/bin/python -m bench.harvest_server le_ouchn --count 10000      # + a detail document per course
    .venv/bin/python -m bench.harvest_server rss --count 10000           # one feed of every course
    .venv/bin/python -m bench.harvest_server static_catalog --count 10000 --page-size 1000

Every page is rendered from `bench/corpus.py` before the server starts listening, so a request only sends
bytes. When it is ready the server writes one JSON line to stdout (its base URL, pages, records, bytes) and
then serves on 127.0.0.1 until it is terminated.

* `json_api` answers `GET /api/Course/Paging?PageNum=N&PageSize=S` in le.ouchn.cn's shape (PLATFORMS.md 1.1):
  `{"Data": {"PageListInfos": [{Id, Name, Teacher, SourceName, Subtitle, StudentCount, Tag}], "PageCount": n}}`.
  `Subtitle` carries the course description, the short text le.ouchn shows there.
* `oai_pmh` answers `GET /oai?verb=Identify` and `verb=ListRecords&metadataPrefix=oai_dc`, then
  `verb=ListRecords&resumptionToken=page-N`, in the shape of tests/data/oai_pmh; with `from`, one page of the
  records whose datestamp is not before it (noRecordsMatch when none is), enough for a re-harvest benchmark.
* `le_ouchn` is `json_api` plus `GET /api/Course/{Id}/MicroCourse/Details` per course (its lessons).
* `rss` answers `GET /feed.xml`: one RSS 2.0 feed of every course.
* `static_catalog` answers `GET /version/data_version.json` (smartedu's version index) and the part files it
  lists, `--page-size` records each.

Every 200 answer carries an ETag (a digest of its body) and a request whose If-None-Match matches gets a 304.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

from bench.corpus import generate
from indexer.record import Record

PAGING_PATH = "/api/Course/Paging"
OAI_PATH = "/oai"
FEED_PATH = "/feed.xml"
VERSION_PATH = "/version/data_version.json"
KINDS = ("json_api", "oai_pmh", "le_ouchn", "rss", "static_catalog")


def detail_path(course_id: str) -> str:
    return f"/api/Course/{course_id}/MicroCourse/Details"


OAI_TYPES = {"video": "MovingImage", "document": "Text", "ebook": "Text"}
"""dc:type per media type of the corpus; the others become 课程 (bench_harvest maps all three)."""
ROBOTS = b"User-agent: *\nAllow: /\n"


def le_ouchn_item(record: Record) -> dict[str, Any]:
    """One course as le.ouchn.cn's Course/Paging lists it."""
    return {
        "Id": record.source_id,
        "Name": record.title,
        "Teacher": record.instructors[0].name if record.instructors else "",
        "SourceName": record.provider.name if record.provider else "",
        "Subtitle": record.description,
        "StudentCount": record.learner_count,
        "Tag": ",".join(record.tags),
    }


def chunks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    """The records in lists of `size` (the last may be shorter; at least one list, maybe empty)."""
    chunk: list[Record] = []
    sent = False
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk, sent = [], True
    if chunk or not sent:
        yield chunk


def json_pages(records: Iterable[Record], *, count: int, page_size: int) -> list[bytes]:
    """The Course/Paging answers, page 1 first."""
    page_count = max(1, math.ceil(count / page_size))
    return [_json_page([le_ouchn_item(r) for r in chunk], page_count) for chunk in chunks(records, page_size)]


def _json_page(items: list[dict[str, Any]], page_count: int) -> bytes:
    body = {"Code": 200, "Data": {"PageListInfos": items, "PageCount": page_count}}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def oai_identifier(record: Record) -> str:
    return f"oai:bench.example.edu.cn:{record.source_id}"


def _stamp(record: Record) -> str:
    return (record.published_at or record.fetched_at).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def oai_record(record: Record) -> str:
    """One `<record>` with an oai_dc description of the course."""
    stamp = _stamp(record)
    subject = record.tags[0] if record.tags else ""
    dc = [("title", record.title), ("title", record.subtitle or "")]
    dc += [("creator", p.name) for p in record.instructors]
    dc += [("subject", theme) for theme in record.themes]
    dc += [("subject", f"{record.themes[0]} > {subject}")] if record.themes and subject else []
    dc += [("description", record.description or ""), ("publisher", record.provider.name if record.provider else "")]
    dc += [("date", stamp[:10]), ("type", OAI_TYPES.get(str(record.media_type), "课程"))]
    dc += [("identifier", record.source_id), ("identifier", record.url), ("language", "zh-CN")]
    elements = "".join(f"<dc:{name}>{escape(value)}</dc:{name}>" for name, value in dc if value)
    return (
        f"<record><header><identifier>{oai_identifier(record)}</identifier><datestamp>{stamp}</datestamp>"
        f"<setSpec>{escape(record.platform)}</setSpec></header><metadata>"
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/">{elements}</oai_dc:dc></metadata></record>\n'
    )


def oai_pages(records: Iterable[Record], *, count: int, page_size: int) -> list[bytes]:
    """The ListRecords answers in resumption order; page N's token is `page-{N+1}`, the last one's empty."""
    page_count = max(1, math.ceil(count / page_size))
    pages: list[bytes] = []
    for number, chunk in enumerate(chunks(records, page_size), start=1):
        token = f"page-{number + 1}" if number < page_count else ""
        pages.append(
            _oai_page([oai_record(r) for r in chunk], token=token, cursor=(number - 1) * page_size, total=count)
        )
    return pages


def _oai_page(records: list[str], *, token: str, cursor: int, total: int) -> bytes:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        '<responseDate>2026-11-28T00:00:00Z</responseDate><request verb="ListRecords">http://bench/oai</request>'
        f"<ListRecords>\n{''.join(records)}"
        f'<resumptionToken completeListSize="{total}" cursor="{cursor}">{token}</resumptionToken>'
        "</ListRecords></OAI-PMH>\n"
    )
    return body.encode("utf-8")


IDENTIFY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
    '<responseDate>2026-11-28T00:00:00Z</responseDate><request verb="Identify">http://bench/oai</request>'
    "<Identify><repositoryName>edufed 基准测试资源库</repositoryName><baseURL>http://bench/oai</baseURL>"
    "<protocolVersion>2.0</protocolVersion><adminEmail>bench@example.edu.cn</adminEmail>"
    "<earliestDatestamp>2018-01-01T00:00:00Z</earliestDatestamp><deletedRecord>persistent</deletedRecord>"
    "<granularity>YYYY-MM-DDThh:mm:ssZ</granularity></Identify></OAI-PMH>\n"
).encode()


def details_document(record: Record) -> bytes:
    """A course's detail document as le.ouchn's MicroCourse/Details answers it: its name and lessons."""
    modules = [{"Id": f"{record.source_id}-{lesson.id}", "Title": lesson.title} for lesson in record.lessons]
    body = {"Code": 200, "Data": {"Id": record.source_id, "Name": record.title, "Modules": modules}}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def rss_feed(records: Iterable[Record]) -> bytes:
    """One RSS 2.0 feed listing every course."""
    items = "".join(
        f'<item><guid isPermaLink="false">{escape(r.source_id)}</guid><title>{escape(r.title)}</title>'
        f"<link>https://bench.example.edu.cn/course/{escape(r.source_id)}</link>"
        f"<description>{escape(r.description or '')}</description>"
        f"<category>{escape(r.tags[0] if r.tags else '')}</category></item>\n"
        for r in records
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>edufed 基准测试课程</title>'
        f"<link>https://bench.example.edu.cn/</link><description>全部课程</description>\n{items}</channel></rss>\n"
    ).encode()


def static_parts(records: Iterable[Record], *, page_size: int) -> dict[str, bytes]:
    """smartedu's version index and its part files, `page_size` NDR-shaped records each."""
    documents: dict[str, bytes] = {}
    for number, chunk in enumerate(chunks(records, page_size), start=1):
        items = [
            {"id": r.source_id, "title": r.title, "description": r.description, "status": "ONLINE",
             "resource_type_code": "assets_video", "tag_list": [{"tag_name": t} for t in r.tags]}
            for r in chunk
        ]  # fmt: skip
        documents[f"/version/part_{number}.json"] = json.dumps(items, ensure_ascii=False).encode("utf-8")
    index = {"module": "bench_module", "module_version": 1, "urls": [p.rsplit("/", 1)[1] for p in documents]}
    documents[VERSION_PATH] = json.dumps(index).encode()
    return documents


@dataclass
class Rendered:
    """What a catalogue server sends: numbered pages (page 1 first) and documents by path."""

    pages: list[bytes] = field(default_factory=list)
    documents: dict[str, bytes] = field(default_factory=dict)
    stamped: list[tuple[str, str]] = field(default_factory=list)  # OAI (datestamp, <record>) pairs

    @property
    def bytes(self) -> int:
        return sum(map(len, self.pages)) + sum(map(len, self.documents.values()))


def etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


NO_RECORDS = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
    b'<responseDate>2026-11-28T00:00:00Z</responseDate><request verb="ListRecords">http://bench/oai</request>'
    b'<error code="noRecordsMatch">no records changed since then</error></OAI-PMH>\n'
)


class CatalogueServer(ThreadingHTTPServer):
    """Serves pre-rendered pages and documents of one kind; `pages[0]` is page 1."""

    daemon_threads = True

    def __init__(self, kind: str, rendered: Rendered, *, page_size: int, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.kind = kind
        self.pages = rendered.pages
        self.documents = rendered.documents
        self.stamped = rendered.stamped
        self.page_size = page_size

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, str, bytes]:
        """(status, content type, body) for one GET."""
        if path == "/robots.txt":
            return 200, "text/plain", ROBOTS
        if self.kind in ("json_api", "le_ouchn") and path == PAGING_PATH:
            return self._paging(query)
        if self.kind == "oai_pmh" and path == OAI_PATH:
            return self._oai(query)
        if path in self.documents:
            content_type = "application/rss+xml" if path == FEED_PATH else "application/json; charset=utf-8"
            return 200, content_type, self.documents[path]
        return 404, "text/plain", b"not found"

    def _paging(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        if query.get("PageSize") != str(self.page_size) or not query.get("PageNum", "").isdigit():
            return 400, "text/plain", f"PageNum and PageSize={self.page_size} are required".encode()
        number = int(query["PageNum"])
        if 1 <= number <= len(self.pages):
            return 200, "application/json; charset=utf-8", self.pages[number - 1]
        empty = {"Code": 200, "Data": {"PageListInfos": [], "PageCount": len(self.pages)}}
        return 200, "application/json; charset=utf-8", json.dumps(empty).encode()

    def _oai(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        xml = "text/xml; charset=utf-8"
        verb = query.get("verb")
        if verb == "Identify":
            return 200, xml, IDENTIFY
        token = query.get("resumptionToken", "")
        if verb == "ListRecords" and not token and query.get("metadataPrefix") == "oai_dc":
            if "from" in query:
                return 200, xml, self._changed_since(query["from"])
            return 200, xml, self.pages[0]
        if verb == "ListRecords" and token.startswith("page-") and token[5:].isdigit():
            number = int(token[5:])
            if 1 <= number <= len(self.pages):
                return 200, xml, self.pages[number - 1]
        return 400, "text/plain", b"unsupported OAI-PMH request"

    def _changed_since(self, since: str) -> bytes:
        """A selective ListRecords: every record stamped at or after `since` (ISO UTC sorts as text), one page."""
        changed = [record for stamp, record in self.stamped if stamp >= since]
        if not changed:
            return NO_RECORDS
        return _oai_page(changed, token="", cursor=0, total=len(changed))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection serves every page
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stalls
    server: CatalogueServer

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        status, content_type, body = self.server.answer(parts.path, dict(parse_qsl(parts.query)))
        tag = etag(body) if status == 200 else None
        if tag is not None and self.headers.get("If-None-Match") == tag:
            self.send_response(304)
            self.send_header("ETag", tag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if tag is not None:
            self.send_header("ETag", tag)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        return


def render(kind: str, *, count: int, page_size: int) -> Rendered:
    """Every page and document of the corpus's first `count` records as `kind` serves it."""
    records = list(generate(count))
    if kind == "json_api":
        return Rendered(pages=json_pages(records, count=count, page_size=page_size))
    if kind == "le_ouchn":
        details = {detail_path(r.source_id): details_document(r) for r in records}
        return Rendered(pages=json_pages(records, count=count, page_size=page_size), documents=details)
    if kind == "rss":
        return Rendered(documents={FEED_PATH: rss_feed(records)})
    if kind == "static_catalog":
        return Rendered(documents=static_parts(records, page_size=page_size))
    stamped = [(_stamp(r), oai_record(r)) for r in records]
    return Rendered(pages=oai_pages(records, count=count, page_size=page_size), stamped=stamped)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--count", type=int, default=100_000, help="records in the catalogue")
    parser.add_argument("--page-size", type=int, default=100, help="records per page")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rendered = render(args.kind, count=args.count, page_size=args.page_size)
    server = CatalogueServer(args.kind, rendered, page_size=args.page_size, port=args.port)
    ready = {"url": server.base_url, "kind": args.kind, "records": args.count, "pages": len(rendered.pages)}
    ready["documents"] = len(rendered.documents)
    ready["bytes"] = rendered.bytes
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
