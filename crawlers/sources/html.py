"""The `html` kind: CMS list pages -> detail pages -> next page by CSS selectors, crawled by Scrapy.

Detail pages give one record from `fields`, one record per labelled block (案例名称：… 申报单位：…), or, on
programme pages, one `programme_entry` record per row (百姓学习之星, 终身学习品牌项目). The CMS GUID in
/Pages/<Section>/YYYY/MM/DD/<GUID>.htm is the platform id and the path date the fallback publication date.
"""

from __future__ import annotations

from config.sources import HtmlSourceConfig
from crawlers.scrapy_engine.source import EngineSource
from crawlers.sources.base import register


@register("html")
class HtmlSource(EngineSource):
    """Articles, cases and programme entries of a CMS section, as raw records."""

    config: HtmlSourceConfig
