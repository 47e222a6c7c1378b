"""A local catalogue server for the harvest benchmark: the generated corpus as a paged JSON API or OAI-PMH.

Run it as its own process, so serving costs none of the harvester's CPU (bench/bench_harvest.py does this):

    .venv/bin/python -m bench.harvest_server json_api --count 100000
    .venv/bin/python -m bench.harvest_server oai_pmh --count 100000 --page-size 200

Every page is rendered from `bench/corpus.py` before the server starts listening, so a request only sends
bytes. When it is ready the server writes one JSON line to stdout (its base URL, pages, records, bytes) and
then serves on 127.0.0.1 until it is terminated.

* `json_api` answers `GET /api/Course/Paging?PageNum=N&PageSize=S` in le.ouchn.cn's shape (PLATFORMS.md 1.1):
  `{"Data": {"PageListInfos": [{Id, Name, Teacher, SourceName, Subtitle, StudentCount, Tag}], "PageCount": n}}`.
  `Subtitle` carries the course description, the short text le.ouchn shows there.
* `oai_pmh` answers `GET /oai?verb=Identify` and `verb=ListRecords&metadataPrefix=oai_dc`, then
  `verb=ListRecords&resumptionToken=page-N`, in the shape of tests/data/oai_pmh.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

from bench.corpus import generate
from indexer.record import Record

PAGING_PATH = "/api/Course/Paging"
OAI_PATH = "/oai"
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


def oai_record(record: Record) -> str:
    """One `<record>` with an oai_dc description of the course."""
    stamp = (record.published_at or record.fetched_at).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
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


class CatalogueServer(ThreadingHTTPServer):
    """Serves pre-rendered pages of one kind; `pages[0]` is page 1."""

    daemon_threads = True

    def __init__(self, kind: str, pages: list[bytes], *, page_size: int, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.kind = kind
        self.pages = pages
        self.page_size = page_size

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, str, bytes]:
        """(status, content type, body) for one GET."""
        if path == "/robots.txt":
            return 200, "text/plain", ROBOTS
        if self.kind == "json_api" and path == PAGING_PATH:
            return self._paging(query)
        if self.kind == "oai_pmh" and path == OAI_PATH:
            return self._oai(query)
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
            return 200, xml, self.pages[0]
        if verb == "ListRecords" and token.startswith("page-") and token[5:].isdigit():
            number = int(token[5:])
            if 1 <= number <= len(self.pages):
                return 200, xml, self.pages[number - 1]
        return 400, "text/plain", b"unsupported OAI-PMH request"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection serves every page
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stalls
    server: CatalogueServer

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        status, content_type, body = self.server.answer(parts.path, dict(parse_qsl(parts.query)))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        return


def render(kind: str, *, count: int, page_size: int) -> list[bytes]:
    """Every page of the corpus's first `count` records as `kind` serves it."""
    records = generate(count)
    if kind == "json_api":
        return json_pages(records, count=count, page_size=page_size)
    return oai_pages(records, count=count, page_size=page_size)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("json_api", "oai_pmh"))
    parser.add_argument("--count", type=int, default=100_000, help="records in the catalogue")
    parser.add_argument("--page-size", type=int, default=100, help="records per page")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    pages = render(args.kind, count=args.count, page_size=args.page_size)
    server = CatalogueServer(args.kind, pages, page_size=args.page_size, port=args.port)
    ready = {"url": server.base_url, "kind": args.kind, "records": args.count, "pages": len(pages)}
    ready["bytes"] = sum(len(p) for p in pages)
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
