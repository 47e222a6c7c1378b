"""The shared index backend: an Elasticsearch cluster, behind one alias over versioned indices.

Records live in `<alias>-v<timestamp>` indices created from the index template in `es_mapping`; searches
and writes go through the alias (`edufed-records` by default). `rebuild` loads a fresh index and moves the
alias to it in one atomic `_aliases` call, so searches answer throughout, then deletes the older indices.
Writes to the alias meanwhile land in the old index: pause harvests while `edufed reindex` runs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from config.settings import IndexSettings
from indexer.analysis import QueryVocabulary, fold
from indexer.analysis_version import ANALYSIS_VERSION, AnalysisState, CatchUpBatch, newer_notice, status_of
from indexer.backends.base import SearchQuery, SearchResult, UpsertResult
from indexer.backends.es_analysis import (
    AFTER_META,
    BATCH,
    catch_up,
    documents_analysed_again,
    index_meta,
    record_analysis,
)
from indexer.backends.es_bulk import BulkOptions, write
from indexer.backends.es_client import Credentials, client_module, connect
from indexer.backends.es_linkage import index_linkage_version, mark_linked, recode_link_keys, record_linkage
from indexer.backends.es_links import EsLinkStore, cluster_view_of
from indexer.backends.es_mapping import (
    ADDED_FIELDS,
    ANALYSIS_META,
    MAPPING_VERSION,
    WEIGHTED_ADDED,
    PluginAnalyzer,
    document_record,
    index_template,
    record_document,
)
from indexer.backends.es_oai import EsChangeReads
from indexer.backends.es_query import Ranking
from indexer.backends.es_search import EsSearch, call_errors
from indexer.backends.es_themes import index_themes_version, mark_themes, reclassify_documents, record_themes
from indexer.errors import BulkWriteError, FailedItem, IndexBackendError
from indexer.linkage import ClusterView, cluster, profile_of
from indexer.linkage.bulk import GroupClusterer
from indexer.linkage.incremental import Linker
from indexer.linkage.version import LinkageState, linkage_state
from indexer.linkage.version import status_of as status_of_linkage
from indexer.query_vocabulary import bundled_vocabulary
from indexer.record import Record
from indexer.themes_version import Reclassify, ThemesPass, bundled_themes_version

logger = logging.getLogger(__name__)

DEFAULT_ALIAS = "edufed-records"
_SCAN_PAGE = 500
_LOAD_SETTINGS = {"refresh_interval": "-1", "number_of_replicas": 0}


class ElasticsearchBackend(EsChangeReads):
    """IndexBackend on an Elasticsearch 8/9 cluster at `url`; makes the template, first index and alias."""

    def __init__(
        self,
        url: str,
        *,
        credentials: Credentials | None = None,
        alias: str = DEFAULT_ALIAS,
        shards: int = 1,
        replicas: int = 1,
        plugin_analyzer: PluginAnalyzer | None = None,
        ranking: Ranking | None = None,
        bulk: BulkOptions | None = None,
        refresh: bool = True,
        use_pit: bool = True,
        request_timeout: float = 30.0,
        vocabulary: QueryVocabulary | None = None,
        linker: Linker | None = None,
        themes_version: str | None = None,
    ) -> None:
        self.linker = linker or Linker()
        self.themes_version = themes_version or bundled_themes_version()
        """The themes version (indexer.themes_version) of the rule table records are classified by here, which a
        new index records; default the bundled table's."""
        """Keeps clusters (the same course on several platforms) up to date on every write."""
        if alias != alias.lower() or not alias or alias.startswith(("_", "-", "+")):
            raise IndexBackendError(f"index alias {alias!r} must be lowercase and not start with _, - or +")
        self.url = url
        self.alias = alias
        self.shards, self.replicas, self.plugin_analyzer = shards, replicas, plugin_analyzer
        self.bulk = bulk or BulkOptions()
        self.refresh = refresh
        self._es = client_module()
        self.client = connect(url, credentials=credentials or Credentials(), request_timeout=request_timeout)
        ranking = ranking or Ranking(plugin_field=plugin_analyzer is not None)
        try:
            with self._errors("prepare index"):
                self._put_template()
                self._ensure_alias()
        except BaseException:
            self.client.close()
            raise
        self._search = EsSearch(
            self.client,
            alias=alias,
            ranking=ranking,
            use_pit=use_pit,
            errors=self._errors,
            vocabulary=bundled_vocabulary() if vocabulary is None else vocabulary,
        )

    @classmethod
    def from_settings(
        cls,
        settings: IndexSettings,
        *,
        environ: Mapping[str, str] | None = None,
        vocabulary: QueryVocabulary | None = None,
        linker: Linker | None = None,
        themes_version: str | None = None,
    ) -> ElasticsearchBackend:
        """The backend `index:` settings describe; credentials and the CA file come from the environment."""
        if not settings.url:
            raise IndexBackendError("index.backend is elasticsearch but index.url is not set")
        return cls(
            settings.url,
            credentials=Credentials.from_environ(os.environ if environ is None else environ),
            alias=settings.es_alias,
            shards=settings.es_shards,
            replicas=settings.es_replicas,
            plugin_analyzer=settings.es_plugin_analyzer,
            vocabulary=vocabulary,
            linker=linker,
            themes_version=themes_version,
        )

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        with call_errors(self._es, action=f"{action} ({self.alias} at {self.url})"):
            yield

    # -- indices and alias --------------------------------------------------------------------------

    def _put_template(self) -> None:
        body = index_template(
            alias=self.alias, shards=self.shards, replicas=self.replicas, plugin_analyzer=self.plugin_analyzer
        )
        self.client.indices.put_index_template(
            name=self.alias,
            index_patterns=body["index_patterns"],
            priority=body["priority"],
            template=body["template"],
            meta=body["_meta"],
        )

    def _ensure_alias(self) -> None:
        if self.client.indices.exists_alias(name=self.alias):
            for name, body in self.client.indices.get_mapping(index=self.alias).items():
                version = (body.get("mappings", {}).get("_meta") or {}).get("edufed_mapping")
                missing = [f for f in ADDED_FIELDS if f not in body.get("mappings", {}).get("properties", {})]
                if missing:  # additive: an older index keeps serving, and takes the new fields' values
                    self.client.indices.put_mapping(index=name, properties={f: ADDED_FIELDS[f] for f in missing})
                if WEIGHTED_ADDED.intersection(missing):
                    documents_analysed_again(self.client, index=name, why="its documents lack the weighted fields")
                if version != MAPPING_VERSION:
                    logger.warning(
                        "index %s has mapping version %s, this edufed writes %s: run `edufed reindex`",
                        name,
                        version,
                        MAPPING_VERSION,
                    )
            record_analysis(self.client, index=self.current_index())
            if (notice := self.analysis_state().notice) is not None:
                logger.warning("index %s: %s", self.alias, notice)
            record_linkage(self.client, index=self.current_index())
            record_themes(self.client, index=self.current_index(), ours=self.themes_version)
            return
        first = self._create_index(loading=False)
        self.client.indices.update_aliases(
            actions=[{"add": {"index": first, "alias": self.alias, "is_write_index": True}}]
        )
        logger.info("created index %s behind alias %s", first, self.alias)

    def _create_index(self, *, loading: bool) -> str:
        name = f"{self.alias}-v{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}"
        self.client.indices.create(index=name, settings=dict(_LOAD_SETTINGS) if loading else None)
        mark_themes(self.client, index=name, version=self.themes_version)  # a rebuild's records are all built again
        return name

    def analysis_state(self) -> AnalysisState:
        """Which text analysis the alias's index holds (its mapping's `_meta`; none recorded: 0), against this
        edufed's, with a catch-up's progress (es_analysis)."""
        with self._errors("read mapping"):
            index = self.current_index()
            meta = index_meta(self.client, index)
            total = self.count()
        version = int(meta.get(ANALYSIS_META, 0))
        status = status_of(version)
        if status == "current":
            return AnalysisState(ANALYSIS_VERSION, version, status, done=total, total=total)
        if status == "newer":
            return AnalysisState(ANALYSIS_VERSION, version, status, total=total, notice=newer_notice(version))
        done = 0
        if (after := meta.get(AFTER_META)) is not None:
            with self._errors("count records"):
                done = int(self.client.count(index=index, query={"range": {"uid": {"lte": after}}})["count"])
        notice = (
            f"the index holds text analysis version {version}, this edufed's is {ANALYSIS_VERSION}: {done} of "
            f"{total} records analysed again so far; `edufed serve` goes on in the background (searches keep "
            "answering, records not yet done miss what the new analysis finds), `edufed reindex --analysis-only` "
            "does it at once, as does a full `edufed reindex`"
        )
        return AnalysisState(ANALYSIS_VERSION, version, "catching_up" if done else "older", done=done, total=total,
                             notice=notice)  # fmt: skip

    def catch_up_analysis(
        self,
        *,
        batch: int = BATCH,
        stop: Callable[[], bool] = lambda: False,
        on_batch: Callable[[CatchUpBatch], None] | None = None,
    ) -> tuple[int, int]:
        """Analyse documents written by an older text analysis again, in place, batch by batch, until the index is
        current or `stop()` (es_analysis); (documents read, documents rewritten)."""
        with self._errors("catch up the text analysis"):
            return catch_up(self.client, index=self.current_index(), size=batch, stop=stop, on_batch=on_batch)

    def linkage_state(self) -> LinkageState:
        """Which record linkage made the alias's index's link keys and clusters (its mapping's `_meta`; none
        recorded: 1), against this edufed's (es_linkage)."""
        with self._errors("read mapping"):
            version = index_linkage_version(self.client, index=self.current_index())
        return linkage_state(version, records=self.count() if status_of_linkage(version) == "older" else 0)

    def relink_all(
        self, *, clusterer: GroupClusterer | None = None, on_coded: Callable[[int], None] | None = None
    ) -> int:
        """Link every document of the alias's index again in place by this edufed's rules: its `link_keys` computed
        again (`on_coded` told the documents read so far), every record clustered under the linker's decisions,
        then the version recorded (es_linkage); returns how many records are in clusters. `clusterer` is not used:
        the records are clustered at once, as a rebuild does."""
        with self._errors("link the records again"):
            index = self.current_index()
            fields = ["uid", "payload", "link_keys"]
            recode_link_keys(self.client, self._scan({"match_all": {}}, fields=fields, index=index), index=index,
                             on_page=on_coded)  # fmt: skip
            self._link_all(index)
            self.client.indices.refresh(index=index)
            mark_linked(self.client, index=index)
            return int(self.client.count(index=index, query={"exists": {"field": "cluster_id"}})["count"])

    def themes_recorded(self) -> str:
        """The themes version every document of the alias's index was classified by (es_themes; "": none)."""
        with self._errors("read mapping"):
            return index_themes_version(self.client, index=self.current_index())

    def mark_themes(self, version: str) -> None:
        """Record that every document of the alias's index was classified by themes version `version`."""
        with self._errors("write mapping"):
            mark_themes(self.client, index=self.current_index(), version=version)

    def reclassify_all(
        self, reclassify: Reclassify, *, version: str, on_page: Callable[[ThemesPass], None] | None = None
    ) -> ThemesPass:
        """Classify every document's stored record again in place (`reclassify`), updating those whose themes or
        evidence changed, then record `version` (es_themes); `on_page` is told the totals so far."""
        with self._errors("classify the records again"):
            index = self.current_index()
            done, written = reclassify_documents(self.client, index=index, reclassify=reclassify, on_page=on_page)
            mark_themes(self.client, index=index, version=version)
        self._log_written(written)  # es_oai: their theme sets changed
        return done

    def indices(self) -> list[str]:
        """Every versioned index of this alias, oldest first."""
        with self._errors("list indices"):
            found = self.client.indices.get(index=f"{self.alias}-v*", expand_wildcards="open,closed")
        return sorted(found)

    def current_index(self) -> str:
        """The index the alias points to now."""
        with self._errors("read alias"):
            return next(iter(sorted(self.client.indices.get_alias(name=self.alias))))

    # -- writes -------------------------------------------------------------------------------------

    def upsert(self, records: Iterable[Record]) -> UpsertResult:
        """Index records by uid (unchanged content_hash skipped); raises BulkWriteError after writing the rest
        when some items failed."""
        result = UpsertResult()
        failed: list[FailedItem] = []
        arrived: list[Record] = []
        old_clusters: set[str] = set()
        actions = self._changed_actions(records, result=result, failed=failed, arrived=arrived, old=old_clusters)
        with self._errors("write records"):
            outcome = write(self.client, actions, options=self.bulk)
            self._refresh(self.alias, force=bool(arrived))
            self._relink(
                arrived=[r for r in arrived if r.uid not in {f.uid for f in outcome.failed}], old_clusters=old_clusters
            )
        result.written += outcome.count("created", "updated", "ok")
        self._log_written(r for r in arrived if r.uid not in {f.uid for f in outcome.failed})  # es_oai
        failed.extend(outcome.failed)
        if failed:
            raise BulkWriteError(f"{len(failed)} record(s) were not indexed", failed=failed, result=result)
        return result

    def _relink(self, *, arrived: list[Record], old_clusters: set[str]) -> None:
        if arrived or old_clusters:
            self.linker.relink(EsLinkStore(self.client, index=self.alias), arrived=arrived, old_clusters=old_clusters)

    def relink(self, uids: Iterable[str]) -> int:
        """Re-cluster these records and all they may link to under the linker's current decisions (an admin's
        split or join applies at once); returns how many records were re-linked."""
        wanted = list(dict.fromkeys(uids))
        with self._errors("relink records"):
            found = self.client.mget(index=self.alias, ids=wanted, source_includes=["payload"]) if wanted else None
            records = [document_record(d["_source"]) for d in (found or {}).get("docs", []) if d.get("found")]
            if not records:
                return 0
            old_clusters = {r.cluster_id for r in records if r.cluster_id}
            return self.linker.relink(EsLinkStore(self.client, index=self.alias), arrived=records,
                                      old_clusters=old_clusters)  # fmt: skip

    def cluster_of(self, uid: str) -> ClusterView | None:
        """The record's cluster: every member and the evidence that merged them (None: a course on its own)."""
        with self._errors("read cluster"):
            found = cluster_view_of(self.client, index=self.alias, uid=uid)
        return ClusterView(cluster_id=found[0], members=found[1], evidence=found[2]) if found else None

    def _changed_actions(
        self,
        records: Iterable[Record],
        *,
        result: UpsertResult,
        failed: list[FailedItem],
        arrived: list[Record],
        old: set[str],
    ) -> Iterator[dict[str, Any]]:
        iterator = iter(records)
        while chunk := list(islice(iterator, self.bulk.chunk_size)):
            latest = {r.uid: r for r in chunk}
            with self._errors("read content hashes"):
                found = self.client.mget(
                    index=self.alias, ids=list(latest), source_includes=["content_hash", "cluster_id"]
                )
            stored = {d["_id"]: d["_source"].get("content_hash") for d in found["docs"] if d.get("found")}
            for uid, record in latest.items():
                if not record.content_hash:
                    record = record.model_copy(update={"content_hash": record.compute_hash()})
                if stored.get(uid) == record.content_hash:
                    result.unchanged += 1
                    continue
                action = _index_action(record, index=self.alias, failed=failed)
                if action is not None:
                    arrived.append(record)
                    yield action
            old.update(
                d["_source"]["cluster_id"]
                for d in found["docs"]
                if d.get("found") and d["_source"].get("cluster_id") and d["_id"] in {r.uid for r in arrived}
            )

    def withdraw(self, uids: Iterable[str]) -> int:
        """Remove records by uid; returns how many were present."""
        wanted = list(dict.fromkeys(uids))
        old_clusters: set[str] = set()
        for start in range(0, len(wanted), _SCAN_PAGE):
            with self._errors("read clusters"):
                found = self.client.mget(
                    index=self.alias, ids=wanted[start : start + _SCAN_PAGE], source_includes=["cluster_id"]
                )
            old_clusters.update(
                d["_source"]["cluster_id"] for d in found["docs"] if d.get("found") and d["_source"].get("cluster_id")
            )
        actions = ({"_op_type": "delete", "_index": self.alias, "_id": uid} for uid in wanted)
        with self._errors("withdraw records"):
            outcome = write(self.client, actions, options=self.bulk)
            self._refresh(self.alias, force=bool(old_clusters))
            self._relink(arrived=[], old_clusters=old_clusters)
        self._log_withdrawn(u for u in wanted if u not in {f.uid for f in outcome.failed})  # es_oai
        if outcome.failed:
            raise BulkWriteError(f"{len(outcome.failed)} withdrawal(s) failed", failed=outcome.failed)
        return outcome.count("deleted")

    def withdraw_source(self, source: str) -> int:
        """Remove every record of one source; returns how many."""
        uids = [d["uid"] for d in self._scan({"term": {"source": source}}, fields=["uid"])]  # for es_oai
        with self._errors(f"withdraw source {source}"):
            done = self.client.delete_by_query(
                index=self.alias, query={"term": {"source": source}}, conflicts="proceed", refresh=True
            )
        if done.get("failures"):
            raise IndexBackendError(f"withdrawing source {source} failed in part: {done['failures'][:3]}")
        self._log_withdrawn(uids)
        return int(done.get("deleted", 0))

    def rebuild(self, records: Iterable[Record]) -> UpsertResult:
        """Load `records` into a new index, swap the alias to it atomically, delete the older indices.

        If any record fails, the new index is deleted and the alias keeps pointing to the old one
        (BulkWriteError lists the failures), so a broken rebuild never empties the search.
        """
        result = UpsertResult()
        failed: list[FailedItem] = []
        with self._errors("read content hashes"):
            before = {str(d["uid"]): d.get("content_hash") for d in self._scan({"match_all": {}}, fields=_HASHED)}
        changed: list[str] = []  # for the OAI change log: what the rebuild changed, and (what `before` keeps) dropped

        def compared(record: Record) -> Record:
            record = _hashed(record)
            if before.pop(record.uid, None) != record.content_hash:
                changed.append(record.uid)
            return record

        with self._errors("create index"):
            new = self._create_index(loading=True)
        try:
            actions = (a for r in records if (a := _index_action(compared(r), index=new, failed=failed)))
            with self._errors(f"load index {new}"):
                outcome = write(self.client, actions, options=self.bulk)
                result.written = outcome.count("created", "updated", "ok")
                failed.extend(outcome.failed)
                if failed:
                    raise BulkWriteError(
                        f"rebuild stopped: {len(failed)} record(s) were not indexed; the old index stays in use",
                        failed=failed,
                        result=result,
                    )
                self.client.indices.put_settings(
                    index=new, settings={"refresh_interval": "1s", "number_of_replicas": self.replicas}
                )
                self._refresh(new, force=True)
                self._link_all(new)
        except BaseException:
            with self._errors(f"delete index {new}"):
                self.client.indices.delete(index=new, ignore_unavailable=True)
            raise
        self._swap_alias(new)
        self._log_rebuilt(changed, dropped=sorted(before))  # es_oai: stamped once searches see the new index
        return result

    def _link_all(self, index: str) -> None:
        """Cluster every record of a freshly loaded index (before searches see it)."""
        records = {
            r.uid: r
            for r in (document_record(d) for d in self._scan({"match_all": {}}, fields=["payload"], index=index))
        }
        links = cluster(
            [profile_of(r) for r in records.values()], decisions=self.linker.decisions.decisions_for(list(records))
        )
        EsLinkStore(self.client, index=index).write_links(links, records=records)

    def _swap_alias(self, new: str) -> None:
        with self._errors("swap alias"):
            current = (
                list(self.client.indices.get_alias(name=self.alias))
                if self.client.indices.exists_alias(name=self.alias)
                else []
            )
            actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": self.alias}} for i in current]
            actions.append({"add": {"index": new, "alias": self.alias, "is_write_index": True}})
            self.client.indices.update_aliases(actions=actions)
        logger.info("alias %s now points to %s (was %s)", self.alias, new, ", ".join(current) or "nothing")
        for old in self.indices():
            if old != new:
                with self._errors(f"delete old index {old}"):
                    self.client.indices.delete(index=old, ignore_unavailable=True)

    def _refresh(self, index: str, *, force: bool = False) -> None:
        if self.refresh or force:
            self.client.indices.refresh(index=index)

    def drop(self) -> None:
        """Delete every index of this alias and its template (tests, and uninstalling)."""
        with self._errors("drop indices"):
            for name in self.indices():
                self.client.indices.delete(index=name, ignore_unavailable=True)
            if self.client.indices.exists_index_template(name=self.alias):
                self.client.indices.delete_index_template(name=self.alias)

    # -- reads --------------------------------------------------------------------------------------

    def get(self, uid: str) -> Record | None:
        """One record with its raw payload, or None."""
        with self._errors("read record"):
            found = self.client.options(ignore_status=404).get(index=self.alias, id=uid, source_includes=["payload"])
        return document_record(found["_source"]) if found.get("found") else None

    def search(self, query: SearchQuery) -> SearchResult:
        """Ranked, filtered, faceted, highlighted results (see es_search)."""
        return self._search.search(query)

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """Titles starting with the folded prefix (or its pinyin), then titles containing it."""
        folded = fold(prefix).strip()
        if not folded or limit <= 0:
            return []
        return self._search.suggest(folded, limit=limit)

    def count(self, source: str | None = None) -> int:
        """Records in the index, for one source or all."""
        query = {"term": {"source": source}} if source is not None else {"match_all": {}}
        with self._errors("count records"):
            return int(self.client.count(index=self.alias, query=query)["count"])

    def content_hashes(self, source: str) -> dict[str, str]:
        """uid -> content_hash of every record of a source."""
        docs = self._scan({"term": {"source": source}}, fields=["uid", "content_hash"])
        return {d["uid"]: d["content_hash"] for d in docs}

    def iter_records(self, source: str | None = None) -> Iterator[Record]:
        """Every stored record (with raw), in uid order, page by page (writes meanwhile are safe)."""
        query = {"term": {"source": source}} if source is not None else {"match_all": {}}
        for doc in self._scan(query, fields=["payload"]):
            yield document_record(doc)

    def _scan(self, query: dict[str, Any], *, fields: list[str], index: str | None = None) -> Iterator[dict[str, Any]]:
        after: list[Any] | None = None
        while True:
            extra = {"search_after": after} if after is not None else {}
            with self._errors("scan records"):
                hits = self.client.search(
                    index=index or self.alias,
                    query=query,
                    sort=[{"uid": "asc"}],
                    size=_SCAN_PAGE,
                    source=fields,
                    track_total_hits=False,
                    **extra,
                )["hits"]["hits"]
            for hit in hits:
                yield hit["_source"]
            if len(hits) < _SCAN_PAGE:
                return
            after = hits[-1]["sort"]

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()


_HASHED = ["uid", "content_hash"]


def _hashed(record: Record) -> Record:
    if record.content_hash:
        return record
    return record.model_copy(update={"content_hash": record.compute_hash()})


def _index_action(record: Record, *, index: str, failed: list[FailedItem]) -> dict[str, Any] | None:
    """The bulk action of one record, or None (and a FailedItem) when the record cannot be serialized."""
    try:
        document = record_document(_hashed(record))
    except (ValueError, TypeError) as exc:  # pydantic's serialization error is a ValueError
        failed.append(FailedItem(uid=record.uid, status=0, error_type="serialization", reason=str(exc)[:1000]))
        return None
    return {"_op_type": "index", "_index": index, "_id": record.uid, "_source": document}
