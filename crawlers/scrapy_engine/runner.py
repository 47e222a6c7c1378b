"""The child side of a crawl: build the spider for a job, run Scrapy once, write every event to stdout."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, TextIO

from pydantic import ValidationError
from scrapy import signals
from scrapy.crawler import AsyncCrawlerProcess
from twisted.python.failure import Failure

from config.settings import HttpSettings
from config.source_models import CrawlSourceBase, HtmlSourceConfig, SitemapSourceConfig
from crawlers.errors import HarvestError, SourceConfigError
from crawlers.scrapy_engine.base_spider import EngineSpider
from crawlers.scrapy_engine.cms_spider import CmsCrawlSpider
from crawlers.scrapy_engine.events import Event, encode, error_event
from crawlers.scrapy_engine.settings import scrapy_settings
from crawlers.scrapy_engine.signals import engine_event
from crawlers.scrapy_engine.sitemap_spider import SitemapCrawlSpider

logger = logging.getLogger(__name__)

KINDS: dict[str, tuple[type[CrawlSourceBase], type[EngineSpider]]] = {
    "sitemap": (SitemapSourceConfig, SitemapCrawlSpider),
    "html": (HtmlSourceConfig, CmsCrawlSpider),
}


class Emitter:
    """Writes events as JSON lines, flushed at once so the parent sees them while the crawl goes on."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def emit(self, event: Event) -> None:
        self.out.write(encode(event))
        self.out.flush()

    def on_item(self, item: Any, **_: Any) -> None:
        self.emit(dict(item))

    def on_event(self, event: Event, **_: Any) -> None:
        self.emit(event)

    def on_spider_error(self, failure: Failure, response: Any, **_: Any) -> None:
        """A bug or surprise while parsing one page loses its items: report it, do not only log it."""
        source_id = response.meta.get("edufed_source_id") if response is not None else None
        url = getattr(response, "url", "?")
        self.emit(
            {
                "type": "problem",
                "reason": f"{url}: page could not be parsed ({failure.value!r})",
                "source_id": source_id,
                "payload": None,
            }
        )


def _prepare(job: dict[str, Any]) -> tuple[CrawlSourceBase, type[EngineSpider], HttpSettings]:
    source = job.get("source") or {}
    kind = source.get("kind")
    if kind not in KINDS:
        raise SourceConfigError(str(source.get("id", "?")), reason=f"the crawl engine has no spider for kind {kind!r}")
    config_cls, spider_cls = KINDS[kind]
    try:
        config = config_cls.model_validate(source)
        http = HttpSettings.model_validate(job.get("http") or {})
    except ValidationError as exc:
        raise SourceConfigError(str(source.get("id", "?")), reason=f"invalid crawl job: {exc}") from exc
    spider_cls.check(config)
    return config, spider_cls, http


def _stats(crawler: Any, spider: EngineSpider) -> dict[str, Any]:
    found = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in crawler.stats.get_stats().items()}
    found.update({f"edufed/{name}": count for name, count in spider.counts.items()})
    return found


def run_job(job: dict[str, Any], out: TextIO) -> None:
    """Crawl once for `job` and write its events; always ends with a `done` line."""
    emitter = Emitter(out)
    try:
        config, spider_cls, http = _prepare(job)
    except HarvestError as exc:
        emitter.emit(error_event(exc))
        emitter.emit({"type": "done", "stats": {}, "cursor": None})
        return
    settings = scrapy_settings(
        config,
        http=http,
        obey_robots=bool(job.get("obey_robots", True)),
        delay_seconds=float(job.get("delay_seconds", http.delay_seconds)),
    )
    process = AsyncCrawlerProcess(settings)
    crawler = process.create_crawler(spider_cls)
    crawler.signals.connect(emitter.on_item, signal=signals.item_scraped)
    crawler.signals.connect(emitter.on_event, signal=engine_event)
    crawler.signals.connect(emitter.on_spider_error, signal=signals.spider_error)
    cursor, plan = job.get("cursor"), job.get("plan")
    process.crawl(
        crawler, config=config, cursor=cursor if isinstance(cursor, dict) else {},
        plan=plan if isinstance(plan, dict) else {},
    )  # fmt: skip
    process.start(install_signal_handlers=False)
    spider = crawler.spider
    assert isinstance(spider, EngineSpider)
    if spider.fatal is not None:
        emitter.emit(error_event(spider.fatal))
    elif crawler.stats.get_value("finish_reason") != "finished":
        reason = crawler.stats.get_value("finish_reason")
        message = f"crawl of {config.id!r} ended early ({reason}); its listing is incomplete"
        emitter.emit({"type": "error", "error": "CrawlIncomplete", "message": message})
    finished = spider.fatal is None and crawler.stats.get_value("finish_reason") == "finished"
    emitter.emit(
        {
            "type": "done",
            "stats": _stats(crawler, spider),
            "cursor": spider.cursor() if finished else None,
            "scope": spider.scope(),
            "notes": spider.notes(),
        }
    )
