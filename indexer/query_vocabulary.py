"""config/query_words.yaml (and the theme names of config/themes.yaml) as the query parser's QueryVocabulary:
folded, synonyms turned into alternatives.

Each catalogue word of a synonym list becomes one `Alternative` on the text fields: the word as a token when the
index keeps it whole (养老金, 摄影), or its tokens as a phrase when the index cuts it (广场舞 -> 广场 舞,
安宁疗护 -> 安宁 疗 护), weighted below the learner's own words (analysis.EXPANSION_WEIGHT). Everything is folded
like every query, so a learner typing traditional characters gets the same expansions.
"""

from __future__ import annotations

import functools

import rjieba

from config.query_words import QueryWords
from config.themes import ThemeTable
from indexer.analysis import EXPANSION_WEIGHT, Alternative, QueryVocabulary, clean_tokens, fold
from indexer.known_words import named_themes
from indexer.thesaurus import related_words


def query_vocabulary(table: QueryWords, themes: ThemeTable) -> QueryVocabulary:
    """The table, folded, with synonym lists as alternatives (query words that fold alike share their lists), and
    the words naming each theme of `themes`. Both are loaded by the entry point (config.loader) and passed here."""
    synonyms: dict[str, dict[Alternative, None]] = {}
    for key, words in table.synonyms.items():
        found = synonyms.setdefault(fold(key), {})
        for word in words:
            alternative = catalogue_word(word)
            if alternative is not None:
                found[alternative] = None
    return QueryVocabulary(
        synonyms={key: tuple(found) for key, found in synonyms.items() if found},
        fillers=frozenset(fold(w) for w in table.fillers),
        course_suffixes=tuple(sorted({fold(s) for s in table.course_suffixes}, key=lambda s: (-len(s), s))),
        theme_words=named_themes(themes),
        related=related_words if table.thesaurus else None,
    )


def catalogue_word(word: str) -> Alternative | None:
    """How one catalogue word matches the text fields, weighted as an expansion; None when it holds no word
    characters."""
    tokens = tuple(token for raw in rjieba.cut(fold(word), False) for token in clean_tokens(raw).split())
    if not tokens:
        return None
    return Alternative("text", tokens, phrase=len(tokens) > 1, weight=EXPANSION_WEIGHT)


@functools.lru_cache(maxsize=1)
def bundled_vocabulary() -> QueryVocabulary:
    """The vocabulary of the bundled query_words.yaml and themes.yaml, built once per process: the default of a
    backend constructed without one (tests, benchmarks, a script opening an index file). Entry points pass the
    vocabulary of their settings' files instead (`open_backend(settings, vocabulary=...)`).

    The one place below the entry points that reads configuration, and only the bundled files: imported here
    rather than at the top so that building a vocabulary from loaded objects never reaches the loader."""
    from config.loader import load_query_words, load_themes

    return query_vocabulary(load_query_words(), load_themes())
