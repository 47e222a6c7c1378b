"""Linkage inside one SQLite write: candidates by stored blocking key, cluster members, cluster ids written.

A cluster id lives in `docs.cluster_id` (the "also on" lookup) and in the record's stored JSON; the evidence
of each cluster in `clusters`. Everything happens in the caller's write transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping, Sequence

from indexer.backends.sqlite_link_keys import ids_in_ranges, lookup_ranges
from indexer.backends.sqlite_payload import PayloadWriter, payload_text
from indexer.linkage import ClusterLink, ClusterView, LinkEvidence, LinkProfile
from indexer.linkage.incremental import Linker
from indexer.record import Record


class SqliteLinkStore:
    """indexer.linkage.LinkStore on one connection (inside its transaction)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def link_candidates(self, profiles: Sequence[LinkProfile], *, skip: Collection[str], limit: int) -> list[Record]:
        # by code ranges (sqlite_link_keys): a code two keys share only adds a candidate the matcher judges
        ids = sorted(ids_in_ranges(self.conn, lookup_ranges(profiles)))
        skipped = set(skip)
        wanted: list[object] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = f"SELECT id, uid FROM docs WHERE id IN ({', '.join('?' * len(chunk))}) ORDER BY id"
            wanted.extend(row_id for row_id, uid in self.conn.execute(sql, chunk) if uid not in skipped)
            if len(wanted) >= limit:
                break
        return self._records("SELECT json FROM payloads WHERE id IN ({})", wanted[:limit])

    def records_of(self, uids: Collection[str]) -> list[Record]:
        """The stored records of these uids (the unknown ones left out)."""
        return self._records("SELECT p.json FROM docs d JOIN payloads p ON p.id = d.id WHERE d.uid IN ({})", list(uids))

    def cluster_members(self, cluster_ids: Collection[str]) -> list[Record]:
        return self._records(
            "SELECT p.json FROM docs d JOIN payloads p ON p.id = d.id WHERE d.cluster_id IN ({})", list(cluster_ids)
        )

    def _records(self, sql: str, params: list[object]) -> list[Record]:
        found: list[Record] = []
        for start in range(0, len(params), 500):
            chunk = params[start : start + 500]
            rows = self.conn.execute(sql.format(", ".join("?" * len(chunk))), chunk)
            found.extend(Record.model_validate_json(payload_text(payload, self.conn)) for (payload,) in rows)
        return found

    def write_links(self, links: Mapping[str, ClusterLink | None], *, records: Mapping[str, Record]) -> None:
        self.write_cluster_ids(links, before={uid: r.cluster_id for uid, r in records.items()})

    def write_cluster_ids(self, links: Mapping[str, ClusterLink | None], *, before: Mapping[str, str | None]) -> None:
        """Store each uid's cluster where it changed; `before` holds the cluster ids stored now (a bulk run
        keeps only those, not a million records)."""
        changed = [
            (link.cluster_id if link else None, uid)
            for uid, link in links.items()
            if (link.cluster_id if link else None) != before[uid]
        ]
        self.conn.executemany("UPDATE docs SET cluster_id = ? WHERE uid = ?", changed)
        self._set_payload_clusters(changed)
        evidence = {link.cluster_id: link.evidence for link in links.values() if link}
        self.conn.executemany(
            "INSERT OR REPLACE INTO clusters (cluster_id, evidence) VALUES (?, ?)",
            [(cid, _evidence_json(items)) for cid, items in evidence.items()],
        )
        gone = [(cid,) for cid in {c for c in before.values() if c} - set(evidence)]
        self.conn.executemany(
            "DELETE FROM clusters WHERE cluster_id = ?1 AND NOT EXISTS (SELECT 1 FROM docs WHERE cluster_id = ?1)",
            gone,
        )

    def _set_payload_clusters(self, changed: list[tuple[str | None, str]]) -> None:
        """Each stored record JSON's cluster_id set to its new (cluster id, uid), compressed again."""
        writer = PayloadWriter(self.conn) if changed else None
        for start in range(0, len(changed), 500):
            cluster = {uid: cluster_id for cluster_id, uid in changed[start : start + 500]}
            sql = "SELECT d.uid, p.id, p.json FROM docs d JOIN payloads p ON p.id = d.id WHERE d.uid IN ({})"
            rows = self.conn.execute(sql.format(", ".join("?" * len(cluster))), list(cluster)).fetchall()
            updates = []
            for uid, row_id, payload in rows:
                data = json.loads(payload_text(payload, self.conn))
                data["cluster_id"] = cluster[uid]
                text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
                updates.append((writer.pack(text) if writer else text, row_id))
            self.conn.executemany("UPDATE payloads SET json = ? WHERE id = ?", updates)


def cluster_view(conn: sqlite3.Connection, uid: str) -> ClusterView | None:
    """The cluster of a record, or None when it is a course on its own (or unknown)."""
    row = conn.execute("SELECT cluster_id FROM docs WHERE uid = ?", (uid,)).fetchone()
    if row is None or row[0] is None:
        return None
    members = SqliteLinkStore(conn).cluster_members([row[0]])
    stored = conn.execute("SELECT evidence FROM clusters WHERE cluster_id = ?", (row[0],)).fetchone()
    return ClusterView(
        cluster_id=str(row[0]),
        members=sorted(members, key=lambda r: r.uid),
        evidence=evidence_from_json(str(stored[0])) if stored else [],
    )


def _evidence_json(items: tuple[LinkEvidence, ...]) -> str:
    return json.dumps([[e.a, e.b, e.text] for e in items], ensure_ascii=False)


def evidence_from_json(text: str) -> list[LinkEvidence]:
    """Stored evidence back as LinkEvidence."""
    return [LinkEvidence(a=a, b=b, text=t) for a, b, t in json.loads(text)]


def link_stored_chunk(conn: sqlite3.Connection, linker: Linker, *, after: int, size: int = 500) -> int | None:
    """Re-link the next `size` stored records by rowid after `after` (and the groups they close over), inside
    the caller's transaction; returns the last rowid done, None when no record is left. Linking a whole index
    chunk by chunk holds one group at a time, not a profile of every record (5 KB each: 5 GB at 1M)."""
    rows = conn.execute(
        "SELECT d.id, p.json FROM docs d JOIN payloads p ON p.id = d.id WHERE d.id > ? ORDER BY d.id LIMIT ?",
        (after, size),
    ).fetchall()
    if not rows:
        return None
    records = [Record.model_validate_json(payload_text(payload, conn)) for _, payload in rows]
    old_clusters = {r.cluster_id for r in records if r.cluster_id}
    linker.relink(SqliteLinkStore(conn), arrived=records, old_clusters=old_clusters)
    return int(rows[-1][0])
