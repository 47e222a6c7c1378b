"""The weighted text fields both search engines score a query in: one field per query field group.

A query's alternative (indexer.analysis.Alternative) searches one field group: the six text columns, the title
pinyin or the title characters. Each group is indexed once more as one field in which every column's tokens are
repeated as many times as the column's bm25 weight (sqlite_schema.BM25_WEIGHTS, the FTS5 column weights), with
CHARS_BOUNDARY between copies so that no phrase spans two. A token or phrase then scores there as one bm25 over
the weighted sum of its counts in the group's columns, normalized by the group's weighted length, as FTS5 scores
a phrase. The derived tantivy index (tantivy_schema) and the Elasticsearch documents (es_mapping) hold the same
fields made by `weighted_texts`, so both engines rank a query alike.
"""

from __future__ import annotations

from collections.abc import Mapping

from indexer.analysis import CHARS_BOUNDARY, TEXT_FIELDS
from indexer.backends.sqlite_schema import BM25_WEIGHTS, FTS_COLUMNS

WEIGHTED_FIELDS = {"text": "w_text", "pinyin": "w_pinyin", "chars": "w_chars"}
"""Query field group -> its weighted field."""
COLUMN_WEIGHTS: dict[str, float] = dict(zip(FTS_COLUMNS, BM25_WEIGHTS, strict=True))
"""Column -> how many times its text is repeated in its group's weighted field."""
GROUP_COLUMNS: dict[str, tuple[str, ...]] = {"text": TEXT_FIELDS, "pinyin": ("pinyin",), "chars": ("chars",)}
"""Query field group -> the columns it searches."""
_SEPARATOR = f" {CHARS_BOUNDARY} "


def weighted_texts(columns: Mapping[str, str | None]) -> dict[str, str]:
    """Weighted field -> its text, from the columns' space-separated tokens (FTS_COLUMNS names); a group whose
    columns are all empty is left out."""
    texts = {}
    for group, field in WEIGHTED_FIELDS.items():
        copies = [
            text
            for column in GROUP_COLUMNS[group]
            if (text := columns.get(column))
            for _ in range(int(COLUMN_WEIGHTS[column]))
        ]
        if copies:
            texts[field] = _SEPARATOR.join(copies)
    return texts
