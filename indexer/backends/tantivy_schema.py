"""The layout of the derived tantivy index: the same tokens as the FTS5 table, facet codes as fast fields.

One tantivy document per live `docs` row, keyed by its rowid (`id`, indexed and fast, so a re-applied change
deletes the old copy first), its uid in a string fast field (`uid`: what orders records of equal score, so that
a theme's records tied at score 0 come in uid order from the engine instead of all being read and sorted).
Three text fields, one per query field group (weighted_fields.WEIGHTED_FIELDS, as Elasticsearch holds them too),
hold the FTS5 columns' space-separated jieba tokens, split again by a tokenizer that cuts where FTS5's unicode61
does (at anything not a letter or digit) and lowercases, so a query token meets the same terms in both engines.
Facets are the `docs` codes (sqlite_schema.FACET_COLUMNS, the one list of facets): a mask facet (theme,
audience) as one value per set bit (what filters match), and its whole mask once more in a single-valued fast
field (MASK_FIELDS, what facet counts read), the others as their code, and the codes of the single-valued facets
a search counts once more packed into one fast field (PACKED_FIELD), so one aggregation counts them all.
`ENGINE_VERSION` changes whenever this layout or its analysis changes; an index of another version is rebuilt.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import tantivy

from indexer.backends.base import FACET_FIELDS as COUNTED_FACETS
from indexer.backends.sqlite_schema import FACET_COLUMNS, FTS_COLUMNS, MASK_FACETS
from indexer.backends.weighted_fields import WEIGHTED_FIELDS, weighted_texts

PACKED_FACETS = tuple(facet for facet in COUNTED_FACETS if facet not in MASK_FACETS)
"""The single-valued facets a search counts (platform, media type, is_free, region), whose codes PACKED_FIELD holds."""
ENGINE_VERSION = "6:" + ",".join(FACET_COLUMNS.values()) + ":" + ",".join(PACKED_FACETS)
"""Changes with the layout: a new facet column (sqlite_schema.FACET_COLUMNS) or counted facet makes older
directories rebuild."""
TOKENIZER = "edufed_tokens"
ID_FIELD = "id"
UID_FIELD = "uid"
"""The record's uid (the `docs` column of that name) as a string fast field, in the byte order SQLite's BINARY
collation and Python's str comparison give: a search ordered by it (`order_by_field`) pages records of equal score
as the FTS5 path and Elasticsearch order them."""
SORT_FIELDS = ("sort_date", "popularity")
FACET_FIELDS = dict(FACET_COLUMNS)
"""Facet -> the docs column it is stored in, and the tantivy field of the same name."""
MASK_FIELDS = {facet: f"{FACET_FIELDS[facet]}_whole" for facet in MASK_FACETS}
"""Mask facet -> the fast field holding each record's whole mask (one value a record). A terms aggregation over
it visits one value per match and returns the few distinct masks, which split into the per-bit counts; over the
multi-valued bits field the same counts took 8-10 times as long (at 20k records, 老年: 0.8 ms a facet against 0.06
ms for a single-valued one)."""
PACKED_FIELD = "facet_codes"
"""Each record's PACKED_FACETS codes in one value (`packed`): one terms aggregation over it returns the few distinct
combinations among the matches, which `unpacked` splits into each facet's counts. Counting four facets over their
own fields took about twice as long (at 100k records, six facets 110-1,200 us a query against 55-670 us for the
two mask fields and one more)."""
_EXACT_KEY_BITS = 52
"""A terms aggregation returns its keys as doubles, exact below 2**53: a packed value and PACK_OVERFLOW stay below."""
PACK_BITS = _EXACT_KEY_BITS // len(PACKED_FACETS)
"""Bits of each code in a packed value (13 for four facets; codes count up from 0 or 1 per facet)."""
PACK_OVERFLOW = 1 << _EXACT_KEY_BITS
"""The packed value of a record with a code that does not fit PACK_BITS: a search meeting it counts those facets
over their own fields instead."""
_PACK_MASK = (1 << PACK_BITS) - 1
ROW_COLUMNS = (ID_FIELD, *FACET_FIELDS.values(), *SORT_FIELDS, UID_FIELD)
"""The docs columns a tantivy document is made of, in the order `document` takes them, then FTS_COLUMNS."""


def analyzer() -> tantivy.TextAnalyzer:
    """Splits at what is not a letter or digit and lowercases, as FTS5's unicode61 tokenizer does."""
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.lowercase()).build()


def schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field(ID_FIELD, indexed=True, fast=True)
    builder.add_text_field(UID_FIELD, fast=True, tokenizer_name="raw", index_option="basic")
    for column in FACET_FIELDS.values():
        builder.add_unsigned_field(column, indexed=True, fast=True)
    for column in MASK_FIELDS.values():
        builder.add_unsigned_field(column, fast=True)
    builder.add_unsigned_field(PACKED_FIELD, fast=True)
    for name in WEIGHTED_FIELDS.values():
        builder.add_text_field(name, tokenizer_name=TOKENIZER, index_option="position")
    for column in SORT_FIELDS:
        builder.add_integer_field(column, fast=True)
    return builder.build()


def document(row: Sequence[object]) -> tantivy.Document:
    """The tantivy document of one row of ROW_COLUMNS followed by the FTS_COLUMNS texts."""
    doc = tantivy.Document()
    values = dict(zip(ROW_COLUMNS, row, strict=False))
    doc.add_unsigned(ID_FIELD, int(values[ID_FIELD]))  # type: ignore[call-overload]
    for facet, column in FACET_FIELDS.items():
        value = int(values[column])  # type: ignore[call-overload]
        for code in set_bits(value) if facet in MASK_FACETS else (value,):
            doc.add_unsigned(column, code)
        if facet in MASK_FIELDS:
            doc.add_unsigned(MASK_FIELDS[facet], value)
    doc.add_unsigned(PACKED_FIELD, packed([int(values[FACET_FIELDS[f]]) for f in PACKED_FACETS]))  # type: ignore[call-overload]
    for column in SORT_FIELDS:
        doc.add_integer(column, int(values[column]))  # type: ignore[call-overload]
    doc.add_text(UID_FIELD, str(values[UID_FIELD]))
    texts = dict(zip(FTS_COLUMNS, (str(text or "") for text in row[len(ROW_COLUMNS) :]), strict=True))
    for name, text in weighted_texts(texts).items():
        doc.add_text(name, text)
    return doc


def packed(codes: Sequence[int]) -> int:
    """The PACKED_FACETS codes (in that order) as one value, or PACK_OVERFLOW when one does not fit."""
    if any(not 0 <= code <= _PACK_MASK for code in codes):
        return PACK_OVERFLOW
    value = 0
    for at, code in enumerate(codes):
        value |= code << (at * PACK_BITS)
    return value


def unpacked(value: int) -> tuple[int, ...]:
    """The PACKED_FACETS codes of a `packed` value (not PACK_OVERFLOW)."""
    return tuple(value >> (at * PACK_BITS) & _PACK_MASK for at in range(len(PACKED_FACETS)))


def unpacked_codes(values: npt.NDArray[np.int64], at: int) -> npt.NDArray[np.int64]:
    """The codes of the `at`-th of PACKED_FACETS in each of the `packed` values (none PACK_OVERFLOW)."""
    return (values >> (at * PACK_BITS)) & _PACK_MASK


@functools.lru_cache(maxsize=4096)
def set_bits(mask: int) -> tuple[int, ...]:
    """The set bits of a facet mask: a facet's few hundred distinct masks recur in every document and search."""
    return tuple(bit for bit in range(mask.bit_length()) if mask >> bit & 1)
