"""A record's indexed text, the same for every backend: indexer.analysis applied to its fields."""

from __future__ import annotations

from indexer.analysis import DocumentText, analyze_document
from indexer.record import Record


def record_text(record: Record) -> DocumentText:
    """The analyzed fields of one record, reusing the folds its builder computed when it carries them, or the
    whole analysis when it was done ahead for exactly these texts (`analyse_ahead`)."""
    texts = _texts(record)
    known: DocumentText | None = record.known_text(texts)
    if known is not None:
        return known
    title, subtitle, tags, description, people, provider = texts
    return analyze_document(
        title=title, subtitle=subtitle, tags=tags, description=description, people=people, provider=provider,
        folded=record.known_folds(),
    )  # fmt: skip


def remember_analysis(record: Record, analysed: DocumentText) -> None:
    """Keep `analysed` as the analysis of the record's present texts (an index read back what it stored for them)."""
    record.remember_text(_texts(record), analysed)


def analyse_ahead(record: Record) -> None:
    """Analyse the record now and keep the result on it (a reindex's worker processes do, not the writer)."""
    texts = _texts(record)
    record.remember_text(texts, record_text(record))
    record.remember_folds({})  # only the analysis used them


def _texts(record: Record) -> tuple[str, str, str, str, str, str]:
    return (
        record.title,
        record.subtitle or "",
        " ".join(record.tags),
        record.description or "",
        " ".join(" ".join(filter(None, (p.name, p.title, p.org))) for p in record.instructors),
        record.provider.name if record.provider else "",
    )
