"""The `html` kind: CMS list pages -> detail pages -> next page by CSS selectors, crawled by Scrapy.

Detail pages give one record from `fields`, one record per labelled block (案例名称：… 申报单位：…), or, on
programme pages, one `programme_entry` record per row (百姓学习之星, 终身学习品牌项目). The CMS GUID in
/Pages/<Section>/YYYY/MM/DD/<GUID>.htm is the platform id and the path date the fallback publication date.

Every run walks the whole section. Pages that came with an ETag or Last-Modified are asked conditionally next
time (crawlers/scrapy_engine/cms_memory.py keeps them in the cursor): a list page answering 304 lists the links
it listed then, a detail page answering 304 names the records it gave then as unchanged, never withdrawn.
A detail page is not asked at all when its list entry (the link and the text of what `item_links` selects) is
the one the last complete crawl read, or its list page answered 304, unless the page is in its refresh slot
(`detail.refresh_days`, a day its URL picks: crawlers/kinds/refresh.py, the rule json_api details follow):
its records are named listed and unchanged. A new or changed entry has its page read in the same run. Only pages
whose records the catalogue holds live may stand so (the parent decides that and the slots: `plan_crawl`); any
other is read in full.
A walk that reached the end of every list, with every detail page harvested, unchanged or gone (404/410), is a
complete listing: scope "full" (also when every list page listed nothing: the run's guard holds that). Detail
pages that failed otherwise, or some list pages without any detail link, leave holes: scope "incremental". A
list page that fails, is cut short (Content-Length not reached, or no </html> where this site's list pages have
one) or redirects in a loop fails the run: the listing is incomplete. A walk cut by max_list_pages or max_pages
is incomplete too: no cursor.
"""

from __future__ import annotations

from typing import Any

from config.source_models import HtmlSourceConfig
from crawlers.kinds.base import register
from crawlers.kinds.refresh import refresh_due, today
from crawlers.scrapy_engine.source import EngineSource


@register("html")
class HtmlSource(EngineSource):
    """Articles, cases and programme entries of a CMS section, as raw records."""

    config: HtmlSourceConfig

    def plan_crawl(self, stored: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Today's day number and the detail pages that may stand unfetched; pages not all live are forgotten.

        A remembered page stands when every record it gave is live in the catalogue and it is not in its refresh
        slot (a memo without a day, from before days were kept, is refreshed now). A page whose records are not
        all live is dropped from the cursor, so it is read in full (a 304 would not bring them back).
        """
        day = today()
        pages = stored.get("pages")
        if not isinstance(pages, dict):
            return stored, {"day": day, "standing": []}
        kept: dict[str, Any] = {}
        standing: list[str] = []
        for url, memo in pages.items():
            if not self._live(memo):
                continue
            kept[url] = memo
            last = memo.get("day")
            fresh = isinstance(last, int) and not isinstance(last, bool)
            if fresh and not refresh_due(url, last_day=last, day=day, refresh_days=self.config.detail.refresh_days):
                standing.append(url)
        if dropped := len(pages) - len(kept):
            self.notes.append(
                f"{dropped} remembered detail page{'' if dropped == 1 else 's'} gave records the catalogue does not "
                "hold live: read in full"
            )
        return {**stored, "pages": kept}, {"day": day, "standing": standing}

    def _live(self, memo: Any) -> bool:
        ids = memo.get("ids") if isinstance(memo, dict) else None
        return isinstance(ids, list) and bool(ids) and all(self.catalogued(str(i)) for i in ids)
