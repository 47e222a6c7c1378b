"""What the CMS spider keeps between crawls: each list page's links and each detail page's record ids, with the
validators the pages came with, so the next crawl can ask conditionally and take a 304 as "as before"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# How far from the end of a page its closing tag is looked for (trailing scripts and comments come after it).
HTML_END_WINDOW = 4096


@dataclass(frozen=True)
class ListedPage:
    """What one list page lists: detail links in page order, and the next list page if any."""

    links: list[str]
    next_url: str | None


def _entries(value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        return {}
    return {str(url): entry for url, entry in value.items() if isinstance(entry, dict)}


class CmsMemory:
    """The `lists` and `pages` of the stored cursor going in, the ones this crawl earns going out.

    Only pages that came with a validator and were read cleanly are remembered: anything else is asked in full
    next time. `html_end` remembers that this site's list pages end with </html>, so one that does not is taken
    for a truncated download rather than the last page.
    """

    def __init__(self, stored: dict[str, Any]) -> None:
        self.lists = _entries(stored.get("lists"))
        self.pages = _entries(stored.get("pages"))
        self.html_end = bool(stored.get("html_end"))
        self.lists_out: dict[str, dict[str, Any]] = {}
        self.pages_out: dict[str, dict[str, Any]] = {}

    def list_whole(self, text: str) -> bool:
        """Whether a list page arrived whole: it ends with </html>, or this site's list pages never do."""
        if "</html" in text[-HTML_END_WINDOW:].lower():
            self.html_end = True
            return True
        return not self.html_end

    def list_read(self, url: str, listed: ListedPage, found: dict[str, str]) -> None:
        if found:
            self.lists_out[url] = {**found, "links": listed.links, "next": listed.next_url}

    def list_unchanged(self, url: str) -> ListedPage | None:
        """What a list page answering 304 lists: what it listed when last read (None if it was never read)."""
        stored = self.lists.get(url)
        links = stored.get("links") if stored else None
        if not isinstance(links, list):
            return None
        assert stored is not None
        self.lists_out[url] = stored
        following = stored.get("next")
        return ListedPage([str(link) for link in links], following if isinstance(following, str) else None)

    def page_read(self, url: str, ids: list[str], found: dict[str, str]) -> None:
        if found:
            self.pages_out[url] = {**found, "ids": ids}

    def page_unchanged(self, url: str) -> list[str] | None:
        """The record ids of a detail page answering 304, as it gave them when last read (None if never read)."""
        stored = self.pages.get(url)
        ids = stored.get("ids") if stored else None
        if not isinstance(ids, list) or not ids:
            return None
        assert stored is not None
        self.pages_out[url] = stored
        return [str(i) for i in ids]

    def cursor(self) -> dict[str, Any]:
        return {"lists": self.lists_out, "pages": self.pages_out, "html_end": self.html_end}
