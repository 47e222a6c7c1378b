"""The `html` kind: CMS list pages -> detail pages -> next page by CSS selectors, crawled by Scrapy.

Detail pages give one record from `fields`, one record per labelled block (案例名称：… 申报单位：…), or, on
programme pages, one `programme_entry` record per row (百姓学习之星, 终身学习品牌项目). The CMS GUID in
/Pages/<Section>/YYYY/MM/DD/<GUID>.htm is the platform id and the path date the fallback publication date.

Every run walks the whole section. Pages that came with an ETag or Last-Modified are asked conditionally next
time (crawlers/scrapy_engine/cms_memory.py keeps them in the cursor): a list page answering 304 lists the links
it listed then, a detail page answering 304 names the records it gave then as unchanged, never withdrawn.
A walk that reached the end of every list, with every detail page harvested, unchanged or gone (404/410), is a
complete listing: scope "full" (also when every list page listed nothing: the run's guard holds that). Detail
pages that failed otherwise, or some list pages without any detail link, leave holes: scope "incremental". A
list page that fails, is cut short (Content-Length not reached, or no </html> where this site's list pages have
one) or redirects in a loop fails the run: the listing is incomplete. A walk cut by max_list_pages or max_pages
is incomplete too: no cursor.
"""

from __future__ import annotations

from config.sources import HtmlSourceConfig
from crawlers.scrapy_engine.source import EngineSource
from crawlers.sources.base import register


@register("html")
class HtmlSource(EngineSource):
    """Articles, cases and programme entries of a CMS section, as raw records."""

    config: HtmlSourceConfig
