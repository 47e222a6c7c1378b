"""The IndexBackend protocol and the search request/response types every backend speaks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from indexer.analysis import QueryTerm, QueryVocabulary, can_widen, fold, parse_query
from indexer.backends.changes import Change, ChangeQuery, ChangeSets
from indexer.known_words import GENERIC_SHARE, Related, TitlesOf, known_terms, lookup_tokens, names_filtered_theme
from indexer.linkage import ClusterView
from indexer.match_plan import (
    FEEDBACK_TAGS,
    FEEDBACK_WEIGHT,
    FEW_FOUND,
    THEME_FEEDBACK_TAGS,
    THEME_FEEDBACK_WEIGHT,
    THEME_FEW,
    AnyOf,
    Frequencies,
    Plan,
    any_of_content,
    coordination_tier,
    coordination_weights,
    every_term,
    feedback_term,
    match_plan,
    missing_terms,
    says_something,
    subject_absent,
    term_tokens,
    theme_characters_term,
    tiers_differ,
    wants_coordination,
    wants_feedback,
    wants_theme_feedback,
)
from indexer.news import reads_as_news
from indexer.record import Record
from indexer.record_text import record_text
from indexer.thesaurus import for_theme_filter

Sort = Literal["relevance", "newest", "popular"]
FACET_FIELDS = ("theme", "platform", "audience", "media_type", "is_free", "region")
"""The facets every backend counts, in this order (each a record field: see `facet_values`)."""
FILTER_FIELDS = {
    "theme": "themes", "audience": "audience", "platform": "platforms", "media_type": "media_types",
    "record_type": "record_types", "region": "regions",
}  # fmt: skip
"""Filter name (a facet, or record_type) -> the SearchQuery attribute holding its values (is_free aside)."""


def facet_values(record: Record) -> dict[str, list[str]]:
    """The values a record has for each filter of FILTER_FIELDS (a backend indexes these)."""
    return {
        "theme": list(record.themes),
        "audience": list(record.audience),
        "platform": [record.platform],
        "media_type": [record.media_type] if record.media_type else [],
        "record_type": [record.record_type],
        "region": [region] if (region := record.region.get("province")) else [],
    }


@dataclass(frozen=True)
class SearchQuery:
    """One search: free text plus filters. Within a filter values are OR-ed; filters are AND-ed.

    `q` may be empty: then the filters browse the catalogue (sorted by `newest` when sort is relevance).
    `cursor` (opaque, from a previous SearchResult.next_cursor) replaces `page` for deep paging.
    """

    q: str = ""
    themes: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    media_types: tuple[str, ...] = ()
    record_types: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    """Short forms of config/regions.yaml (广东, 全国): the records whose region.province is one of them."""
    is_free: bool | None = None
    sort: Sort = "relevance"
    page: int = 1
    size: int = 10
    cursor: str | None = None
    with_facets: bool = True


@dataclass
class SearchHit:
    record: Record
    score: float
    highlight: dict[str, str] = field(default_factory=dict)
    """Field -> HTML-escaped snippet with matches wrapped in <mark>…</mark> (title, description)."""
    also_on: list[Record] = field(default_factory=list)
    """The same course on other platforms (same cluster_id)."""
    missing: tuple[str, ...] = ()
    """Words of the query this record does not hold (it was found through the others)."""

    @property
    def uid(self) -> str:
        """The record's uid (a backend may know it before it has read the record)."""
        return self.record.uid

    def text_fields(self) -> Mapping[str, str]:
        """The analysed fields of the record (indexer.record_text), which a backend may read apart from the record:
        what steps that only look at the words a record holds (`_by_coordination`, `_with_missing`) ask for."""
        return record_text(self.record).fields


@dataclass
class SearchResult:
    total: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]]
    """Facet field (FACET_FIELDS) -> value -> count. Each facet counts the whole result set filtered by
    every *other* filter, so a learner sees how many records picking another value would give."""
    next_cursor: str | None = None
    relaxed: bool = False
    """Every hit of this page lacks some word of the query (see SearchHit.missing): they hold some of them."""
    merged: int = 0
    """Hits left out of `hits` because an earlier hit lists them in also_on (see `merge_duplicates`)."""
    theme_only: bool = False
    """No record of the filtered theme holds any word of the query: the hits are the theme's records, each lacking
    them (`search_in_steps`). A standing search (a feed) lists none of them: they match the theme, not the words."""


class TermsRun(Protocol):
    """One backend pass of a text search: the records `plan` (indexer.match_plan) picks among `terms`."""

    def __call__(self, terms: list[QueryTerm], *, plan: Plan, widened: bool, in_theme: bool = False) -> SearchResult:
        """`in_theme`: every record of the query's theme filter also matches, scored below any holding a word."""


def search_in_steps(
    q: str,
    terms: list[QueryTerm],
    *,
    vocabulary: QueryVocabulary,
    run: TermsRun,
    frequencies: Frequencies,
    titles_of: TitlesOf | None = None,
    themes: Sequence[str] = (),
    first_page: TermsRun | None = None,
    from_start: bool = False,
    shown: Callable[[Sequence[SearchHit]], None] | None = None,
) -> SearchResult:
    """The search plan both backends follow for `terms` (parsed from `q`): the records holding the terms that
    carry most of the query's weight (match_plan), those holding every term first; when nothing matches,
    Chinese words may also match as title substrings (`widen`); when a query of several terms still finds
    nothing, records holding any of them, the best first. Each hit says which words it lacks (`missing`);
    a page where every hit lacks some is marked `relaxed`.

    Before that, terms become words the index holds (indexer.known_words): pinyin the Chinese words it spells in
    the titles `titles_of` returns, a word no record holds its sub-words that some do.

    A query whose every word names the theme it is filtered to (健康 under 养生保健, `names_filtered_theme`), or is
    held by a large share of the catalogue (老年), also finds the theme's records that do not hold the word, after
    those that do: a learner picking the theme and typing its name or a generic word asks for the theme's
    courses, most of which never say 健康 or 技能. Any other word under a theme filter matches as it does without
    one: its characters alone never match (法 of 书法 would bring in every 法律 course of 法律法规); only a word
    of two thesaurus senses also gets the words of each (孩子: 子女 under 代际沟通, `for_theme_filter`), since the
    theme picks the sense and its filter keeps the other sense's records out of the page. A word the theme's
    records hold few times (`wants_theme_feedback`: 培训 under 职业技能, held by its 家政服务 courses) also finds the
    theme's records of the tags its holders share, after them (`_theme_feedback`): the theme's courses of that
    subject which never say the word. Those holders are read from the page when it shows them all, else through
    `first_page` (the same pass from the first record, when the backend gives it); the theme facet then counts, for
    another theme, what the word finds there (`_other_themes_as_found`). A word no record of the theme holds in any
    form (孙子 where its courses say 孙辈) finds the theme's every record, each lacking it: a relaxed page of the
    courses the learner picked, not an empty one, those whose titles or tags hold its characters first
    (`theme_characters_term`; the theme facet counts for another theme what the word finds there).

    A learner's question finding few records (`wants_feedback`: 老伴走了心里难受) also finds the records of the tags
    its records on its topic share (`_question_feedback`), strictly after every record of its own words, whatever
    their scores (`_own_first`); those are read as the theme rule reads its holders. `from_start`: the page asked is
    the first (page 1, no cursor), which saves reading the first records again to place it. `shown`: reads the
    records of the hits the page shows, together, before the steps that look at them or their words (a backend whose
    hits are read when first asked for: the records of the first records that only placed the page are never read,
    and a shown record's words come with it)."""
    frequencies = _remembered(frequencies)
    related = for_theme_filter(vocabulary.related) if themes else vocabulary.related
    terms = _known(terms, frequencies=frequencies, titles_of=titles_of, related=related)
    absent = subject_absent(terms, frequencies)  # nothing on what it asks: every term, and no fallback relaxes it
    plan = every_term(len(terms)) if absent else match_plan(terms, frequencies)
    if names_filtered_theme(terms, themes, frequencies, theme_words=vocabulary.theme_words):
        result = run(terms, plan=plan, widened=False, in_theme=True)
        if shown is not None:
            shown(result.hits)
        return _news_after_courses(_with_missing(terms, result, always=True))
    result = run(terms, plan=plan, widened=False)
    widened = False
    if terms and result.total == 0 and can_widen(terms) and not absent:
        terms, widened = parse_query(q, widen=True, vocabulary=vocabulary), True
        terms = _known(terms, frequencies=frequencies, titles_of=titles_of, related=related)
        plan = match_plan(terms, frequencies)
        result = run(terms, plan=plan, widened=True)
    if result.total == 0 and len(terms) > 1 and not absent:
        plan = any_of_content(terms)
        result = run(terms, plan=plan, widened=widened)
    if result.total == 0 and themes and terms:
        empty, characters = result, theme_characters_term(terms)
        if characters is None:
            result = run(terms, plan=plan, widened=widened, in_theme=True)
        else:
            result = run([*terms, characters], plan=AnyOf((plan, len(terms))), widened=widened, in_theme=True)
            result = _other_themes_as_found(result, empty, themes=themes)
        if shown is not None:
            shown(result.hits)
        return replace(_news_after_courses(_with_missing(terms, result, always=True)), theme_only=True)
    own: list[SearchHit] = []
    if not themes and wants_feedback(terms, total=result.total):
        own = _first_records(result, terms, plan=plan, widened=widened, first_page=first_page)
        feedback = _question_feedback(terms, own)
    else:
        feedback = None
    if themes and wants_theme_feedback(terms, total=result.total):
        holders = _first_records(result, terms, plan=plan, widened=widened, first_page=first_page)
        feedback = _theme_feedback(
            terms, holders, themes=themes, theme_words=vocabulary.theme_words, frequencies=frequencies
        )
    if feedback is not None:
        found = result
        result = run([*terms, feedback], plan=AnyOf((plan, len(terms))), widened=widened)
        if themes:
            result = _other_themes_as_found(result, found, themes=themes)
        elif own:
            tagged = [*terms, feedback]
            result = _own_first(
                result, own, from_start=from_start, first=lambda: _first_records(
                    result, tagged, plan=AnyOf((plan, len(terms))), widened=widened, first_page=first_page
                ),
            )  # fmt: skip
    elif wants_coordination(terms):
        result = _by_coordination(
            terms, result, plan=plan, widened=widened, frequencies=frequencies, first_page=first_page,
            from_start=from_start,
        )  # fmt: skip
    if shown is not None:
        shown(result.hits)
    result = _with_missing(terms, result, always=feedback is not None, own=own)
    return _news_after_courses(result)


def _news_after_courses(result: SearchResult) -> SearchResult:
    """The page with each news story (indexer.news: 「XX老年大学模特班结业汇报」) after the courses below it that hold
    as many of the query's words: a learner searching 模特 wants the courses before a report on a class. Only the
    page's own order changes, so its pages by number and by cursor still hold the records they held."""
    hits = list(result.hits)
    news = [reads_as_news(hit.record) for hit in hits]
    if not any(news):
        return result
    for i in reversed(range(len(hits))):
        if not news[i]:
            continue
        j = i
        while j + 1 < len(hits) and not news[j + 1] and len(hits[j + 1].missing) <= len(hits[j].missing):
            hits[j], hits[j + 1], news[j], news[j + 1] = hits[j + 1], hits[j], news[j + 1], news[j]
            j += 1
    return replace(result, hits=hits)


def _by_coordination(
    terms: list[QueryTerm],
    result: SearchResult,
    *,
    plan: Plan,
    widened: bool,
    frequencies: Frequencies,
    first_page: TermsRun | None,
    from_start: bool,
) -> SearchResult:
    """`result` (one page of words typed apart) with its first records (THEME_FEW) ranked by the share of the query's
    weight each holds (match_plan.coordination_tier), in the engine's order within a share, and the records past them
    as the engine ranked them; placed as `_own_first` places a question's own records, so that pages by number and by
    cursor continue each other. Nothing is read when the plan's records cannot differ in share (`tiers_differ`), nor
    for a first page whose every record holds every part: no record after them can pass them (at 1M records the
    first 50 records cost ~3.5 ms more a search, bench/RESULTS.md)."""
    if not result.hits:
        return result
    found, total = frequencies(sorted(set().union(*(term_tokens(t) for t in terms))))
    weights = coordination_weights(terms, found, total)
    if not tiers_differ(plan, terms, weights):
        return result

    tiers: dict[str, int] = {}

    def tier(hit: SearchHit) -> int:  # once a record: the page's records are among the first ones
        if (known := tiers.get(hit.uid)) is None:
            missing = set(missing_terms(terms, hit.text_fields()))
            known = tiers[hit.uid] = coordination_tier(terms, weights, [t.text not in missing for t in terms])
        return known

    whole = coordination_tier(terms, weights, [True] * len(terms))
    if from_start and all(tier(hit) == whole for hit in result.hits):
        return result
    head = _first_records(result, terms, plan=plan, widened=widened, first_page=first_page)
    ranked = sorted(head, key=tier, reverse=True)  # stable: the engine's order within a tier
    if [hit.uid for hit in ranked] == [hit.uid for hit in head]:
        return result
    return _own_first(result, ranked, from_start=from_start, first=lambda: head)


def _question_feedback(terms: list[QueryTerm], own: list[SearchHit]) -> QueryTerm | None:
    """`feedback_term` for a learner's question finding few records (`wants_feedback`): up to FEEDBACK_TAGS tags
    that half of its records on its topic publishing tags share, read from all of them (`own`)."""
    return feedback_term(
        _on_topic(terms, own), tags=FEEDBACK_TAGS, depth=FEW_FOUND, of_tagged=True, weight=FEEDBACK_WEIGHT
    )


def _own_first(
    result: SearchResult, own: list[SearchHit], *, first: Callable[[], list[SearchHit]], from_start: bool = False
) -> SearchResult:
    """`result` (one page of a question's words or its tags) in the order a learner expects: every record of the
    question's own words first (`own`, all of them, in their own pass's order), then the records only the tags find,
    in `result`'s order. A question's words are weighed down as a question's, so a tag at any weight passes some of
    its records; a pass of their own keeps them first. The total and facets stay `result`'s (own records and tags'):
    what the facets count is what the pages show.

    The page is placed by position: its first record's place among the first records of `result`'s order (`first`,
    read only when the page does not show every record and is not the first, `from_start`) is the place the page
    starts in the composed order, and a cursor after this page marks the same place, so page 2 (by number or cursor)
    continues page 1. A page past those first records is the combined run's less the question's own records, shown
    before; when some own records stand past the first records, the last page reaching into them also shows the
    records they pushed out of them, so that page holds up to that many more than the page size and no record is
    skipped or shown twice."""
    if not result.hits:
        return result
    mine = {hit.uid for hit in own}
    head = result.hits if from_start or len(result.hits) >= result.total else first()
    seen = [hit.uid for hit in head]
    if not seen:  # no reader of the first records: the page as the tags' pass ordered it
        return result
    if (start := result.hits[0].uid) not in seen:
        return replace(result, hits=[hit for hit in result.hits if hit.uid not in mine])
    offset, known = seen.index(start), set(seen)
    composed = [*own, *(hit for hit in head if hit.uid not in mine)]
    reach = THEME_FEW if from_start else len(head)  # the first records later pages read (`first_page`)
    if offset + len(result.hits) < reach and result.next_cursor is not None:
        return replace(result, hits=composed[offset : offset + len(result.hits)])
    # the last page reaching into the first records: the rest of them, own records past them included, then the
    # page's records past them, so that the pages after it (the combined run's, less its own) skip none
    past = [hit for hit in result.hits if hit.uid not in known and hit.uid not in mine]
    return replace(result, hits=[*composed[offset:], *past])


def _first_records(
    result: SearchResult, terms: list[QueryTerm], *, plan: Plan, widened: bool, first_page: TermsRun | None
) -> list[SearchHit]:
    """The first records of a pass whose `result` is one page: that page when it holds every record found, else
    the records `first_page` reads from the start (none when the backend gives no such reader)."""
    if len(result.hits) >= result.total:
        return result.hits
    if first_page is None:
        return []
    return first_page(terms, plan=plan, widened=widened).hits


def _theme_feedback(
    terms: list[QueryTerm],
    hits: list[SearchHit],
    *,
    themes: Sequence[str],
    theme_words: Mapping[str, frozenset[str]],
    frequencies: Frequencies,
) -> QueryTerm | None:
    """`feedback_term` for a word under a theme filter that the theme's records hold few times (培训 under 职业技能:
    its holders are 家政服务 courses): up to THEME_FEEDBACK_TAGS tags that half of its holders publishing tags share,
    at THEME_FEEDBACK_WEIGHT. Never a tag naming a theme (闲暇生活, or a word naming the filtered one: 技能提升
    under 职业技能), which a platform gives a whole department, nor one GENERIC_SHARE of the records or more hold,
    nor one holding a word of the query (网络安全 for 安全: its holders hold the word)."""
    named = set(theme_words).union(*(theme_words.get(fold(theme), frozenset()) for theme in themes))
    words = [term.text for term in terms]

    def says_the_subject(tag: str, tokens: tuple[str, ...]) -> bool:
        if tag in named or any(word in tag for word in words):
            return False
        found, total = frequencies(tokens)
        return min(found.get(token, 0) for token in tokens) < GENERIC_SHARE * total

    return feedback_term(
        _on_topic(terms, hits) if len(terms) > 1 else hits,
        tags=THEME_FEEDBACK_TAGS, depth=THEME_FEW, of_tagged=True, weight=THEME_FEEDBACK_WEIGHT, keep=says_the_subject,
    )  # fmt: skip


def _other_themes_as_found(result: SearchResult, found: SearchResult, *, themes: Sequence[str]) -> SearchResult:
    """`result` (a search under a theme filter with its holders' tags) whose theme facet counts, for every theme not
    filtered to, the records the query's words find there (`found`, the pass before the tags): picking that theme
    answers at least those, while the tags were read from this theme's holders and say nothing of another's."""
    counts = result.facets.get("theme")
    if counts is None:
        return result
    shown = {**found.facets.get("theme", {}), **{theme: counts[theme] for theme in themes if theme in counts}}
    ordered = dict(sorted(((k, v) for k, v in shown.items() if v), key=lambda item: (-item[1], item[0])))
    return replace(result, facets={**result.facets, "theme": ordered})


def _on_topic(terms: list[QueryTerm], hits: list[SearchHit]) -> list[SearchHit]:
    """The hits (of a page of few) holding a word of the query that says what it is about (`says_something`),
    not only its single characters or the words of how it asks (会, 不会, 怎么办)."""
    telling = [term for term in terms if says_something(term)]
    if not telling:
        return []
    return [hit for hit in hits if len(missing_terms(telling, hit.text_fields())) < len(telling)]


def _with_missing(
    terms: list[QueryTerm], result: SearchResult, *, always: bool = False, own: Sequence[SearchHit] = ()
) -> SearchResult:
    """The words each hit lacks, and `relaxed` when every hit lacks some (queries of several words, or `always`
    where hits need not hold the one word). A hit a question's tags found, not its words (`own` being the records
    its words found), lacks at least its every word when its text holds them all."""
    if len(terms) > 1 or always:
        mine = {hit.uid for hit in own}
        for hit in result.hits:
            hit.missing = missing_terms(terms, hit.text_fields())
            if not hit.missing and own and hit.uid not in mine:
                hit.missing = tuple(term.text for term in terms)
        result.relaxed = bool(result.hits) and all(hit.missing for hit in result.hits)
    return result


def _known(
    terms: list[QueryTerm], *, frequencies: Frequencies, titles_of: TitlesOf | None, related: Related | None
) -> list[QueryTerm]:
    """`known_terms`, asking the index for document frequencies only when some word has sub-words or thesaurus
    words to fall back on."""
    inside = lookup_tokens(terms, related)
    found: Mapping[str, int] = {}
    total = 0
    if inside:
        found, total = frequencies(sorted(set().union(inside, *(term_tokens(t) for t in terms))))
    return known_terms(terms, frequencies=found, titles_of=titles_of, related=related, total=total)


def _remembered(frequencies: Frequencies) -> Frequencies:
    """`frequencies` asking the index only once per token within one search."""
    known: dict[str, int] = {}
    total: list[int] = []

    def remembered(tokens: Sequence[str]) -> tuple[Mapping[str, int], int]:
        asked = [t for t in tokens if t not in known]
        if asked or not total:
            found, count = frequencies(asked)
            known.update({t: found.get(t, 0) for t in asked})
            total[:] = [count]
        return {t: known[t] for t in tokens if known[t]}, total[0]

    return remembered


def merge_duplicates(result: SearchResult) -> SearchResult:
    """The page without the later hits of a course it already shows: the same course on several platforms.

    A hit is left out when an earlier hit of the page lists it in also_on, so it stays one tap away, under the
    earlier hit's "also on". Totals, facets and the cursor still count records: the pages after this one
    are the same, and a page may hold fewer than `size` items.
    """
    shown: set[str] = set()
    kept: list[SearchHit] = []
    for hit in result.hits:
        if hit.uid in shown:
            continue
        kept.append(hit)
        shown.update(other.uid for other in hit.also_on)
    return replace(result, hits=kept, merged=result.merged + len(result.hits) - len(kept))


@dataclass
class UpsertResult:
    written: int = 0
    unchanged: int = 0


class IndexBackend(Protocol):
    """What the harvest pipeline and the search API need from an index."""

    def upsert(self, records: Iterable[Record]) -> UpsertResult:
        """Insert or replace records by uid; a record whose content_hash is unchanged is not rewritten."""

    def withdraw(self, uids: Iterable[str]) -> int:
        """Remove records by uid; returns how many were present."""

    def withdraw_source(self, source: str) -> int:
        """Remove every record of one source; returns how many."""

    def get(self, uid: str) -> Record | None:
        """One record with its raw payload, or None."""

    def cluster_of(self, uid: str) -> ClusterView | None:
        """The record's cluster: every member and the evidence that merged them (None: a course on its own)."""

    def relink(self, uids: Iterable[str]) -> int:
        """Re-cluster these records and all they may link to under the linker's current decisions (an admin's
        split or join applies at once); returns how many records were re-linked."""

    def search(self, query: SearchQuery) -> SearchResult:
        """Ranked, filtered, faceted, highlighted results. Raises QueryError for a bad cursor."""

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """Titles (or title words) that complete a prefix, for the search box."""

    def count(self, source: str | None = None) -> int:
        """Records in the index, for one source or all."""

    def content_hashes(self, source: str) -> dict[str, str]:
        """uid -> content_hash of every record of a source (for change detection)."""

    def iter_records(self, source: str | None = None) -> Iterable[Record]:
        """Every stored record (with raw), for reindexing."""

    def rebuild(self, records: Iterable[Record]) -> UpsertResult:
        """Make the index hold exactly `records` while searches keep answering (`edufed reindex`).

        Nothing is removed unless every record was written: a failed rebuild leaves the old content searchable.
        """

    def changes(self, query: ChangeQuery) -> list[Change]:
        """One page of the OAI-PMH change log (live and withdrawn records) in (datestamp, uid) order."""

    def count_changes(self, query: ChangeQuery) -> int:
        """How many change entries the whole list of `query` holds."""

    def change_sets(self) -> ChangeSets:
        """Every platform, theme and programme a change entry holds, and the earliest datestamp."""

    def keep_deleted(self, entries: Iterable[Change]) -> int:
        """Add deleted change entries (their datestamps and sets as given) for uids this index's log has no entry
        for, e.g. those of the index a rebuild was loaded from; returns how many were added."""

    def close(self) -> None:
        """Release files and connections."""
