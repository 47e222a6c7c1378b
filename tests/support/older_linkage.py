"""Make a SQLite index file look as an edufed of older linkage rules linked it, for the linkage version tests.

The file is written by this edufed, then: `meta` loses the linkage version (that edufed recorded none); the records
`apart` name keep blocking key codes that meet no other record (what the older rules made of a title they did not
unwrap, 健康频道｜萨克斯演奏) and no cluster; each group of `merged` is one cluster, as older rules that did not read a
course line's parts (理论篇 / 实操篇) made it. The derived search index is untouched: clusters are not in it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from indexer.backends.sqlite_link_keys import insert_link_keys, key_code
from indexer.backends.sqlite_links import SqliteLinkStore
from indexer.linkage import ClusterLink, LinkEvidence, cluster_id_for


def to_older_linkage(path: Path, *, apart: Sequence[str] = (), merged: Sequence[Sequence[str]] = ()) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM meta WHERE key = 'linkage'")
        marks = ", ".join("?" * len(apart))
        rows = dict(conn.execute(f"SELECT uid, id FROM docs WHERE uid IN ({marks})", list(apart)).fetchall())
        conn.execute(f"DELETE FROM link_key_ids WHERE id IN ({', '.join('?' * len(rows))})", list(rows.values()))
        insert_link_keys(conn, [(row_id, [key_code(f"t-older-{uid}")]) for uid, row_id in rows.items()])
        store = SqliteLinkStore(conn)
        before = dict(conn.execute(f"SELECT uid, cluster_id FROM docs WHERE uid IN ({marks})", list(apart)))
        store.write_cluster_ids(dict.fromkeys(apart), before=before)
        for group in merged:
            link = ClusterLink(cluster_id_for(group), (LinkEvidence(group[0], group[1], "标题相同"),))
            marks = ", ".join("?" * len(group))
            before = dict(conn.execute(f"SELECT uid, cluster_id FROM docs WHERE uid IN ({marks})", list(group)))
            store.write_cluster_ids(dict.fromkeys(group, link), before=before)
        conn.execute("COMMIT")
    finally:
        conn.close()
