"""What the CMS spider keeps between crawls: each list page's links and each detail page's record ids, with the
validators the pages came with, so the next crawl can ask conditionally and take a 304 as "as before"; and for
each detail page the list entry that led to it and the day it was last read, so an unchanged entry's page can
stand unfetched until its refresh slot."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

# How far from the end of a page its closing tag is looked for (trailing scripts and comments come after it).
HTML_END_WINDOW = 4096


@dataclass(frozen=True)
class ListedPage:
    """What one list page lists: detail links in page order, and the next list page if any.

    `entries` are the digests of the links' list entries, read from a page that came in full; a list page that
    answered 304 has none (every entry on it is as it was).
    """

    links: list[str]
    next_url: str | None
    entries: list[str] = field(default_factory=list)

    def listed(self) -> list[tuple[str, str | None]]:
        """Each link with its entry's digest (None: the list page is unchanged)."""
        return [(link, self.entries[n] if n < len(self.entries) else None) for n, link in enumerate(self.links)]


def entry_digest(url: str, text: str) -> str:
    """A short digest of one list entry: its link and its text (whitespace runs count as one space)."""
    encoded = f"{url}\n{' '.join(text.split())}".encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def _entries(value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        return {}
    return {str(url): entry for url, entry in value.items() if isinstance(entry, dict)}


class CmsMemory:
    """The `lists` and `pages` of the stored cursor going in, the ones this crawl earns going out.

    Only pages read cleanly are remembered, list pages only with a validator, detail pages with a validator or
    a list entry: anything else is asked in full next time. `html_end` remembers that this site's list pages end
    with </html>, so one that does not is taken for a truncated download rather than the last page.

    The parent's `plan` gives `day` (today's number, stamped on each detail page read or confirmed) and
    `standing`: the remembered detail pages whose records are live and which are not in their refresh slot.
    """

    def __init__(self, stored: dict[str, Any], plan: dict[str, Any] | None = None) -> None:
        plan = plan or {}
        self.lists = _entries(stored.get("lists"))
        self.pages = _entries(stored.get("pages"))
        self.html_end = bool(stored.get("html_end"))
        self.lists_out: dict[str, dict[str, Any]] = {}
        self.pages_out: dict[str, dict[str, Any]] = {}
        day = plan.get("day")
        self.day = day if isinstance(day, int) and not isinstance(day, bool) else None
        standing = plan.get("standing")
        self.standing = {str(url) for url in standing} if isinstance(standing, list) else set()

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

    def entry_of(self, url: str) -> str | None:
        """The list entry digest remembered for a detail page (carried when its list page answered 304)."""
        entry = self.pages.get(url, {}).get("entry")
        return entry if isinstance(entry, str) else None

    def page_read(self, url: str, ids: list[str], found: dict[str, str], *, entry: str | None = None) -> None:
        if found or entry:
            self.pages_out[url] = self._stamped({**found, "ids": ids}, entry=entry)

    def page_unchanged(self, url: str, *, entry: str | None = None) -> list[str] | None:
        """The record ids of a detail page answering 304, as it gave them when last read (None if never read)."""
        ids = self._ids(url)
        if ids is not None:
            self.pages_out[url] = self._stamped(self.pages[url], entry=entry)
        return ids

    def page_stands(self, url: str, entry: str | None) -> list[str] | None:
        """The record ids of a detail page that need not be asked this crawl; None when it must be.

        It stands when the parent's plan lets it and its list entry is the one remembered (`entry` None: the
        list page answered 304, so every entry on it is). Its memo goes on as it was, day included.
        """
        if url not in self.standing or (entry is not None and entry != self.entry_of(url)):
            return None
        ids = self._ids(url)
        if ids is not None:
            self.pages_out[url] = self.pages[url]
        return ids

    def _ids(self, url: str) -> list[str] | None:
        stored = self.pages.get(url)
        ids = stored.get("ids") if stored else None
        if not isinstance(ids, list) or not ids:
            return None
        return [str(i) for i in ids]

    def _stamped(self, memo: dict[str, Any], *, entry: str | None) -> dict[str, Any]:
        """A detail page's memo as read or confirmed today, with the list entry that led to it if any."""
        stamped = {key: value for key, value in memo.items() if key not in ("entry", "day")}
        if entry is not None:
            stamped["entry"] = entry
        if self.day is not None:
            stamped["day"] = self.day
        return stamped

    def cursor(self) -> dict[str, Any]:
        return {"lists": self.lists_out, "pages": self.pages_out, "html_end": self.html_end}
