"""The Elasticsearch index layout as code: the index template, its mapping and a record's document.

Text is indexed from the tokens `indexer.analysis` produces (folded, jieba-segmented, space-separated),
under a whitespace analyzer, so the Elasticsearch index sees the same words as the embedded SQLite index
and the two rank alike. Beside them:

* `text.*` — the six segmented text fields (title, subtitle, tags, description, people, provider);
* `pinyin`, `chars` — the title pinyin words and the title/subtitle/tags split into single characters;
* `w_text`, `w_pinyin`, `w_chars` — the weighted fields (indexer/backends/weighted_fields.py) the derived tantivy
  index holds too: each query field group's columns, every token repeated by its column's weight. A query's words
  are matched on their own fields but scored here, so a word or phrase scores as one bm25 over its weighted counts
  in its group, normalized by the group's weighted length, on both engines;
* `title_fold` — the folded title as a keyword (prefix suggestions), with a `cjk` bigram sub-field for recall
  and, when the cluster has the plugin, an IK or smartcn sub-field (`plugin_analyzer`, off by default);
* keyword fields for facets and filters, `sort_date` (epoch microseconds, as the embedded index keeps it),
  `popularity`, the record dates, and `payload`: the full Record JSON, stored but not indexed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

from indexer.analysis import TEXT_FIELDS
from indexer.analysis_version import ANALYSIS_VERSION
from indexer.backends.weighted_fields import WEIGHTED_FIELDS, weighted_texts
from indexer.linkage import profile_of
from indexer.linkage.incremental import stored_link_keys
from indexer.linkage.version import LINKAGE_VERSION
from indexer.record import Record
from indexer.record_text import record_text
from indexer.themes_version import bundled_themes_version

MAPPING_VERSION = "4"
"""Bump when the mapping changes; an index of another version asks for `edufed reindex`. 3: `region`; 4: the
weighted fields `w_text`, `w_pinyin`, `w_chars` in place of `all` (one field holding every group, whose one length
normalization let a word's pinyin and character copies lengthen the record its text is scored in). Each is added
to an older index in place when the backend opens it (ADDED_FIELDS), so it serves until the reindex fills it; the
weighted fields are also filled in place, by the analysis catch-up their addition starts (es_analysis)."""
ANALYSIS_META = "edufed_analysis"
"""The mapping `_meta` key saying which text analysis (indexer.analysis_version) an index's documents hold: every
index is created from the template with this edufed's, so a new index and a rebuilt one (`edufed reindex`) say it."""
LINKAGE_META = "edufed_linkage"
"""The mapping `_meta` key saying which record linkage (indexer.linkage.version) made an index's link keys and
clusters; like ANALYSIS_META, every index is created with this edufed's (es_linkage)."""
THEMES_META = "edufed_themes"
"""The mapping `_meta` key saying which theme rules (indexer.themes_version) every document was classified by; the
template's says the bundled table's, and an index is given its opener's when it is created (es_themes)."""
PluginAnalyzer = Literal["ik_smart", "ik_max_word", "smartcn"]
TOKENS_ANALYZER = "edufed_tokens"
FACET_KEYWORDS = {
    "theme": "theme", "platform": "platform", "audience": "audience", "media_type": "media_type",
    "is_free": "is_free", "record_type": "record_type", "region": "region",
}  # fmt: skip
"""Facet / filter name -> document field."""
_KEYWORD = {"type": "keyword"}
_LONG_KEYWORD = {"type": "keyword", "ignore_above": 2048}
_TOKENS = {"type": "text", "analyzer": TOKENS_ANALYZER}
ADDED_FIELDS: dict[str, dict[str, Any]] = {
    "region": _KEYWORD,
    **{name: _TOKENS for name in WEIGHTED_FIELDS.values()},
}
"""Fields added since version 2: put into an older index's mapping (an additive, allowed change)."""
WEIGHTED_ADDED = frozenset(WEIGHTED_FIELDS.values())
"""The added fields an older index's documents hold only once analysed again (es_analysis catches them up)."""
_CHINA = timezone(timedelta(hours=8))


def index_template(
    *, alias: str, shards: int = 1, replicas: int = 1, plugin_analyzer: PluginAnalyzer | None = None
) -> dict[str, Any]:
    """The body of the index template that every versioned index `<alias>-v<stamp>` is created from."""
    settings: dict[str, Any] = {
        "number_of_shards": shards,
        "number_of_replicas": replicas,
        "max_result_window": 10_000,
        "analysis": {"analyzer": {TOKENS_ANALYZER: {"type": "custom", "tokenizer": "whitespace"}}},
    }
    return {
        "index_patterns": [f"{alias}-v*"],
        "priority": 200,
        "template": {"settings": settings, "mappings": mappings(plugin_analyzer=plugin_analyzer)},
        "_meta": {"description": "edufed records (one versioned index per rebuild, behind an alias)"},
    }


def mappings(*, plugin_analyzer: PluginAnalyzer | None = None) -> dict[str, Any]:
    """The strict mapping of a records index."""
    title_fold: dict[str, Any] = {
        **_LONG_KEYWORD,
        "fields": {"cjk": {"type": "text", "analyzer": "cjk"}},
    }
    if plugin_analyzer is not None:
        title_fold["fields"]["plugin"] = {"type": "text", "analyzer": plugin_analyzer}
    keywords = ("uid", "source", "source_id", "content_hash", "cluster_id", "platform", "theme", "audience",
                "media_type", "record_type", "region")  # fmt: skip
    properties: dict[str, Any] = {name: dict(_KEYWORD) for name in keywords}
    properties.update(
        {
            "is_free": {"type": "boolean"},
            "sort_date": {"type": "long"},
            "popularity": {"type": "long"},
            "published_at": {"type": "date"},
            "updated_at": {"type": "date"},
            "fetched_at": {"type": "date"},
            "title": dict(_LONG_KEYWORD),
            "title_fold": title_fold,
            "title_pinyin": dict(_LONG_KEYWORD),
            "text": {"properties": {name: dict(_TOKENS) for name in TEXT_FIELDS}},
            "pinyin": dict(_TOKENS),
            "chars": dict(_TOKENS),
            **{name: dict(_TOKENS) for name in WEIGHTED_FIELDS.values()},
            "payload": {"type": "text", "index": False},
            "link_keys": dict(_KEYWORD),
            "cluster_evidence": {"type": "object", "enabled": False},
        }
    )
    meta = {"edufed_mapping": MAPPING_VERSION, ANALYSIS_META: ANALYSIS_VERSION, LINKAGE_META: LINKAGE_VERSION,
            THEMES_META: bundled_themes_version()}  # fmt: skip
    return {"dynamic": "strict", "_meta": meta, "properties": properties}


def record_document(record: Record) -> dict[str, Any]:
    """The document one record is indexed as (the record must carry its content_hash)."""
    text = record_text(record)
    sort_date = record.published_at or record.updated_at or record.fetched_at
    return {
        "uid": record.uid,
        "source": record.source,
        "source_id": record.source_id,
        "content_hash": record.content_hash,
        "cluster_id": record.cluster_id,
        "platform": record.platform,
        "theme": list(record.themes),
        "audience": list(record.audience),
        "media_type": record.media_type,
        "record_type": record.record_type,
        "region": record.region.get("province"),
        "is_free": record.is_free,
        "sort_date": epoch_micros(sort_date),
        "popularity": record.learner_count if record.learner_count is not None else -1,
        "published_at": _iso(record.published_at),
        "updated_at": _iso(record.updated_at),
        "fetched_at": _iso(record.fetched_at),
        "title": record.title,
        "title_fold": text.folded_title,
        "title_pinyin": text.title_pinyin,
        "text": {name: text.fields[name] for name in TEXT_FIELDS},
        "pinyin": text.fields["pinyin"],
        "chars": text.fields["chars"],
        **dict.fromkeys(WEIGHTED_FIELDS.values()),
        **weighted_texts(text.fields),
        "payload": record.model_dump_json(),
        "link_keys": stored_link_keys(profile_of(record)),
    }


def document_record(source: dict[str, Any]) -> Record:
    """The Record stored in a document's `payload`."""
    return Record.model_validate_json(source["payload"])


def epoch_micros(moment: datetime) -> int:
    """Microseconds since the epoch; a naive time is China time (UTC+8), as in the embedded index."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_CHINA)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_CHINA)
    return moment.isoformat()
