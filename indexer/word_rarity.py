"""How much a word says in general Chinese: jieba's inverse document frequency table, as a weight factor.

A learner's sentence mixes the word of what they want with the words of how they ask (带, 注意, 需要, 以后,
心里, 怎么办). The catalogue's own document frequencies cannot tell them apart when the catalogue rarely holds
either; general Chinese can: the jieba package ships the IDF of 270,000 words over a large general corpus
(`jieba/analyse/idf.txt`), where 带 is 4.9, 注意 5.3, 健康 6.0, 书法 7.8, 二胡 9.8 and 八段锦 11.3. A word's
factor rises linearly from FLOOR for the commonest words to 1 for a word as rare as a subject's name; a word
missing from the table (a name, a new word: 微信, 进阶) is rare and gets 1. Only the data file is read: importing
jieba would bring in its own dictionary and pkg_resources.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from pathlib import Path

logger = logging.getLogger(__name__)

COMMON_IDF = 4.0
"""General IDF at and below which a word gets FLOOR (我 2.7, 什么 3.6); 需要 and 以后 (4.3) get 0.36."""
RARE_IDF = 8.0
"""General IDF from which a word counts fully: 老年人 8.0, 课程 8.1, 摄影 8.1, 二胡 9.8."""
FLOOR = 0.3
"""The factor of the commonest words: they still break ties between records holding the word that says most
(血压高吃什么: 吃 among 高血压 courses). On the main quality corpus 0.15 (clamped, not blended) measured learner
nDCG 0.879, 0.3 and 0.5 blended 0.883."""
_KEPT_BELOW = RARE_IDF
"""Only words below RARE_IDF are kept in memory (every other word's factor is 1): a tenth of the table."""


def rarity_factor(word: str) -> float:
    """FLOOR..1: how much `word` (folded, simplified) says, by its general IDF; 1 when the table lacks it."""
    idf = _common_words().get(word)
    if idf is None:
        return 1.0
    share = (idf - COMMON_IDF) / (RARE_IDF - COMMON_IDF)
    return FLOOR + (1.0 - FLOOR) * min(1.0, max(0.0, share))


@functools.lru_cache(maxsize=1)
def _common_words() -> dict[str, float]:
    """Word -> general IDF of the words below RARE_IDF; empty (every factor 1) when the table is not installed."""
    path = _idf_path()
    if path is None:
        logger.warning("jieba's IDF table is not installed: every query word weighs by the catalogue alone")
        return {}
    found: dict[str, float] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            word, _, value = line.rstrip("\n").rpartition(" ")
            try:
                idf = float(value)
            except ValueError:
                continue
            if word and idf < _KEPT_BELOW:
                found[word] = idf
    return found


def _idf_path() -> Path | None:
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "analyse" / "idf.txt"
        if path.is_file():
            return path
    return None
