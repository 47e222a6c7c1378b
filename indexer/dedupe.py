"""Cross-platform dedupe: the same course on several platforms shares one cluster id."""

from __future__ import annotations

import hashlib
import re

from indexer.analysis import fold

MIN_KEY_CHARS = 6
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_BRACKETED = re.compile(r"[（(【\[][^）)】\]]{0,12}[）)】\]]")


def title_key(title: str) -> str:
    """The title reduced to what identifies a course: folded, bracketed remarks and punctuation dropped."""
    return _NOISE.sub("", _BRACKETED.sub("", fold(title)))


def cluster_id(title: str) -> str | None:
    """A cluster id for titles specific enough to identify one course (at least six characters once reduced).

    Short titles such as 书法 or 太极拳 name a subject, not a course, so they are never clustered.
    """
    key = title_key(title)
    if len(key) < MIN_KEY_CHARS:
        return None
    return "c" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
