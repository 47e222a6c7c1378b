"""Why the linker missed a labelled duplicate or merged a hard negative: the pair, its block, the verdict.

For whoever tunes record linkage: each labelled pair the clusters got wrong, with whether the two records
share a blocking key (if not, no write ever compares them) and the matcher's verdict on the pair alone (the veto
that refused it, or the evidence it had when only a veto elsewhere in the cluster kept them apart).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from indexer.linkage import compare, profile_of
from indexer.record import Record


def wrong_pairs(
    records: Mapping[str, Record],
    merged: set[tuple[str, str]],
    *,
    same: Mapping[tuple[str, str], str],
    different: Mapping[tuple[str, str], str],
) -> list[dict[str, Any]]:
    """Every missed duplicate and merged hard negative, as rows for the report and the JSON file."""
    wrong = [(pair, "missed", kind) for pair, kind in sorted(same.items()) if pair not in merged]
    wrong += [(pair, "merged", kind) for pair, kind in sorted(different.items()) if pair in merged]
    rows = []
    for (a, b), what, kind in wrong:
        pa, pb = profile_of(records[a]), profile_of(records[b])
        verdict = compare(pa, pb)
        rows.append({
            "what": what, "kind": kind, "a": a, "b": b, "titles": [records[a].title, records[b].title],
            "blocked": bool(set(pa.blocking_keys()) & set(pb.blocking_keys())),
            "verdict": verdict.text() if verdict.same else f"veto: {verdict.veto}",
        })  # fmt: skip
    return rows


def explained(report: dict[str, Any], count: int) -> str:
    """The first `count` wrong pairs of each kind, one line each."""
    lines = [f"linkage mistakes on {report['backend']} (missed duplicates, merged hard negatives):"]
    shown: dict[tuple[str, str], int] = {}
    for row in sorted(report.get("pairs", []), key=lambda r: (r["what"], r["kind"])):
        key = (row["what"], row["kind"])
        shown[key] = shown.get(key, 0) + 1
        if shown[key] > count:
            continue
        block = "same block" if row["blocked"] else "NO SHARED BLOCK"
        lines.append(f"  {row['what']} {row['kind']}: {row['titles'][0]} | {row['titles'][1]} — {block}; "
                     f"{row['verdict']}")  # fmt: skip
    lines += [f"  ({n} {what} {kind} in all)" for (what, kind), n in sorted(shown.items()) if n > count]
    if len(lines) == 1:
        lines.append("  none")
    return "\n".join(lines)
