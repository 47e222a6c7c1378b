"""Which records a text query returns: a minimum-should-match rule over its terms, weighted by specificity.

Every term gets a weight from how few records hold it (an idf over the index's own document frequencies),
lowered for words that say how a learner asks rather than what about (pronouns, adverbs, particles, a stray
single character). A record is returned when the terms it holds carry a third of the query's weight or more:
a rare word alone qualifies, a generic one (入门, 课程, 老年人, 健康) only beside another. The rule becomes a
`Plan`, a tree of all-of / any-of over term indexes that each backend renders (FTS5 MATCH, Elasticsearch
bool); the terms it leaves optional are still scored, so records holding every term rank first. A term no
record holds carries no weight: it can neither be required nor help.

Ranking weighs the words of a learner's question by how much each says in general Chinese (`weighted_terms`,
from the IDF table jieba ships: indexer.word_rarity): a record holding 遗嘱 outranks one holding 注意, whatever
either word's frequency in the catalogue, since the backends' bm25 already counts the catalogue's idf. A word
saying only which course of a series is wanted (入门, 提高班, 第二季, 下册) weighs less than the subject beside it:
二胡 提高班 ranks every 二胡 course above another subject's 提高班.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import rjieba

from indexer.analysis import (
    CHARS_BOUNDARY,
    QUESTION_TAGS,
    TEXT_FIELDS,
    Alternative,
    QueryTerm,
    clean_tokens,
    fold,
    is_pinyin,
)
from indexer.thesaurus import load_thesaurus
from indexer.word_rarity import rarity_factor

_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

SHARE_NEEDED = 1 / 3
"""Share of the query's weight the terms a record holds must carry: two words of like weight each qualify
alone, a word weighing less than half of the other does not. Measured on the quality suite: 1/2 loses the
records holding one of two words (multi_term recall 0.97 -> 0.79, learner nDCG 0.87 -> 0.82); 1/4 found a few
more (短视频制作 without 制作) but lets a generic word weighing a third of the other qualify alone."""
_FRAMING_FACTOR = 0.3
"""A word framing a question (analysis.QUESTION_TAGS) weighs at most this, however rare in general Chinese."""
_VERB_FACTOR = 0.8
"""A plain verb is as often the topic (沟通, 锻炼, 护理) as the frame of a question (注意, 需要): it weighs a little
less than a noun, enough that a noun of like rarity beside it decides, while still qualifying a record alone
beside a word of like weight (隔代 沟通 finds 亲子沟通). Measured on the quality suite: 0.6 lost those records
(multi_term recall 0.93 vs 0.97), 0.4 lost learners' questions too, 0.8 changed nothing else; framing words
at 0.15 measured as 0.3, at 0.5 they let 以后/在家 bring in unrelated courses (learner nDCG 0.87 -> 0.80)."""
QUALIFIER_FACTOR = 0.5
"""Score weight factor of a word saying which course of a series is wanted (入门, 提高班, 第二季, 下册, 2024版,
`QueryTerm.qualifier`) beside a word saying what is taught: a record holding only the qualifier (another
subject's 进阶) ranks below the subject's records at another level, those holding both first. Measured on the
quality suite's `qualified` queries: 0.5 and 0.7 alike (nDCG 0.941 -> 0.949, recall 0.927 -> 0.956), 0.3 let
the subject's records of another level pass those of the level asked for (nDCG 0.932). The match plan is left as
it is: lowering the qualifier's weight there too measured the same on the main corpus."""
TITLE_BONUS = 1.0
"""Score weight of a question's telling word found again in a record's title, subtitle or tags
(`with_title_bonus`), beside what the word already adds there. Measured on the quality suite's main corpus (before
telling words had to be rare in general Chinese, the bonus then times `term_factor`): 0.5, 1, 1.5 and 2 raised
learner_course nDCG 0.913 -> 0.949, 0.952, 0.967 and 0.967; from 1.5 a question's course title outweighed the
holders of its other words (老人睡不好觉怎么办 0.805 -> 0.612, learner 0.884 -> 0.872)."""
TELLING_SHARE = 0.5
"""A word of a question is telling when it weighs this share of the question's heaviest word or more (and is rare
in general Chinese). Measured without the rarity condition: every held word (share 0) or 0.3 gave the bonus to 手机
beside 通话 (手机怎么视频通话 nDCG 0.936 -> 0.064); 0.4 raised 以房养老是不是骗局 (0.827 -> 0.980: 养老 telling too)
but gave 手机 the bonus beside 照片 (手机拍相片 recall 0.897 -> 0.379)."""
_WEIGHT_STEP = 0.05
"""Score weights are rounded to this step: the embedded index scores each distinct weight in a pass of its own."""
_MAX_WEIGHED = 8
"""Terms the rule weighs (the heaviest); the others are optional. Keeps the rendered tree small."""
_COMMON_SHARE = 0.1
_COMMON_ROWS = 10_000
"""An optional term in more than this share and number of records is not scored: on a big index its bm25
over hundreds of thousands of rows costs more than its small idf adds."""


def load_query_tables() -> None:
    """Read now what query analysis otherwise reads on first use (the pinyin syllables, general Chinese word
    rarity, the thesaurus: ~0.1-1 s together), so that no learner's first pinyin word or question waits for it."""
    is_pinyin("shufa")
    rarity_factor("书法")
    load_thesaurus()


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Plan, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Plan, ...]


Plan = int | AllOf | AnyOf
"""An index into the query's terms, or all / any of several plans."""

Frequencies = Callable[[Sequence[str]], tuple[Mapping[str, int], int]]
"""token -> number of records holding it (in any field), and the number of records in the index."""


def every_term(count: int) -> Plan:
    return AllOf(tuple(range(count))) if count != 1 else 0


def any_term(count: int) -> Plan:
    return AnyOf(tuple(range(count))) if count != 1 else 0


def any_of_content(terms: Sequence[QueryTerm]) -> Plan:
    """Records holding any of the terms that say what a question is about: a record holding only a word that frames
    it (`QueryTerm.framing`: 怎么办, 有没有) answers nothing asked, so those words are left out when others remain."""
    content = tuple(i for i, term in enumerate(terms) if not term.framing)
    if not content or len(content) == len(terms):
        return any_term(len(terms))
    return content[0] if len(content) == 1 else AnyOf(content)


FEW_FOUND = 50
"""A learner's question finding fewer records than this (and some) found little: the tags its records share also
find the records the words missed (`feedback_term`), after every one of its own (backends.base). At most THEME_FEW,
the records a backend reads from the first (`first_page`), so that every one of a question's records is read.
Measured on the quality suite with the tags' records after the question's own: 10, 30 and 50 each kept every figure,
50 found most (held-out learner recall 0.759 -> 0.875 at 30, 0.877 at 50; main learner_words 0.483 -> 0.517)."""
FEEDBACK_WEIGHT = 0.1
"""Score weight of those tags, below the learner's words. It orders only the tags' records among themselves (the
question's own come first whatever their scores): 0.3, 0.1 and 0.01 measured the same on every class but one cell
(main learner_sentences nDCG on FTS5 0.445 at 0.1 and 0.3, 0.444 at 0.01)."""
FEEDBACK_TAGS = 3
"""Tags of a question's records taken (the most shared first), each shared by half of those publishing tags: one
tag found less (held-out learner recall 0.849 against 0.877 at 50; two tags 0.863)."""
_FEEDBACK_SHARE = 0.5
THEME_FEW = 50
"""Under a theme filter, a query the theme's records hold fewer times than this (and some) is a subject most of the
theme's courses name otherwise (培训 under 职业技能, 照护 under 生命尊严): the tags its holders share also find them
(`wants_theme_feedback`). Measured on the quality suite: 20, 30 and 50 each kept every figure, 50 found most (held-out
theme_filter recall 0.690 -> 0.893, 0.904, 0.916)."""
THEME_FEEDBACK_TAGS = 3
"""Tags of those holders taken (the most shared first): a subject's records carry its name and its family's
(缓和医疗, 临终关怀). One tag measured lower (held-out theme_filter recall 0.888 against 0.893 at 20)."""
THEME_FEEDBACK_WEIGHT = 0.01
"""Score weight of those tags, far below FEEDBACK_WEIGHT, so that they order the records lacking the word among
themselves and hardly move the word's holders: every holder publishing tags holds some of them, and a heavier tag
ranks the tagged holders before the untagged (quality suite, held-out theme_filter: at 0.3 诗歌 [科学文化] ranked 朗诵
courses before a 诗歌朗诵 course with no tags, nDCG 1.000 -> 0.876; at 0.1 no class fell on the development sets but
the third held-out set's theme_filter nDCG did, 0.894 -> 0.889; at 0.01 no query of either development set fell)."""


THEME_CHARACTER_WEIGHT = 0.1
"""Score weight of a word's characters where they stand in the titles, subtitles and tags of a filtered theme's
records, when no record of the theme holds the word (`theme_characters_term`)."""


def theme_characters_term(terms: Sequence[QueryTerm]) -> QueryTerm | None:
    """The Chinese characters of the query's words saying what it is about (`says_something`; every word when none
    does), each matching where it stands in a record's title, subtitle or tags (the `chars` column) at
    THEME_CHARACTER_WEIGHT times the character's rarity in general Chinese (word_rarity: 孙 0.80, 子 0.61, 上 0.3):
    under a theme filter whose records hold none of the words in any form, they order the theme's records (孙 of 孙子
    ranks the 孙辈 courses of 代际沟通 first). Only ever scored among the theme's records: alone, a character finds
    other subjects (法 of 书法 in every 法律 title)."""
    telling = [term for term in terms if says_something(term)] or list(terms)
    characters = dict.fromkeys(c for term in telling for run in _CJK.findall(term.text) for c in run)
    if not characters:
        return None
    found = tuple(
        Alternative("chars", (c,), weight=_rounded(THEME_CHARACTER_WEIGHT * rarity_factor(c)), title_bonus=True)
        for c in characters
    )
    return QueryTerm("".join(characters), found)


def wants_feedback(terms: Sequence[QueryTerm], *, total: int) -> bool:
    """Whether a search found little enough for `feedback_term`: a question of several words finding some records
    and fewer than FEW_FOUND. Asked before its hits are read for their topic, which costs an analysis of each."""
    return 0 < total < FEW_FOUND and len(terms) > 1 and all(term.asked for term in terms)


def wants_theme_feedback(terms: Sequence[QueryTerm], *, total: int) -> bool:
    """Whether a search under a theme filter found few enough records of the theme for its holders' tags to find
    the others (`THEME_FEW`); a word naming the theme or generic takes the theme's every record instead
    (known_words.names_filtered_theme)."""
    return bool(terms) and 0 < total < THEME_FEW


def feedback_term(
    hits: Sequence[Any],
    *,
    tags: int = 1,
    depth: int = FEW_FOUND,
    of_tagged: bool = False,
    weight: float = FEEDBACK_WEIGHT,
    keep: Callable[[str, tuple[str, ...]], bool] | None = None,
) -> QueryTerm | None:
    """The tag most of a question's few records on its topic share (`hits`: those holding a word saying what it is
    about; 党史 of the 中国共产党历史故事 courses that 有没有讲共产党过去的事的课 finds), as a term matching it at
    `weight` (FEEDBACK_WEIGHT); None when those records share no tag (at least two of them and half). Only for a
    search that `wants_feedback`, or `wants_theme_feedback`: then up to `tags` tags that `keep` accepts (given the
    tag and its tokens), read from the first `depth` hits, half of those publishing tags (`of_tagged`) sharing each."""
    counts: dict[str, int] = {}
    for hit in hits[:depth]:
        for tag in dict.fromkeys(fold(t) for t in hit.record.tags):
            counts[tag] = counts.get(tag, 0) + 1
    among = [hit for hit in hits[:depth] if hit.record.tags or not of_tagged]
    shared = sorted((-n, tag) for tag, n in counts.items() if n >= max(2, _FEEDBACK_SHARE * len(among)))
    found: list[Alternative] = []
    names: list[str] = []
    for _, tag in shared:
        tokens = tuple(token for raw in rjieba.cut(tag, False) for token in clean_tokens(raw).split())
        if tokens and _CJK.fullmatch(tag) and (keep is None or keep(tag, tokens)):
            found.append(Alternative("text", tokens, phrase=len(tokens) > 1, weight=weight))
            names.append(tag)
        if len(found) == tags:
            break
    if not found:
        return None
    return QueryTerm(" ".join(names), tuple(found))


def says_something(term: QueryTerm) -> bool:
    """Whether a term of a question is a word saying what it is about: two characters or more, not framing it, and
    not common in general Chinese (`term_factor` of half or more: 共产党, 身体; not 不会, 一块, 怎么办)."""
    return len(term.text) > 1 and not term.framing and term_factor(term) >= 0.5


def term_tokens(term: QueryTerm) -> set[str]:
    """The tokens whose document frequencies `weigh` needs."""
    return {
        token for alt in term.alternatives if not alt.title_bonus for token in alt.tokens if token != CHARS_BOUNDARY
    }


def term_frequency(term: QueryTerm, frequencies: Mapping[str, int]) -> int:
    """Records holding the word as typed (its first alternative, as its rarest token), or when nothing holds
    it, holding its best other alternative (pinyin, sub-words, synonyms): how specific the learner's word is."""
    counts = [min(frequencies.get(t, 0) for t in alt.tokens) for alt in term.alternatives if not alt.title_bonus]
    return counts[0] if counts and counts[0] else max(counts, default=0)


def weigh(term: QueryTerm, *, frequency: int, total: int) -> float:
    """How much a term says: its idf, lowered for question words and single characters; 0 when nothing holds it."""
    if frequency <= 0 or total <= 0:
        return 0.0
    idf = math.log(1 + (total - frequency + 0.5) / (frequency + 0.5))
    return idf * (_FRAMING_FACTOR if term.framing else _part_of_speech_factor(term.text))


def stray_characters(term: QueryTerm) -> bool:
    """Whether a term is a run of characters the cut made no word of (以房 of 以房养老, 后总 of 退休后总觉得孤独, 该备
    of 该备什么药): jieba's dictionary knows no word there, so general Chinese cannot say how much the run says."""
    return len(term.text) > 1 and _cut_into_characters(term.text)


@functools.lru_cache(maxsize=4096)
def _cut_into_characters(text: str) -> bool:
    return bool(_CJK.fullmatch(text)) and all(len(word) == 1 for word in rjieba.cut(text, False))


def _part_of_speech_factor(text: str) -> float:
    """1 for a content word; less for a question's framing words, a single character or a plain verb (注意,
    which a question about a will shares with medicine courses)."""
    if len(text) == 1:
        return _FRAMING_FACTOR
    tags = rjieba.tag(text, False)
    if len(tags) != 1:
        return 1.0
    if tagged_framing(text, tags[0][1]):
        return _FRAMING_FACTOR
    return _VERB_FACTOR if tags[0][1] == "v" else 1.0


def tagged_framing(word: str, tag: str) -> bool:
    """Whether jieba's part-of-speech tag of a whole word (`tag`, of `word`) says it frames a question (QUESTION_TAGS:
    pronouns, adverbs, particles, counts), for a word common in general Chinese (`rarity_factor` below 1: 怎么样,
    到底, 在家). A word that rare in general Chinese is never one of how a learner asks: tagged so, it is the tagger's
    slip on a subject's name (越剧 and 正声 tagged as adverbs) or a count (九十岁), which say what is asked: weighed as
    framing, 越剧 of 越剧 上册 weighed less than the volume, and the query found every 上册 course but the other
    volumes of 越剧."""
    return tag in QUESTION_TAGS and rarity_factor(word) < 1.0


def term_factor(term: QueryTerm) -> float:
    """How much a word of a learner's question says in general Chinese (word_rarity: 需要 0.36, 带 0.45, 注意 0.53,
    健康 0.64, 书法 0.97, 遗嘱 1), at most _FRAMING_FACTOR for a word framing the question (什么, 以后), and
    _FRAMING_FACTOR for a run of stray characters (`stray_characters`: 以房 of 以房养老), which the IDF table lacks
    and so would count as rare as a subject's name.

    Measured on the quality suite (main corpus, tantivy engine): the run at _FRAMING_FACTOR raised learner_course nDCG
    0.944 -> 0.959 (以房养老是不是骗局 0.827 -> 1.000: 识破养老骗局 first, no longer the records holding 以房 deep in a
    lesson list); single characters at _FRAMING_FACTOR too (吃, 睡, 觉) measured the same on that engine but lowered
    learner on FTS5 (0.883 -> 0.875: 老人睡不好觉怎么办, whose 睡 is what is asked), so a single character keeps its
    rarity. Only the score weights change: the match plan weighs such a run as before (weighing it as a single
    character there lost 多肉植物怎么养's records, a word the dictionary lacks)."""
    word = _chinese_word(term)
    if not word:
        return 1.0
    if stray_characters(term):
        return _FRAMING_FACTOR
    factor = rarity_factor(word)
    tags = rjieba.tag(word, False)
    if term.framing or (len(tags) == 1 and tagged_framing(word, tags[0][1])):
        return min(factor, _FRAMING_FACTOR)
    return factor


def _chinese_word(term: QueryTerm) -> str:
    """The term's Chinese word: as typed, or the first word its pinyin spells (known_words); "" when none."""
    if _CJK.fullmatch(term.text):
        return term.text
    for alt in term.alternatives:
        joined = "".join(alt.tokens)
        if alt.field == "text" and _CJK.fullmatch(joined):
            return joined
    return ""


def qualifiers(terms: Sequence[QueryTerm]) -> set[int]:
    """The indexes of the terms that qualify another term of the query (none when every term is a qualifier)."""
    found = {i for i, term in enumerate(terms) if term.qualifier}
    return found if len(found) < len(terms) else set()


def weighted_terms(terms: Sequence[QueryTerm]) -> list[QueryTerm]:
    """The terms with every alternative's score weight scaled by `term_factor` where the term is a word of a
    question (`QueryTerm.asked`: 怎么带孙子, 立遗嘱要注意什么), so that records holding the words that say most rank
    first on every backend. The words of a name or a compound (数字人民币, 短视频制作, 书法 入门) are left as they
    are: each says what is wanted, and the index's own idf already ranks the rarer first. A word saying only which
    course of a series is wanted (`qualifiers`: 入门, 提高班, 第二季) beside one saying what is taught is scaled by
    QUALIFIER_FACTOR. A query of one term is left as it is."""
    if len(terms) < 2:
        return list(terms)
    weighted = []
    qualifying = qualifiers(terms)
    for i, term in enumerate(terms):
        factor = term_factor(term) if term.asked else 1.0
        if i in qualifying:
            factor *= QUALIFIER_FACTOR
        alternatives = tuple(replace(a, weight=_rounded(a.weight * factor)) for a in term.alternatives)
        weighted.append(replace(term, alternatives=alternatives))
    return weighted


def with_title_bonus(terms: Sequence[QueryTerm], frequencies: Mapping[str, int], total: int) -> list[QueryTerm]:
    """The terms of a learner's question (every term `asked`: a query typed as one sentence, not words typed apart)
    with its telling words also scored where they stand in a record's title, subtitle or tags (the `chars`
    column, which every backend holds), at TITLE_BONUS.

    The course whose title names 果树 answers 果树怎么修剪 better than a record holding 果树 and 修剪 deep in its
    lesson list, which bm25 over the weighted columns ranked first: a word's tenfold title copy saturates (bm25's
    k1), so a title counted little more than a description, and holding one more word decided. A word is telling when it
    weighs TELLING_SHARE of the question's heaviest word or more (catalogue idf times `term_factor`, as the match
    plan and the score weigh it; a word the catalogue lacks weighs by the alternative that matches, 相片 by 照片), so
    a word many records hold beside a rarer one (手机 beside 通话) gets no bonus; and when it is rare in general
    Chinese too (`term_factor` 1: 果树, 骗局, 药箱, not 老人, 旅游, 怎么办), since a word as common as 老人 in titles
    says little of which course answers (on the FTS5 engine, whose bm25 weighs a phrase by the rows holding it
    whole, 老人睡不好觉怎么办 fell 0.802 -> 0.612 with 老人 telling). A question with no telling word whose one
    subject word is general (`_subject_word`: 手机 of 想学点手机, 历史 of 有没有讲历史的课) gets the bonus for that
    word: the courses about phones, whose titles name 手机, then rank above records holding it once in passing
    beside a title holding the question's stray 点 (零起点), which bm25 ranked first (quality suite, general_word
    0.782 -> 0.804 nDCG). Only a word some record holds as the index
    keeps it whole gets one. The bonus never counts in the term's document frequency
    (`Alternative.title_bonus`); as an alternative of the term it could also find a title holding the characters
    where the cut did not keep the word (no query of the quality suite found one more record)."""
    if len(terms) < 2 or total <= 0 or not all(term.asked for term in terms):
        return list(terms)
    weights = {
        i: weigh(term, frequency=term_frequency(term, frequencies), total=total) * term_factor(term)
        for i, term in enumerate(terms)
        if term.asked and not term.qualifier
    }
    heaviest = max(weights.values(), default=0.0)
    if heaviest <= 0:
        return list(terms)
    found = list(terms)
    telling = {
        i
        for i, weight in weights.items()
        if term_factor(terms[i]) >= 1.0  # rare in general Chinese (word_rarity: 果树, 骗局; not 老人, 旅游)
        and weight >= TELLING_SHARE * heaviest
    }
    if not telling:  # a question whose one subject word is general (想学点手机, 有没有讲历史的课)
        telling = _subject_word(terms, weights, frequencies)
    for i in telling:
        word = _typed_word(terms[i])
        if len(word) > 1 and frequencies.get(word, 0) > 0:
            bonus = Alternative("chars", tuple(word), phrase=True, weight=_rounded(TITLE_BONUS), title_bonus=True)
            found[i] = replace(terms[i], alternatives=(*terms[i].alternatives, bonus))
    return found


def _subject_word(terms: Sequence[QueryTerm], weights: Mapping[int, float], frequencies: Mapping[str, int]) -> set[int]:
    """The index of a question's one subject word, when none of its words is telling: its heaviest word not framing
    it (catalogue idf times `term_factor`), when that is a word of two characters or more and no other word of the
    question says something: a word of two characters or more that `says_something`, or a single character as rare
    in general Chinese (`term_factor` of half or more) and held by fewer records than the subject word. 手机 of
    想学点手机 (beside 点, common in general Chinese), 历史 of 有没有讲历史的课 (beside 有没有 and 讲, which more
    records hold: 全5讲). None when another word says what is asked (睡 of 老人睡不好觉怎么办, rarer than 老人), two
    words say something (法律 and 知识 of 想学点法律知识), or the heaviest is a run of characters the cut made no
    word of (`stray_characters`: 花老 of 花老是养死怎么办)."""
    content = [i for i in weights if not terms[i].framing]
    if not content:
        return set()
    heaviest = max(content, key=lambda i: weights[i])
    held = term_frequency(terms[heaviest], frequencies)

    def says_more(term: QueryTerm) -> bool:
        if len(term.text) > 1:
            return says_something(term)
        return term_factor(term) >= 0.5 and 0 < term_frequency(term, frequencies) < held

    others = any(says_more(terms[i]) for i in content if i != heaviest)
    word = terms[heaviest]
    return {heaviest} if len(word.text) > 1 and not stray_characters(word) and not others else set()


def _typed_word(term: QueryTerm) -> str:
    """The Chinese word a term matches first, kept whole by the cut (果树; 遗嘱 for 立遗嘱); "" when none."""
    first = term.alternatives[0] if term.alternatives else None
    if first is None or first.field != "text" or len(first.tokens) != 1 or not _CJK.fullmatch(first.tokens[0]):
        return ""
    return first.tokens[0]


def _rounded(weight: float) -> float:
    return max(_WEIGHT_STEP, round(round(weight / _WEIGHT_STEP) * _WEIGHT_STEP, 4))


def match_plan(terms: Sequence[QueryTerm], frequencies: Frequencies) -> Plan:
    """The plan of a query's terms: every term when one or none is known, else the weighted rule."""
    if len(terms) < 2:
        return every_term(len(terms))
    found, total = frequencies(sorted(set().union(*(term_tokens(t) for t in terms))))
    counts = [term_frequency(t, found) for t in terms]
    weights = [weigh(t, frequency=c, total=total) for t, c in zip(terms, counts, strict=True)]
    weighed = sorted((i for i, w in enumerate(weights) if w > 0), key=lambda i: (-weights[i], i))[:_MAX_WEIGHED]
    if not weighed or all(terms[i].framing for i in weighed):
        # nothing held, or only the words framing a question (怎么办 of 水管漏水怎么办): every term, so the words it
        # asks about decide, and a record holding only how the learner asks is not an answer
        return every_term(len(terms))
    need = SHARE_NEEDED * sum(weights[i] for i in weighed)
    required = _threshold(weighed, weights, need)
    assert required is not None and required is not True  # the heaviest terms together always qualify
    used = plan_terms(required)
    common = max(_COMMON_ROWS, _COMMON_SHARE * total)
    optional = [i for i in range(len(terms)) if i not in used and 0 < counts[i] <= common]
    if not optional:
        return required
    return AllOf((required, AnyOf(tuple(sorted(used | set(optional))))))


COMMON_HELD = 0.8
"""`term_factor` below which a word records hold says too little to answer a query whose subject no record
holds (`subject_absent`): 训练 0.76, 手机 0.68, 家里 0.6; not 维修 0.93 or 书法 0.97, a subject's name itself
(书法 字帖, where no record holds 字帖, still finds the calligraphy courses)."""


def subject_absent(terms: Sequence[QueryTerm], frequencies: Frequencies) -> bool:
    """Whether words typed as a query (not a learner's question) name a subject no record holds in any form,
    beside words of theirs that records hold but that are common in general Chinese (COMMON_HELD): 马拉松 of
    马拉松训练, beside 训练. The catalogue has nothing on it, and the records holding the other word are about
    something else (声乐基础训练, 记忆力训练): the search (backends.base.search_in_steps) then asks for every term in
    place of its `match_plan`, finds nothing, and no fallback relaxes it.

    The subject is a noun of two characters or more, rare in general Chinese (`rarity_factor` 1: 马拉松, 水管;
    not 苹果 0.92), not a qualifier and not a run of stray characters, none of whose alternatives (pinyin words,
    sub-words, thesaurus words) any record holds. A query with a held word saying more than COMMON_HELD (书法 of
    书法 字帖) is left to the weighted rule: that word may be what it asks about. So is a learner's question
    (`QueryTerm.asked`): its words and the tags of its records may still reach what it asks (老伴走了心里难受, whose
    老伴 no record of the held-out set holds, finds the courses on grief that way; measured, the rule applied to
    questions too emptied that answer and 老母亲病危最后的日子怎么照顾's, which had found relevant records, beside
    six of main's that had found none)."""
    if len(terms) < 2 or any(term.asked for term in terms):
        return False
    found, _ = frequencies(sorted(set().union(*(term_tokens(t) for t in terms))))
    held = [term_frequency(term, found) > 0 for term in terms]
    unheld = [term for term, h in zip(terms, held, strict=True) if not h]
    if len(unheld) in (0, len(terms)) or not any(_names_a_subject(term) for term in unheld):
        return False
    return all(term_factor(term) < COMMON_HELD for term, h in zip(terms, held, strict=True) if h)


def _names_a_subject(term: QueryTerm) -> bool:
    """A noun of two characters or more, rare in general Chinese, saying what a query is about (`subject_absent`)."""
    if len(term.text) < 2 or term.framing or term.qualifier or not _CJK.fullmatch(term.text):
        return False
    if stray_characters(term) or rarity_factor(term.text) < 1.0:
        return False
    tags = rjieba.tag(term.text, False)
    return len(tags) == 1 and tags[0][1].startswith("n")


def _threshold(order: Sequence[int], weights: Sequence[float], need: float) -> Plan | bool | None:
    """Terms of `order` (heaviest first) whose weights reach `need`: True when nothing is needed, None when
    they cannot."""
    if need <= 1e-9:
        return True
    if not order or sum(weights[i] for i in order) < need - 1e-9:
        return None
    first, rest = order[0], order[1:]
    with_first = _threshold(rest, weights, need - weights[first])
    without = _threshold(rest, weights, need)
    taken: Plan | None
    if with_first is True:
        taken = first
    elif with_first is None or with_first is False:
        taken = None
    else:
        taken = _join(AllOf, first, with_first)
    if without is None or without is False:
        return taken
    if without is True:  # cannot happen while need > 0
        return True
    return without if taken is None else _join(AnyOf, taken, without)


def _join(kind: type[AllOf] | type[AnyOf], left: Plan, right: Plan) -> Plan:
    parts: list[Plan] = []
    for part in (left, right):
        parts.extend(part.parts if isinstance(part, kind) else (part,))
    return kind(tuple(parts))


COORDINATION_STEP = 0.25
"""Words typed apart (`wants_coordination`) rank the records by the share of the query's weight they hold, in steps of
this share, then as the engine scored them (`coordination_tier`): a record holding a quarter more of what was typed
ranks first, whatever bm25 gave a record holding one word many times. Measured on the development sets (main, the
held-out set and the second held-out set, both SQLite engines): 0.25 raised the second held-out set's multi_term nDCG
0.938 -> 0.959 (植物识别 下册, 家庭保险 第二学期: the subject's record of the part asked first) and main's pinyin
0.947 -> 0.952, lowering nothing; 0.1 also ranked a subject's record of another level below the level asked of
another subject (main multi_term 0.954 -> 0.944); 0.5 moved only the pinyin query. Learners' questions keep the
engine's order: ranked so, a record holding 果树 and 修剪 deep in its lesson list passed the course whose title names
果树 (main learner_course 0.959 -> 0.939)."""


def wants_coordination(terms: Sequence[QueryTerm]) -> bool:
    """Whether a query's records are ranked by the share of its weight they hold (COORDINATION_STEP): words typed
    apart (parts separated by spaces: `QueryTerm.part`), not all of them a learner's question."""
    return len({term.part for term in terms}) > 1 and not all(term.asked for term in terms)


def coordination_weights(terms: Sequence[QueryTerm], frequencies: Mapping[str, int], total: int) -> list[float]:
    """How much each term says, as the match plan weighs it (`weigh`), times `term_factor` for a word of a question;
    0 for a question's word that says nothing of what it is about (`says_something`)."""
    weights = []
    for term in terms:
        weight = weigh(term, frequency=term_frequency(term, frequencies), total=total)
        if term.asked:
            weight = weight * term_factor(term) if says_something(term) else 0.0
        weights.append(weight)
    return weights


def coordination_tier(terms: Sequence[QueryTerm], weights: Sequence[float], held: Sequence[bool]) -> int:
    """The step (COORDINATION_STEP) of the query's weight (`weights`, of `terms`) that the parts a record holds carry: a
    part typed apart (`QueryTerm.part`) counts when the record holds each of its words that weighs something, so that
    a record holding 中国 and 基础班 of 中国结 基础班 does not pass the 中国结 courses."""
    return _tier(_parts(terms), weights, held)


def _parts(terms: Sequence[QueryTerm]) -> list[list[int]]:
    """The indexes of the terms of each part typed apart."""
    parts: dict[int, list[int]] = {}
    for i, term in enumerate(terms):
        parts.setdefault(term.part, []).append(i)
    return list(parts.values())


def _tier(parts: Sequence[Sequence[int]], weights: Sequence[float], held: Sequence[bool]) -> int:
    whole = sum(weights)
    if whole <= 0:
        return 0
    carried = sum(
        sum(weights[i] for i in members) for members in parts if all(held[i] for i in members if weights[i] > 0)
    )
    return round(carried / whole / COORDINATION_STEP)


_TIERS_TRIED = 6
"""Terms up to which `tiers_differ` tries every set of them (at most 63 sets); a query of more is taken to differ
(its records are read): trying the 1,023 sets of ten terms took ~5 ms."""


def tiers_differ(plan: Plan, terms: Sequence[QueryTerm], weights: Sequence[float]) -> bool:
    """Whether two records `plan` returns can stand in different tiers (`coordination_tier`): False when every set of
    terms satisfying the plan carries the same step of the weight (古琴 入门: 入门 weighs too little to move a record),
    so that no record need be read to rank them."""
    count = len(weights)
    if count > _TIERS_TRIED:
        return True
    parts = _parts(terms)
    tiers = set()
    for mask in range(1, 1 << count):
        held = [bool(mask >> i & 1) for i in range(count)]
        if plan_holds(plan, held):
            tiers.add(_tier(parts, weights, held))
            if len(tiers) > 1:
                return True
    return False


def plan_holds(plan: Plan, held: Sequence[bool]) -> bool:
    """Whether a record holding the terms `held` (by index) satisfies `plan`."""
    if isinstance(plan, int):
        return held[plan]
    if isinstance(plan, AllOf):
        return all(plan_holds(part, held) for part in plan.parts)
    return any(plan_holds(part, held) for part in plan.parts)


def plan_terms(plan: Plan) -> set[int]:
    """The indexes of the terms a plan uses."""
    if isinstance(plan, int):
        return {plan}
    return set().union(*(plan_terms(p) for p in plan.parts))


def missing_terms(terms: Sequence[QueryTerm], fields: Mapping[str, str]) -> tuple[str, ...]:
    """The terms a record's analyzed fields (DocumentText.fields) do not hold, as the index would match them. A
    title-bonus alternative only scores (a question's telling word in a title): a record matching a term through
    it alone does not hold the word the learner typed."""
    held = _Held(fields)
    alternatives = [[alt for alt in t.alternatives if not alt.title_bonus] for t in terms]
    return tuple(t.text for t, alts in zip(terms, alternatives, strict=True) if not any(map(held.holds, alts)))


class _Held:
    """The tokens of one record's analysed fields: each field split, and each group's tokens gathered, once, as the
    alternatives asking for them come (a page's every hit is asked about every alternative of every term)."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self._fields = fields
        self._tokens: dict[str, list[str]] = {}
        self._present: dict[str, set[str]] = {}

    def holds(self, alt: Alternative) -> bool:
        names = TEXT_FIELDS if alt.field == "text" else (alt.field,)
        if not alt.phrase:
            present = self._present.get(alt.field)
            if present is None:
                present = self._present[alt.field] = set().union(*map(self._split, names))
            return all(t in present for t in alt.tokens)
        size = len(alt.tokens)
        fields = [self._split(name) for name in names]
        return any(tuple(field[i : i + size]) == alt.tokens for field in fields for i in range(len(field) - size + 1))

    def _split(self, name: str) -> list[str]:
        found = self._tokens.get(name)
        if found is None:
            found = self._tokens[name] = self._fields.get(name, "").split()
        return found
