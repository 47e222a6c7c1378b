"""The Elasticsearch index's change log for OAI-PMH: one document per uid in `<alias>-oai`, kept after withdrawal.

A document holds the uid, `stamp` (epoch microseconds, UTC) of the write that last changed the record or
withdrew it, `deleted`, and the record's set values (`platform`, `theme`, `programme`, `region`). It lives in its own
index beside the versioned record indices, so `rebuild` (a new record index and an alias swap) keeps every
datestamp and every deleted entry. The backend calls `written` after a bulk write and `withdrawn` after
deleting records; both stamp at that moment and refresh, so a listing sees the entry with the record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from indexer.backends.changes import SET_KINDS, Change, ChangeQuery, ChangeSets, now_stamp, set_values
from indexer.backends.es_bulk import BulkOptions, write
from indexer.backends.es_mapping import document_record
from indexer.errors import BulkWriteError
from indexer.record import Record

logger = logging.getLogger(__name__)

_MAPPING = {
    "dynamic": "strict",
    "properties": {
        "uid": {"type": "keyword"},
        "stamp": {"type": "long"},
        "deleted": {"type": "boolean"},
        **{kind: {"type": "keyword"} for kind in SET_KINDS},
    },
}
_MGET = 500
_MAX_SET_VALUES = 10_000


def oai_index(alias: str) -> str:
    """The change log index of a record alias (outside the alias's `-v*` pattern and template)."""
    return f"{alias}-oai"


class EsChangeLog:
    """Writes and reads the change log of one alias."""

    def __init__(self, client: Any, *, alias: str, bulk: BulkOptions) -> None:
        self.client = client
        self.alias = alias
        self.index = oai_index(alias)
        self.bulk = bulk
        if not client.indices.exists(index=self.index):
            client.options(ignore_status=400).indices.create(index=self.index, mappings=_MAPPING)
        else:  # a log made before a set kind was added (region) takes its field: an additive mapping change
            known = client.indices.get_mapping(index=self.index)[self.index]["mappings"].get("properties", {})
            if missing := [kind for kind in SET_KINDS if kind not in known]:
                client.indices.put_mapping(index=self.index, properties={k: {"type": "keyword"} for k in missing})

    def written(self, records: Iterable[Record]) -> None:
        """Stamp records a write changed (live, with their current sets)."""
        stamp = now_stamp()
        actions = (
            {"_op_type": "index", "_index": self.index, "_id": r.uid,
             "_source": {"uid": r.uid, "stamp": stamp, "deleted": False, **_sets(r)}}
            for r in records
        )  # fmt: skip
        self._write(actions)

    def withdrawn(self, uids: Iterable[str]) -> None:
        """Turn the live entries of withdrawn uids into deleted entries stamped now (their sets kept)."""
        wanted = list(dict.fromkeys(uids))
        live: list[str] = []
        for start in range(0, len(wanted), _MGET):
            found = self.client.mget(index=self.index, ids=wanted[start : start + _MGET], source_includes=["deleted"])
            live.extend(d["_id"] for d in found["docs"] if d.get("found") and not d["_source"].get("deleted"))
        stamp = now_stamp()
        self._write(
            {"_op_type": "update", "_index": self.index, "_id": uid, "doc": {"stamp": stamp, "deleted": True}}
            for uid in live
        )

    def keep_deleted(self, entries: Iterable[Change]) -> int:
        """Index the deleted entries whose uid has no document yet (existing entries are left as they are)."""
        added = 0
        batch: list[Change] = []
        for entry in (e for e in entries if e.deleted):
            batch.append(entry)
            if len(batch) == _MGET:
                added += self._keep(batch)
                batch = []
        return added + (self._keep(batch) if batch else 0)

    def _keep(self, batch: list[Change]) -> int:
        found = self.client.mget(index=self.index, ids=[e.uid for e in batch], source=False)
        known = {d["_id"] for d in found["docs"] if d.get("found")}
        fresh = {e.uid: e for e in batch if e.uid not in known}
        self._write(
            {"_op_type": "index", "_index": self.index, "_id": e.uid,
             "_source": {"uid": e.uid, "stamp": e.stamp, "deleted": True, **{k: list(v) for k, v in e.sets.items()}}}
            for e in fresh.values()
        )  # fmt: skip
        return len(fresh)

    def _write(self, actions: Iterator[dict[str, Any]]) -> None:
        outcome = write(self.client, actions, options=self.bulk)
        self.client.indices.refresh(index=self.index)
        if outcome.failed:
            raise BulkWriteError(f"{len(outcome.failed)} OAI change entries were not written", failed=outcome.failed)

    def changes(self, query: ChangeQuery) -> list[Change]:
        extra: dict[str, Any] = {"search_after": list(query.after)} if query.after else {}
        hits = self.client.search(
            index=self.index, query=_query(query), sort=[{"stamp": "asc"}, {"uid": "asc"}], size=query.limit,
            track_total_hits=False, **extra,
        )["hits"]["hits"]  # fmt: skip
        entries = [h["_source"] for h in hits]
        live = [e["uid"] for e in entries if not e.get("deleted")]
        records: dict[str, Record] = {}
        present: set[str] = set()
        for start in range(0, len(live), _MGET):
            ids = live[start : start + _MGET]
            found = (self.client.mget(index=self.alias, ids=ids, source_includes=["payload"]) if query.records
                     else self.client.mget(index=self.alias, ids=ids, source=False))  # fmt: skip
            present.update(d["_id"] for d in found["docs"] if d.get("found"))
            if query.records:
                records.update((d["_id"], document_record(d["_source"])) for d in found["docs"] if d.get("found"))
        return [
            Change(
                uid=e["uid"],
                stamp=int(e["stamp"]),
                # a live entry whose record is gone (a rebuild left it out) answers as deleted
                deleted=bool(e.get("deleted")) or e["uid"] not in present,
                sets={k: tuple(sorted(_list(e.get(k)))) for k in sorted(SET_KINDS) if _list(e.get(k))},
                record=records.get(e["uid"]),
            )
            for e in entries
        ]

    def count(self, query: ChangeQuery) -> int:
        return int(self.client.count(index=self.index, query=_query(query))["count"])

    def sets(self) -> ChangeSets:
        aggs: dict[str, Any] = {k: {"terms": {"field": k, "size": _MAX_SET_VALUES}} for k in SET_KINDS}
        aggs["earliest"] = {"min": {"field": "stamp"}}
        found = self.client.search(index=self.index, size=0, aggs=aggs)["aggregations"]
        values = {k: sorted(str(b["key"]) for b in found[k]["buckets"]) for k in SET_KINDS}
        earliest = found["earliest"].get("value")
        return ChangeSets(values=values, earliest=None if earliest is None else int(earliest))


def _sets(record: Record) -> dict[str, list[str]]:
    return {k: list(v) for k, v in set_values(record).items()}


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _query(query: ChangeQuery) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [{"range": {"stamp": {"gte": query.since, "lte": query.until}}}]
    if query.uid is not None:
        filters.append({"term": {"uid": query.uid}})
    if query.set_kind is not None:
        if query.set_values is None:
            filters.append({"exists": {"field": query.set_kind}})
        else:
            filters.append({"terms": {query.set_kind: list(query.set_values)}})
    return {"bool": {"filter": filters}}


class EsChangeReads:
    """The IndexBackend change-listing methods of ElasticsearchBackend (mixed in: it provides the client)."""

    client: Any
    alias: str
    bulk: BulkOptions
    _errors: Callable[[str], AbstractContextManager[None]]
    _change_log: EsChangeLog | None = None

    def _changes(self) -> EsChangeLog:
        """The alias's change log, its index created on first use."""
        if self._change_log is None:
            with self._errors("prepare the OAI change log"):
                self._change_log = EsChangeLog(self.client, alias=self.alias, bulk=self.bulk)
        return self._change_log

    def _log_written(self, records: Iterable[Record]) -> None:
        """Stamp the records a write changed."""
        log = self._changes()
        with self._errors("write OAI change entries"):
            log.written(records)

    def keep_deleted(self, entries: Iterable[Change]) -> int:
        """Add the deleted entries (stamps and sets as given) of uids the log has no entry for; how many."""
        log = self._changes()
        with self._errors("write carried deleted entries"):
            return log.keep_deleted(entries)

    def _log_rebuilt(self, changed: list[str], *, dropped: list[str]) -> None:
        """After a rebuild's alias swap: stamp the records whose content it changed (read back from the new
        index, with their sets) and turn the entries of the records it left out into deleted ones."""
        for start in range(0, len(changed), _MGET):
            chunk = changed[start : start + _MGET]
            with self._errors("read rebuilt records"):
                found = self.client.mget(index=self.alias, ids=chunk, source_includes=["payload"])
            self._log_written(document_record(d["_source"]) for d in found["docs"] if d.get("found"))
        self._log_withdrawn(dropped)

    def _log_withdrawn(self, uids: Iterable[str]) -> None:
        """Turn the entries of withdrawn uids into deleted ones."""
        log = self._changes()
        with self._errors("write OAI deleted entries"):
            log.withdrawn(uids)

    def changes(self, query: ChangeQuery) -> list[Change]:
        """One page of change entries in (stamp, uid) order (see ChangeQuery)."""
        log = self._changes()
        with self._errors("list OAI changes"):
            return log.changes(query)

    def count_changes(self, query: ChangeQuery) -> int:
        """How many entries the whole list of `query` holds."""
        log = self._changes()
        with self._errors("count OAI changes"):
            return log.count(query)

    def change_sets(self) -> ChangeSets:
        """Every set value an entry holds, by kind, and the earliest stamp."""
        log = self._changes()
        with self._errors("read OAI sets"):
            return log.sets()
