"""Crawl benchmark: a first, an unchanged and a changed re-harvest of a generated CMS section (html) or sitemap site.

Run from the checkout (see bench/README.md):

    .venv/bin/python -m bench.bench_crawl html --count 10000
    .venv/bin/python -m bench.bench_crawl sitemap --count 10000 --changed 10

A child process (`python -m bench.bench_crawl serve KIND --count N`) renders the site from `bench/corpus.py`
before it listens, and sends every page with an ETag and Last-Modified, answering 304 to a request that
brings them back, as the CMSs and sitemap hosts of PLATFORMS.md do. List pages show each course's title, as a
CMS list does. This process harvests it through `crawlers.run.harvest` with a fresh SQLite index and state
database under `bench/out/`: once, again unchanged, then (with `--changed K`, default 10) after K courses spread
over the site got a new title (on their detail page and their list entry, or with a newer sitemap lastmod), and
for html once more as if a day had passed (the stored detail memos a day older: the pages in today's refresh slot
are asked again, conditionally). It prints one JSON line per run: status, records new / updated / unchanged,
requests, bytes received, seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.bench_index import fresh_sqlite
from bench.corpus import generate
from config.loader import load_themes
from config.settings import HttpSettings, Settings
from config.source_models import HtmlSourceConfig, SitemapSourceConfig
from crawlers.run import harvest
from crawlers.state.store import StateStore
from indexer.backends.sqlite import SqliteBackend
from indexer.pipeline import RecordBuilder

ROOT = Path(__file__).resolve().parent.parent
PER_LIST_PAGE = 20
PER_SITEMAP = 1000
LAST_MODIFIED = "Mon, 01 Jan 2024 00:00:00 GMT"
NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"


def changed_numbers(count: int, changed: int) -> set[int]:
    """The courses (1-based) a changed site revises: `changed` of them, spread evenly over the site."""
    if changed <= 0:
        return set()
    step = max(count // changed, 1)
    return set(range(step, count + 1, step)[:changed])


def render(kind: str, count: int, *, changed: int = 0) -> dict[str, tuple[str, bytes]]:
    """Path -> (content type, body) of every page of the site, with `changed` courses revised."""
    pages: dict[str, tuple[str, bytes]] = {"/robots.txt": ("text/plain", b"User-agent: *\nAllow: /\n")}
    revised = changed_numbers(count, changed)
    listed: list[tuple[str, str, bool]] = []
    for number, record in enumerate(generate(count), start=1):
        path = f"/Pages/News/2024/01/02/course-{number}.htm"
        title = f"{record.title}（修订版）" if number in revised else record.title
        listed.append((path, title, number in revised))
        if kind == "html":
            body = f"<html><body><h1>{title}</h1><div class='content'>{record.description}</div></body></html>"
        else:
            block = json.dumps(
                {"@context": "https://schema.org", "@type": "Course", "name": title, "description": record.description},
                ensure_ascii=False,
            )
            body = f'<html><head><script type="application/ld+json">{block}</script></head><body></body></html>'
        pages[path] = ("text/html; charset=utf-8", body.encode("utf-8"))
    if kind == "html":
        pages.update(_list_pages(listed))
    else:
        pages.update(_sitemaps(listed))
    return pages


def _list_pages(listed: list[tuple[str, str, bool]]) -> dict[str, tuple[str, bytes]]:
    chunks = [listed[i : i + PER_LIST_PAGE] for i in range(0, len(listed), PER_LIST_PAGE)] or [[]]
    found = {}
    for number, chunk in enumerate(chunks, start=1):
        links = "".join(f'<li><a href="{path}">{title}</a></li>' for path, title, _ in chunk)
        following = f'<a class="next" href="/list_{number + 1}.htm">下一页</a>' if number < len(chunks) else ""
        body = f'<html><body><ul class="list">{links}</ul><div class="pages">{following}</div></body></html>'
        found[f"/list_{number}.htm"] = ("text/html; charset=utf-8", body.encode("utf-8"))
    return found


def _sitemaps(listed: list[tuple[str, str, bool]]) -> dict[str, tuple[str, bytes]]:
    found = {}
    children = []
    for number, start in enumerate(range(0, len(listed), PER_SITEMAP), start=1):
        urls = "".join(
            f"<url><loc>{path}</loc><lastmod>{'2024-01-03' if revised else '2024-01-02'}</lastmod></url>"
            for path, _, revised in listed[start:][:PER_SITEMAP]
        )
        found[f"/sitemaps/{number}.xml"] = ("application/xml", f'<urlset xmlns="{NAMESPACE}">{urls}</urlset>'.encode())
        children.append(f"<sitemap><loc>/sitemaps/{number}.xml</loc></sitemap>")
    index = f'<sitemapindex xmlns="{NAMESPACE}">{"".join(children)}</sitemapindex>'
    found["/sitemap_index.xml"] = ("application/xml", index.encode())
    return found


def serve(kind: str, count: int, *, changed: int) -> None:
    """Serve the rendered site on a free loopback port; the first stdout line is its base URL.

    A line `change` on stdin switches to the site with `changed` courses revised; `changed` on stdout answers.
    """
    pages = render(kind, count)
    tags = {path: f'"{hashlib.sha256(body).hexdigest()[:16]}"' for path, (_, body) in pages.items()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            path = self.path.split("?", 1)[0]
            if path not in pages:
                self._send(404, "text/plain", b"not found")
            elif self.headers.get("If-None-Match") == tags[path]:
                self._send(304, None, b"", etag=tags[path])
            else:
                self._send(200, *pages[path], etag=tags[path])

        def _send(self, status: int, content_type: str | None, body: bytes, etag: str | None = None) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            if etag:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", LAST_MODIFIED)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    for line in sys.stdin:
        if line.strip() == "change":
            revised = render(kind, count, changed=changed)
            tags.update({path: f'"{hashlib.sha256(body).hexdigest()[:16]}"' for path, (_, body) in revised.items()})
            pages.update(revised)
            print("changed", flush=True)


def source_config(kind: str, base_url: str, count: int) -> HtmlSourceConfig | SitemapSourceConfig:
    common: dict[str, Any] = {
        "id": f"bench_{kind}",
        "name": "基准站点",
        "platform": "bench",
        "platform_name": "基准站点",
        "max_pages": count + count // PER_LIST_PAGE + 10,
    }
    if kind == "html":
        return HtmlSourceConfig(
            kind="html",
            start_urls=[f"{base_url}/list_1.htm"],
            item_links="ul.list li a",
            next_page="div.pages a.next",
            fields={"title": "h1", "description": "div.content"},
            max_list_pages=count // PER_LIST_PAGE + 2,
            **common,
        )
    return SitemapSourceConfig(kind="sitemap", url=f"{base_url}/sitemap_index.xml", **common)


def age_detail_memos(store: StateStore, source_id: str, *, days: int) -> None:
    """Make the html cursor's detail page memos `days` older, as if the last run had been that long ago."""
    pages = json.loads(store.cursors.get(source_id)["pages"])
    for memo in pages.values():
        if isinstance(memo.get("day"), int):
            memo["day"] -= days
    store.cursors.put(source_id, {"pages": json.dumps(pages)})


def run(kind: str, count: int, *, changed: int) -> list[dict[str, Any]]:
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_crawl", "serve", kind, "--count", str(count), "--changed", str(changed)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        base_url = child.stdout.readline().strip()
        out = ROOT / "bench" / "out" / f"crawl-{kind}-{count}"
        out.mkdir(parents=True, exist_ok=True)
        index = out / "index.sqlite3"
        fresh_sqlite(index)
        fresh_sqlite(out / "state.sqlite3")
        http = HttpSettings(delay_seconds=0, retries=0, timeout_seconds=60, allow_private_hosts=["127.0.0.1"])
        settings = Settings(data_dir=out, http=http, state_db_url=f"sqlite:///{(out / 'state.sqlite3').resolve()}")
        config = source_config(kind, base_url, count)
        store = StateStore.for_settings(settings)
        backend = SqliteBackend(index)
        store.sources.seed([config])
        builder = RecordBuilder(load_themes())
        results = []
        try:
            for label in ("first", "unchanged", "changed", "next_day"):
                if label == "changed":
                    if changed <= 0:
                        continue
                    child.stdin.write("change\n")
                    child.stdin.flush()
                    assert child.stdout.readline().strip() == "changed"
                if label == "next_day":
                    if kind != "html":
                        break
                    age_detail_memos(store, config.id, days=1)
                started = time.monotonic()
                report = harvest(config, settings=settings, backend=backend, builder=builder, state=store)
                results.append(
                    {
                        "kind": kind,
                        "count": count,
                        "run": label,
                        "status": report.status,
                        "new": report.new,
                        "updated": report.updated,
                        "unchanged": report.unchanged,
                        "requests": report.http.requests,
                        "bytes": report.http.bytes,
                        "seconds": round(time.monotonic() - started, 1),
                    }
                )
                print(json.dumps(results[-1]), flush=True)
        finally:
            backend.close()
            store.close()
        return results
    finally:
        child.terminate()
        child.wait()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("html", "sitemap", "serve"))
    parser.add_argument("kind", nargs="?", choices=("html", "sitemap"), help="with serve: the site to serve")
    parser.add_argument("--count", type=int, default=10_000, help="detail pages the site has")
    parser.add_argument("--changed", type=int, default=10, help="courses revised before the third run (0: no third)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.mode == "serve":
        serve(args.kind, args.count, changed=args.changed)
    else:
        run(args.mode, args.count, changed=args.changed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
