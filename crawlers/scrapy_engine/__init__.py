"""The Scrapy crawl engine: each crawl runs in a child process that streams its findings as JSON lines.

Scrapy's Twisted reactor cannot be restarted inside one process, and `edufed serve` runs many harvests in one
lifetime, so the parent never imports Scrapy: `EngineProcess` starts `python -m crawlers.scrapy_engine`,
sends it a `CrawlJob`, and reads events (records, problems, warnings, requests, an error, final stats) back.
"""
