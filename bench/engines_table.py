"""bench_engines' report: answers compared against bare tantivy, and the side-by-side markdown table.

Every column is one way of answering the same queries (bare tantivy, the bare FTS5 query, the edufed backend
per search engine in-process and through the HTTP API); each cell says its figure and how many times bare
tantivy's it is (latency, disk, memory: the column's over tantivy's; throughput: tantivy's over the column's),
the way issue 17's table reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

BARE_TANTIVY = "bare tantivy"
BARE_TANTIVY_MASKS = "bare tantivy, masks"
"""The same bare index counting theme and audience over whole-mask fields, as the backend does."""
ROWS: list[tuple[str, str]] = [
    ("common_facets", "common words (老年, 健康, 手机, 入门, 养生) with facets, p50 / p99"),
    ("common_top10", "common words, top-10 only, p50 / p99"),
    ("typical_facets", "typical text queries with facets, p50 / p99"),
    ("typical_top10", "typical text queries, top-10 only, p50 / p99"),
    ("browse", "browse (no query), p50 / p99"),
    ("filtered", "filtered (text + filters), p50 / p99"),
]


def disagreements(
    reference: Mapping[str, Mapping[str, Any]], other: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Every query both answered where the totals, or the counts of the reference's facets, differ (facets only
    when both have them; a facet only the other has is not compared); a query only one answered is not either."""
    found = []
    for query, expected in reference.items():
        got = other.get(query)
        if got is None:
            continue
        if "total" in got and expected["total"] != got["total"]:
            found.append({"query": query, "field": "total", BARE_TANTIVY: expected["total"], "other": got["total"]})
        if "facets" in expected and "facets" in got:
            theirs = {facet: got["facets"].get(facet) for facet in expected["facets"]}
            if theirs != expected["facets"]:
                found.append({"query": query, "field": "facets", BARE_TANTIVY: expected["facets"], "other": theirs})
    return found


def compared(reference: Mapping[str, Mapping[str, Any]], other: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """How many queries both answered, how many agree on total and facets, and the disagreements."""
    both = [q for q in reference if q in other]
    differ = disagreements(reference, other)
    return {"queries": len(both), "agree": len(both) - len({d["query"] for d in differ}), "disagreements": differ}


def ratio(value: float | None, base: float | None, *, higher_is_better: bool = False) -> str:
    """How many times tantivy's cost this is: `20×`, `0.52×`; empty when either is missing or zero."""
    if not value or not base:
        return ""
    times = base / value if higher_is_better else value / base
    return f"{times:.2g}×" if times < 10 else f"{times:,.0f}×"


def number(value: float | None) -> str:
    """A latency or size as the issue writes it: 2,037 · 95.2 · 2.6 · 0.42."""
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def latency_cell(found: Mapping[str, Any] | None, base: Mapping[str, Any] | None) -> str:
    if not found:
        return "—"
    text = f"{number(found.get('p50'))} / {number(found.get('p99'))} ms"
    if base is None or found is base:
        return text
    times = [ratio(found.get(p), base.get(p)) for p in ("p50", "p99")]
    return f"{text} ({' / '.join(times)})" if all(times) else text


def mix_cell(found: Mapping[str, Any] | None, base: Mapping[str, Any] | None) -> str:
    if not found:
        return "—"
    all_ = found["latency_ms"].get("all", {})
    text = f"{found['throughput_rps']:,.1f} req/s, p50 {number(all_.get('p50'))} / p99 {number(all_.get('p99'))} ms"
    if found.get("error_count"):
        text += f", {found['error_count']} errors"
    if base is None or found is base:
        return text
    base_p99 = base["latency_ms"].get("all", {}).get("p99")
    times = [ratio(found["throughput_rps"], base["throughput_rps"], higher_is_better=True),
             ratio(all_.get("p99"), base_p99)]  # fmt: skip
    return f"{text} ({' / '.join(times)})" if all(times) else text


def size_cell(megabytes: float | None, base: float | None) -> str:
    if megabytes is None:
        return "—"
    text = f"{megabytes / 1024:.2f} GB" if megabytes >= 1024 else f"{megabytes:,.0f} MB"
    times = ratio(megabytes, base) if base is not None and megabytes is not base else ""
    return f"{text} ({times})" if times else text


def table(
    columns: Sequence[tuple[str, Mapping[str, Any]]], *, records: int | None = None, base_name: str = BARE_TANTIVY
) -> str:
    """The markdown table: one column per (name, result of that column's part), bare tantivy's first, each cell's
    ratio to the `base_name` column; a part with `pending` (an engine this checkout does not have) says `pending`
    in every row."""
    base = dict(columns).get(base_name, {})
    names = [name for name, _ in columns]
    corner = f"{records:,} records" if records is not None else "records"
    lines = [f"| {corner} | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]

    def row(title: str, cell: Callable[[Mapping[str, Any]], str]) -> None:
        cells = ["pending" if part.get("pending") else cell(part) for _, part in columns]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")

    for key, title in ROWS:
        row(title, partial(_class_cell, key=key, base=base))
    row("8 clients, full query mix: throughput, p50 / p99", lambda part: mix_cell(part.get("mix"), base.get("mix")))
    row("disk", lambda part: size_cell(part.get("disk_mb"), base.get("disk_mb")))
    row("RSS after the mix", lambda part: size_cell(part.get("rss_after_mix_mb"), base.get("rss_after_mix_mb")))
    row("totals and facets as bare tantivy's", _agreement)
    return "\n".join(lines)


def _class_cell(part: Mapping[str, Any], *, key: str, base: Mapping[str, Any]) -> str:
    return latency_cell(part.get("one_client", {}).get(key), base.get("one_client", {}).get(key))


def _agreement(part: Mapping[str, Any]) -> str:
    found = part.get("compared")
    if not found:
        return "—"
    return f"{found['agree']} of {found['queries']} queries"
