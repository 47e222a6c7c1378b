"""A record's indexed text, the same for every backend: indexer.analysis applied to its fields."""

from __future__ import annotations

from indexer.analysis import DocumentText, analyze_document
from indexer.record import Record


def record_text(record: Record) -> DocumentText:
    """The analyzed fields of one record, reusing the folds its builder computed when it carries them."""
    return analyze_document(
        title=record.title,
        subtitle=record.subtitle or "",
        tags=" ".join(record.tags),
        description=record.description or "",
        people=" ".join(" ".join(filter(None, (p.name, p.title, p.org))) for p in record.instructors),
        provider=record.provider.name if record.provider else "",
        folded=record.known_folds(),
    )
