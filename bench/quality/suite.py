"""Run the quality suite on one backend: harvest the corpus from its local platforms, search, measure.

The corpus reaches the index the way a real harvest does (`crawlers.run.harvest` fetching each platform's
payloads over HTTP from 127.0.0.1), so normalisation, theme classification and clustering all apply; queries go
through the backend's search as the API's (collapse off: every record is ranked).
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.quality.corpus import Corpus, build_corpus, judgements_file
from bench.quality.explain import wrong_pairs
from bench.quality.judge import OUTSIDE_ALL, Judgement, load_judgements
from bench.quality.metrics import clustered_pairs, ndcg, pair_figures, recall, reciprocal_rank, theme_figures
from bench.quality.platforms import routes, sources
from bench.quality.server import serve
from config.loader import load_themes
from config.settings import HttpSettings, IndexSettings, Settings
from crawlers.run import harvest
from indexer.backends import open_backend
from indexer.backends.base import IndexBackend, SearchQuery
from indexer.pipeline import RecordBuilder

BACKENDS = ("sqlite", "elasticsearch")
"""What `--backend both` runs: the embedded default and the shared backend."""
SQLITE_FTS5 = "sqlite-fts5"
"""The SQLite backend with its other search engine (`index.search_engine: fts5`), run by name only."""
DEPTH = 50


class SuiteError(RuntimeError):
    """The suite could not measure: a platform's harvest failed, or judgements do not fit the corpus."""


def run_suite(backend_kind: str, *, es_url: str | None = None, sample: int | None = None,
              corpus_name: str = "main") -> dict[str, Any]:  # fmt: skip
    """Figures (flat name -> value) and per-query rows for one backend (`sqlite`, `elasticsearch`, or `sqlite-fts5`:
    SQLite with its FTS5 search engine in place of the default).

    `sample` keeps only the first that many queries of each class (for an engine too slow to answer them all
    in CI); its figures are named `<backend>-sample<n>` and have floors of their own. `corpus_name` picks the
    corpus and its judgements (bench/quality/corpus.py CORPORA: `main`, the held-out set `heldout`, the
    held-out corpus with its second query set `heldout2`, the third held-out set `heldout3`, the third held-out
    corpus with its second query set `heldout4`, or the fourth held-out set `heldout5`).
    """
    corpus = build_corpus(name=corpus_name)
    judgements = load_judgements(judgements_file(corpus_name))
    if sample is not None:
        judgements = sample_queries(judgements, sample)
    labels = corpus.labels()
    _check_judgements(judgements, labels)
    with tempfile.TemporaryDirectory(prefix="edufed-quality-") as work, \
            _backend(backend_kind, Path(work), es_url=es_url) as (backend, settings):  # fmt: skip
        started = time.perf_counter()
        _index(corpus, backend, settings)
        indexed = time.perf_counter()
        figures, rows = _relevance(backend, judgements, labels)
        searched = time.perf_counter()
        records = {record.uid: record for record in backend.iter_records()}
    missing = set(labels) - set(records)
    if missing:
        raise SuiteError(f"{len(missing)} labelled records never reached the index, e.g. {sorted(missing)[:3]}")
    merged = clustered_pairs({uid: r.cluster_id for uid, r in records.items() if uid in labels})
    figures.update({f"duplicates.{k}": v for k, v in
                    pair_figures(merged, corpus.duplicate_pairs, corpus.hard_negatives).items()})  # fmt: skip
    pairs = wrong_pairs(records, merged, same=corpus.duplicate_pairs, different=corpus.hard_negatives)
    figures.update(_themes(labels, {uid: r.themes for uid, r in records.items()}))
    figures.update({"corpus.records": float(len(labels)), "corpus.queries": float(len(judgements)),
                    "seconds.index": indexed - started, "seconds.search": searched - indexed})  # fmt: skip
    name = backend_kind if sample is None else f"{backend_kind}-sample{sample}"
    return {"backend": name, "corpus": corpus_name, "figures": figures, "queries": rows, "pairs": pairs}


def sample_queries(judgements: list[Judgement], per_class: int) -> list[Judgement]:
    """The first `per_class` queries of every class, in file order."""
    taken: dict[str, int] = defaultdict(int)
    kept = []
    for judgement in judgements:
        if taken[judgement.query_class] < per_class:
            taken[judgement.query_class] += 1
            kept.append(judgement)
    return kept


def _check_judgements(judgements: list[Judgement], labels: dict[str, dict[str, Any]]) -> None:
    for judgement in judgements:
        relevant = [g for g in judgement.grades(labels).values() if g >= 2]
        if judgement.rows and not relevant:
            raise SuiteError(f"query {judgement.name!r}: no record of the corpus is graded 2 or 3")


@contextmanager
def _backend(kind: str, work: Path, *, es_url: str | None) -> Iterator[tuple[IndexBackend, Settings]]:
    http = HttpSettings(delay_seconds=0, retries=0, backoff_seconds=0, timeout_seconds=10,
                        allow_private_hosts=["127.0.0.1"])  # fmt: skip
    if kind in ("sqlite", SQLITE_FTS5):
        engine = "fts5" if kind == SQLITE_FTS5 else IndexSettings().search_engine
        settings = Settings(data_dir=work, http=http, index=IndexSettings(search_engine=engine))
        backend = open_backend(settings)
        try:
            yield backend, settings
        finally:
            backend.close()
        return
    if kind != "elasticsearch":
        raise SuiteError(f"unknown backend {kind!r}: one of {', '.join((*BACKENDS, SQLITE_FTS5))}")
    with _elasticsearch_url(es_url) as url:
        index = IndexSettings(backend="elasticsearch", url=url, es_replicas=0,
                              es_alias=f"edufed-quality-{uuid.uuid4().hex[:10]}")  # fmt: skip
        settings = Settings(data_dir=work, http=http, index=index)
        backend = open_backend(settings)
        try:
            yield backend, settings
        finally:
            drop = getattr(backend, "drop", None)
            if callable(drop):
                drop()
            backend.close()


@contextmanager
def _elasticsearch_url(given: str | None) -> Iterator[str]:
    """`given`, ELASTICSEARCH_URL, or a noida-db engine started for the run (tests/support/noida.py)."""
    if given:
        yield given
        return
    from tests.support.noida import elasticsearch_engine

    with elasticsearch_engine() as url:
        yield url


def _index(corpus: Corpus, backend: IndexBackend, settings: Settings) -> None:
    builder = RecordBuilder(load_themes())
    with serve(routes(corpus)) as base_url:
        for source in sources(base_url):
            report = harvest(source, settings=settings, backend=backend, builder=builder)
            if report.error or report.rejected:
                raise SuiteError(f"harvest of {source.id} failed: {report.error or report.rejected}")


def _relevance(backend: IndexBackend, judgements: list[Judgement],
               labels: dict[str, dict[str, Any]]) -> tuple[dict[str, float], list[dict[str, Any]]]:  # fmt: skip
    rows: list[dict[str, Any]] = []
    by_class: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for judgement in judgements:
        query = SearchQuery(q=judgement.q, themes=(judgement.theme,) if judgement.theme else (), size=DEPTH,
                            with_facets=False)  # fmt: skip
        result = backend.search(query)
        ranked = [hit.record.uid for hit in result.hits]
        grades = judgement.grades(labels)
        row: dict[str, Any] = {"q": judgement.q, "theme": judgement.theme, "class": judgement.query_class,
                               "total": result.total, "relaxed": result.relaxed, "top": ranked[:10],
                               "top_titles": [hit.record.title for hit in result.hits[:10]],
                               "top_scores": [hit.score for hit in result.hits[:10]],
                               "grades_top": [grades.get(uid, 0) for uid in ranked[:10]]}  # fmt: skip
        if grades:
            row.update({"ndcg@10": ndcg(ranked, grades), "recall@50": recall(ranked, grades, DEPTH),
                        "mrr": reciprocal_rank(ranked, grades)})  # fmt: skip
        else:
            row["empty"] = 1.0 if result.total == 0 else 0.0
        rows.append(row)
        by_class[judgement.query_class].append(row)
        if grades and judgement.query_class not in OUTSIDE_ALL:
            by_class["all"].append(row)
    figures: dict[str, float] = {}
    for name, members in by_class.items():
        for measure in ("ndcg@10", "recall@50", "mrr", "empty"):
            values = [row[measure] for row in members if measure in row]
            if values:
                key = "empty_rate" if measure == "empty" else measure
                figures[f"relevance.{name}.{key}"] = sum(values) / len(values)
    return figures, rows


def _themes(labels: dict[str, dict[str, Any]], found: dict[str, list[str]]) -> dict[str, float]:
    truth = {uid: label["themes"] for uid, label in labels.items()}
    figures = {f"themes.{k}": v for k, v in theme_figures(truth, found).items()}
    for platform in sorted({label["platform"] for label in labels.values()}):
        truth = {u: label["themes"] for u, label in labels.items() if label["platform"] == platform}
        figures[f"themes.macro_f1.{platform}"] = theme_figures(truth, found)["macro_f1"]
    figures["themes.unthemed_share"] = sum(1 for uid in labels if not found.get(uid)) / len(labels)
    return figures
