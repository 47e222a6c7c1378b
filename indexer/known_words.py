"""Query terms put into words the index holds: pinyin as the Chinese words it spells in the catalogue's titles,
and a word no record holds as the sub-words of it that some do.

A learner typing `shufa` means 书法: the term then matches and scores as the Chinese word would (in tags and
descriptions too, not only the title's pinyin), so pinyin ranks as the characters do. The words are read from the
titles the pinyin finds (`analysis.pinyin_spelled`), so the catalogue itself says which characters it spells.
A word the cut keeps whole but no record holds (立遗嘱) also matches its dictionary sub-words that records hold
(遗嘱), instead of leaving the query with nothing to find.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import rjieba

from config.themes import ThemeTable
from indexer.analysis import (
    EXPANSION_WEIGHT,
    Alternative,
    QueryTerm,
    char_run_terms,
    clean_tokens,
    fold,
    pinyin_spelled,
    sub_word_cover,
)
from indexer.match_plan import (
    Frequencies,
    stray_characters,
    term_factor,
    term_frequency,
    term_tokens,
    weighted_terms,
    with_title_bonus,
)
from indexer.thesaurus import Related, thesaurus_candidates, with_thesaurus_words

TitlesOf = Callable[[QueryTerm, int], list[str]]
"""Folded titles of at most that many records a term matches."""

TITLES_READ = 100
"""Titles a pinyin term's words are read from: enough to see every common spelling, cheap on any index."""
MAX_SPELLED = 3
"""Chinese words a pinyin term becomes at most (the most frequent in those titles)."""
_MIN_SUB_WORD = 2


def pinyin_part(term: QueryTerm) -> QueryTerm | None:
    """The term with only its alternatives in the `pinyin` field, or None when it has none."""
    alternatives = tuple(a for a in term.alternatives if a.field == "pinyin")
    return replace(term, alternatives=alternatives) if alternatives else None


def spelled_words(term: QueryTerm, titles: Sequence[str]) -> list[str]:
    """The stretches of the titles that the term's pinyin readings spell, most frequent first (ties by text)."""
    return list(_spelled_words(tuple(a.tokens for a in term.alternatives if a.field == "pinyin"), tuple(titles)))


@functools.lru_cache(maxsize=256)
def _spelled_words(readings: tuple[tuple[str, ...], ...], titles: tuple[str, ...]) -> tuple[str, ...]:
    """`spelled_words`, kept for the same readings over the same titles: a pinyin query asked again (another page,
    filter or sort) reads the same titles, and segmenting them costs about 5 ms CPU at 100k records."""
    counts: Counter[str] = Counter()
    for title in titles:
        found = {word for reading in readings for word in pinyin_spelled(fold(title), reading)}
        counts.update(found)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(word for word, _ in ranked[:MAX_SPELLED])


def word_alternative(word: str) -> Alternative | None:
    """How a Chinese word matches the text fields as the index cuts it: one token, or its tokens as a phrase."""
    tokens = tuple(token for raw in rjieba.cut(word, False) for token in clean_tokens(raw).split())
    if not tokens:
        return None
    return Alternative("text", tokens, phrase=len(tokens) > 1)


def with_words(term: QueryTerm, words: Sequence[str], *, keep_pinyin: bool = True, as_typed: bool = False) -> QueryTerm:
    """The term matching `words` first (they then give its document frequency), then as before (without its
    `pinyin` alternatives unless `keep_pinyin`). `as_typed`: each word also matches as the word typed in Chinese
    does, by the dictionary words covering it (`sub_word_cover`: 心理 and 健康 of 心理健康), so that pinyin finds
    what its Chinese finds (xinlijiankang found 8 records holding 心理健康 as one word, 心理健康 found 15); at
    EXPANSION_WEIGHT, so that the records holding the word whole, which the learner spelled, rank first."""
    found = [alt for alt in map(word_alternative, words) if alt is not None]
    if as_typed:
        covers = (sub_word_cover(word) for word in words)  # () for a word no dictionary words cover
        found += [Alternative("text", cover, weight=EXPANSION_WEIGHT) for cover in covers if cover]
    rest = [alt for alt in term.alternatives if keep_pinyin or alt.field != "pinyin"]
    return replace(term, alternatives=tuple(dict.fromkeys([*found, *rest])))


def sub_words(word: str) -> list[str]:
    """Dictionary words inside `word` (rjieba search mode), longest first, of two characters or more."""
    found = {token for token, start, end in rjieba.tokenize(word, "search", False) if end - start < len(word)}
    return sorted((w for w in found if len(w) >= _MIN_SUB_WORD), key=lambda w: (-len(w), w))


def known_terms(
    terms: Sequence[QueryTerm],
    *,
    frequencies: Mapping[str, int],
    titles_of: TitlesOf | None,
    related: Related | None = None,
    total: int = 0,
) -> list[QueryTerm]:
    """The terms with pinyin spelled out as the catalogue's words, unknown words as their known sub-words, and a
    learner's word the catalogue rarely holds also as the words `related` (indexer.thesaurus) groups with it that
    the catalogue holds more often (`thesaurus_words`), a question's run of characters no record holds as its
    characters that say something (`_telling_characters`, when the question has other terms), each alternative's
    score weighted by how much its term says (match_plan.weighted_terms).

    `frequencies` holds the document frequency of every token of the terms, of their sub-words and of their
    related words (`lookup_tokens`); a term some record holds as typed is left as it is, but for its pinyin words
    and related words.
    """
    known: list[QueryTerm] = []
    split: list[int] = []
    for term in terms:
        pinyin = pinyin_part(term) if titles_of is not None else None
        if pinyin is not None and titles_of is not None:
            words = spelled_words(term, titles_of(pinyin, TITLES_READ))
            term = with_words(term, words, keep_pinyin=False, as_typed=True) if words else term
        elif sub_words(term.text) and not _held(term, frequencies):
            inside = [w for w in sub_words(term.text) if frequencies.get(w, 0) > 0]
            term = with_words(term, _outermost(inside)) if inside else term
        if related is not None:
            term = with_thesaurus_words(term, frequencies, related, most=_generic(total))
        if term.asked and stray_characters(term) and titles_of is not None and not titles_of(term, 1):
            split.append(len(known))
        known.append(term)
    if split and len(split) < len(known):  # a question of nothing but such runs keeps them: something to look for
        known = [new for at, term in enumerate(known) for new in (_telling_characters(term) if at in split else [term])]
    return with_title_bonus(weighted_terms(known), frequencies, total)


SPLIT_CHARACTER_FACTOR = 0.5
"""A character of a question's run no record holds is a term of its own when it says this much in general Chinese
(`term_factor`: 球 0.96, 烤 1.0, 退 0.8, 花 0.67; not 好, 个, 不, 给, 人, 得 at 0.3, 老 0.46, 吃 0.41)."""


def _telling_characters(term: QueryTerm) -> list[QueryTerm]:
    """The characters of a question's run of characters no record holds in any form (`stray_characters`: 球好 of
    老年人打什么球好, 烤个 of 想给孙女烤个蛋糕) that say something, each a term of its own, and none of the others.

    The cut glues a question's single characters into one run, and the run as a whole (a phrase of its characters)
    finds nothing: the question lost its subject, 球 of 门球 and 乒乓球 titles, and found 老年人 alone. The run
    stays one term where a record holds it as a word or a phrase (防骗, 多肉 of 多肉植物, 以房 of 以房养老).
    Measured on the quality suite (development sets main, heldout, heldout2): every such run split, its characters
    all kept, main learner_sentences nDCG 0.455 -> 0.496 but heldout2 learner recall 0.730 -> 0.708 (退 of 不给退
    found every 退休 title, 人 and 老 of 人老了 every 老年 one); only the characters saying something kept
    (SPLIT_CHARACTER_FACTOR, 0.5 as `says_something` asks of a word; 0.75 and 0.9 kept less of the gain), and a run
    split only where no record holds it as a phrase either (by its token alone, 以房 of 以房养老是不是骗局 was split
    and learner_course fell 0.955 -> 0.940 on FTS5): tantivy main learner_sentences 0.455/0.493/0.536 ->
    0.504/0.527/0.568 (nDCG/recall@50/MRR), heldout2 learner 0.547/0.730/0.693 -> 0.578/0.768/0.737; FTS5 0.449 ->
    0.490 and 0.547/0.730/0.749 -> 0.569/0.772/0.771; no class lower, heldout unchanged."""
    return [
        replace(character, asked=True, part=term.part)
        for c in term.text
        for character in char_run_terms([c])
        if term_factor(character) >= SPLIT_CHARACTER_FACTOR
    ]


def lookup_tokens(terms: Sequence[QueryTerm], related: Related | None = None) -> set[str]:
    """Tokens whose document frequencies `known_terms` needs besides the terms' own: their sub-words, and the
    tokens of the words `related` gives a term that may be expanded."""
    found = {word for term in terms for word in sub_words(term.text)}
    if len(terms) > 1:  # the words of a question, for its telling words (match_plan.with_title_bonus)
        found.update(token for term in terms if term.asked for token in term_tokens(term))
    if related is not None:
        found.update(word for term in terms for word in thesaurus_candidates(term, related))
    return found


def _generic(total: int) -> int | None:
    """The document frequency from which a thesaurus word says too little to add in a catalogue of `total` records:
    GENERIC_SHARE of them, and GENERIC_ROWS at least (in a small catalogue a quarter is a handful of records, which
    says nothing of how general a word is); None when the total is not known."""
    return max(GENERIC_ROWS, math.ceil(GENERIC_SHARE * total)) if total > 0 else None


def _held(term: QueryTerm, frequencies: Mapping[str, int]) -> bool:
    return any(all(frequencies.get(t, 0) > 0 for t in alt.tokens) for alt in term.alternatives)


def _outermost(words: list[str]) -> list[str]:
    """The words not inside a longer one of the list (遗嘱, not 遗 of it)."""
    return [w for w in words if not any(w != other and w in other for other in words)]


def named_themes(table: ThemeTable) -> dict[str, frozenset[str]]:
    """Each theme's words that name or nearly name it, folded: the theme's name and its two-character parts
    (职业技能: 职业, 技能), and the terms of the category rules giving it as primary theme (config/themes.yaml)
    that share a character with its name (养生保健: 健康, 卫生保健 — not 太极 or 烹饪, which name one subject of
    the theme; keyword rules are left out, their words being subjects too: 化学 is no name of 科学文化)."""
    found: dict[str, set[str]] = {}
    for rule in table.category_rules:
        if rule.primary:
            found.setdefault(fold(rule.primary), set()).update(fold(w) for w in rule.match)
    named: dict[str, frozenset[str]] = {}
    for theme, terms in found.items():
        words = {theme, *(theme[i : i + 2] for i in range(len(theme) - 1))}
        words.update(t for t in terms if len(t) >= _MIN_SUB_WORD and set(t) & set(theme))
        named[theme] = frozenset(words)
    return named


GENERIC_SHARE = 0.25
"""A word held by this share of the catalogue or more says little on its own (老年 in an elders' catalogue): bm25
gives it an idf of ln 4 or less, against about 3.5 for a subject's name held by 3 %."""
GENERIC_ROWS = 1_000
"""The fewest records a thesaurus word held by GENERIC_SHARE of the catalogue must be in to be left out (`_generic`)."""


def names_filtered_theme(
    terms: Sequence[QueryTerm],
    themes: Sequence[str],
    frequencies: Frequencies | None = None,
    *,
    theme_words: Mapping[str, frozenset[str]],
) -> bool:
    """Whether every word of the query names (or nearly names) a theme the search is filtered to (健康 under
    养生保健, 技能 under 职业技能), or says little, being held by GENERIC_SHARE of the records or more (老年 under
    心理健康; `frequencies` counts them). The filter already says what such a word asks for, so every record of
    the theme answers it, the records holding the word first. `theme_words` is the theme table's `named_themes`."""
    if not terms or not themes:
        return False
    named = set().union(*(theme_words.get(fold(t), frozenset()) for t in themes))
    unnamed = [term for term in terms if term.text not in named]
    if not unnamed:
        return True
    if frequencies is None:
        return False
    found, total = frequencies(sorted(set().union(*(term_tokens(t) for t in unnamed))))
    return total > 0 and all(term_frequency(t, found) >= GENERIC_SHARE * total for t in unnamed)
