"""The Chinese text pipeline every index backend shares: folding, segmentation, pinyin and query parsing.

Index side, every text field goes through `fold` (NFKC, traditional -> simplified, lowercase) and rjieba in
search mode (HMM off), and is stored as space-separated tokens: `analyze_fields`. Titles get two more fields:
`chars`, the title/subtitle/tags split into single CJK characters (so one-character queries such as 茶 or 琴
find 茶艺 and 古琴), and `pinyin`, the title as toneless pinyin syllables (智能手机入门 -> "zhi neng shou ji ru
men", each Chinese word read as a whole so that polyphones come out right), so a learner typing `shufa`, `ba duan
jin` or `guangchangwu` finds 书法, 八段锦 or 广场舞 whatever the segmenter does with the characters.

Query side, `parse_query` folds the text, splits it on whitespace and cuts each part in precise mode. The
result is a list of `QueryTerm`s that must all match (AND); each term matches if any of its `Alternative`s
does:

* a multi-character word W: W as a token of a text field, or (when rjieba's search mode splits W into
  dictionary sub-words covering it) all of those sub-words, so 智能手机 still finds "智能型手机"; with
  `widen=True` also W's characters as a phrase in `chars` (a substring match on the title), which a
  backend tries only when the plain query found nothing, because unigram phrases are slow on a big index;
* a run of single characters (能智, 茶): the characters as a phrase of adjacent tokens in the text fields, or
  as a phrase in `chars`. A phrase keeps order and adjacency, so 能智 does not match 智能手机;
* a latin word: the token in the text fields (Excel, AI), and, when it spells two or more pinyin
  syllables, those syllables as a phrase in `pinyin` (shufa -> "shu fa"; every way of reading the string as
  syllables, xian -> "xian" or "xi an"); syllables typed with spaces between them (ba duan jin, xi'an) are
  one such term.

With a `QueryVocabulary` (config/query_words.yaml, through indexer.query_vocabulary), filler words and stop
characters are left out while other words remain (怎么用微信 -> 微信), a word's synonyms join its
alternatives (跳舞 -> 舞蹈, 广场 舞 as a phrase), and a word with a course ending also matches its stem
(书法课 -> 书法).

Tokens are normalized the way an FTS5 unicode61 tokenizer would see them (runs of non-word characters become
one space), so a backend may store the strings as they are and tokenize on whitespace.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from typing import Literal

import pypinyin
import rjieba

from indexer.pinyin_query import initials_tokens, is_initials, pinyin_parts

TEXT_FIELDS = ("title", "subtitle", "tags", "description", "people", "provider")
"""Fields holding segmented words; a query word may match any of them."""

_NONWORD = re.compile(r"[\W_]+")
_PUNCTUATION_TOKENS = re.compile(r"[^\w\x1f ]+|_+")
_CJK_CHAR = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_ONLY = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile("[a-z]+")
_SEPARATOR = "\x1f"
_NOT_SYLLABLES = {"n", "m", "ng", "hm", "hng", "ê"}
_QUERY_STOP_CHARS = set("的了和与及或之在是也就都而着吗呢吧啊")
QUESTION_TAGS = frozenset({"r", "p", "c", "u", "uj", "ul", "uz", "d", "y", "e", "o", "m", "q", "f", "zg"})
"""jieba part-of-speech tags of words that frame a question (pronouns, prepositions, adverbs, particles...)."""
_MAX_TERMS = 32
_MAX_PINYIN_CHARS = 40
_MAX_SPLITS = 8
_MAX_READINGS = 4

_converter_lock = threading.Lock()
_converter: object | None = None
_syllables: frozenset[str] | None = None


def _t2s() -> object:
    """The OpenCC traditional->simplified converter, built once.

    OpenCC's converter is immutable after construction, so one instance serves every thread; only its
    creation is guarded by a lock.
    """
    global _converter
    if _converter is None:
        with _converter_lock:
            if _converter is None:
                import opencc

                _converter = opencc.OpenCC("t2s")
    return _converter


def fold(text: str) -> str:
    """Full-width -> half-width (NFKC), traditional -> simplified, lowercase."""
    if len(text) <= _SHORT_TEXT:
        return _fold_short(text)
    return _fold(text)


_SHORT_TEXT = 64
"""Short texts (titles, tags, category names, people) repeat across a catalogue's records: their folds are
cached (a few MB at most); long ones (descriptions) rarely repeat and are folded every time."""


@functools.lru_cache(maxsize=8192)
def _fold_short(text: str) -> str:
    return _fold(text)


def _fold(text: str) -> str:
    if text.isascii():
        # ASCII is NFKC already and holds nothing OpenCC's t2s changes (see _t2s_may_change)
        return text.lower()
    # Full-width forms first, each distinct one replaced at once: NFKC of a whole Chinese text costs ~10x this,
    # and only runs when something else is left to normalize.
    for char in set(_FULLWIDTH.findall(text)):
        text = text.replace(char, _HALF_WIDTH[char])
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    if _t2s_may_change().search(text) is None:
        return text.lower()
    return str(_t2s().convert(text)).lower()  # type: ignore[attr-defined]


_FULLWIDTH = re.compile("[\uff01-\uff5e\u3000]")
_HALF_WIDTH = {c: unicodedata.normalize("NFKC", c) for c in map(chr, [*range(0xFF01, 0xFF5F), 0x3000])}
_T2S_PHRASE_MARKS = "哩坏沈甦瞭藉衹覆"
"""One character of each phrase OpenCC's t2s converts although none of its characters changes alone (深沈 ->
深沉, 回覆 -> 回复, 英哩 -> 英里...): a text without any of them matches none of those phrases."""
_T2S_SCANNED = ((0x2E80, 0xA000), (0xF900, 0xFB00), (0xFE30, 0xFE50))
"""The code points of the basic plane whose t2s conversion `_t2s_may_change` tries: the CJK blocks (radicals,
symbols, kana, unified ideographs and extension A, compatibility ideographs and forms). Outside them and the
supplementary planes, t2s changes nothing."""
_t2s_pattern: re.Pattern[str] | None = None


def _t2s_may_change() -> re.Pattern[str]:
    """What lets OpenCC's t2s change a text: a character it converts alone (found once by converting each scanned
    code point, ~15 ms CPU), one of `_T2S_PHRASE_MARKS`, or any character outside the basic plane. A text
    without them matches no entry of the converter's dictionaries that changes it, and is left as it is. Lone
    surrogates count too, so that a text holding one still fails in the converter as it always did."""
    global _t2s_pattern
    if _t2s_pattern is None:
        chars = [chr(c) for start, end in _T2S_SCANNED for c in range(start, end)]
        converted = str(_t2s().convert("\n".join(chars))).split("\n")  # type: ignore[attr-defined]
        if len(converted) != len(chars):
            raise RuntimeError("OpenCC t2s converted the scan of code points to a different count of lines")
        changed = {char for char, out in zip(chars, converted, strict=True) if out != char}
        listed = "".join(map(re.escape, sorted(changed.union(_T2S_PHRASE_MARKS))))
        # two classes: one of the basic plane alone compiles to a bitmap, searched ~10x faster than a list
        _t2s_pattern = re.compile(f"[{listed}\ud800-\udfff]|[\U00010000-\U0010ffff]")
    return _t2s_pattern


def clean_tokens(text: str) -> str:
    """Runs of non-word characters (punctuation, spaces, symbols) collapsed to one space."""
    return _NONWORD.sub(" ", text).strip()


def segment(text: str) -> list[str]:
    """Search-mode tokens of the folded text, without punctuation or whitespace tokens."""
    return index_text(text).split()


def index_text(text: str) -> str:
    """One field as the index stores it: folded, cut in search mode, tokens joined by spaces."""
    return analyze_fields([text])[0]


def analyze_fields(texts: Sequence[str]) -> list[str]:
    """`index_text` of several fields at once (one fold and one rjieba call for a whole record)."""
    joined = _SEPARATOR.join(t.replace(_SEPARATOR, " ") for t in texts)
    return _cut_fields(fold(joined))


def _cut_fields(folded: str) -> list[str]:
    """Search-mode tokens of separator-joined folded fields, cleaned, one string per field."""
    tokens = " ".join(rjieba.cut_for_search(folded, False))
    # Replacing only non-space runs, then split/join, is ~2x faster than a regex over every space.
    return [" ".join(part.split()) for part in _PUNCTUATION_TOKENS.sub(" ", tokens).split(_SEPARATOR)]


@dataclass(frozen=True)
class DocumentText:
    """A record's text as the index stores it: `fields` maps TEXT_FIELDS, "pinyin" and "chars" to tokens."""

    fields: dict[str, str]
    folded_title: str
    title_pinyin: str


def analyze_document(
    *, title: str, subtitle: str, tags: str, description: str, people: str, provider: str,
    folded: Mapping[str, str] | None = None,
) -> DocumentText:  # fmt: skip
    """Every indexed field of one record, with one rjieba call for the whole record.

    `folded` may map some of the texts to their `fold` already computed (RecordBuilder folds title, subtitle,
    tags and description for its rules); folding field by field gives what folding the joined text gives.
    """
    raw = (title, subtitle, tags, description, people, provider)
    if folded:
        joined = _SEPARATOR.join((folded.get(t) or fold(t)).replace(_SEPARATOR, " ") if t else "" for t in raw)
    else:
        joined = fold(_SEPARATOR.join(t.replace(_SEPARATOR, " ") for t in raw))
    fields = dict(zip(TEXT_FIELDS, _cut_fields(joined), strict=True))
    folded_title, folded_subtitle, folded_tags = joined.split(_SEPARATOR, 3)[:3]
    fields["pinyin"] = pinyin_syllables_text(folded_title)
    fields["chars"] = chars_text(f"{folded_title} {folded_subtitle} {folded_tags}")
    return DocumentText(fields=fields, folded_title=folded_title, title_pinyin=title_pinyin_key(folded_title))


CHARS_BOUNDARY = "zzsep"
"""Token put between the words of `chars` (at spaces and punctuation, and between tags), so that a phrase of
single characters never matches across them: tags 人工智能 / 智能手机 must not make 能智 adjacent."""


def chars_text(folded: str) -> str:
    """Folded text with every character as its own token (only Chinese characters are ever queried here)."""
    runs = [" ".join(run) for run in _NONWORD.split(folded) if run]
    return f" {CHARS_BOUNDARY} ".join(runs)


@functools.lru_cache(maxsize=200_000)
def word_pinyin(word: str) -> str:
    """Toneless pinyin of a (folded) word, syllables joined: 书法 -> "shufa"; non-Chinese text is kept."""
    return clean_tokens("".join(pypinyin.lazy_pinyin(word))).replace(" ", "")


@functools.lru_cache(maxsize=200_000)
def word_syllables(word: str) -> tuple[str, ...]:
    """Toneless pinyin syllables of a folded Chinese word read as a whole: 银行 -> ("yin", "hang")."""
    return tuple(s for s in (clean_tokens(p) for p in pypinyin.lazy_pinyin(word)) if s)


def pinyin_syllables_text(folded: str) -> str:
    """The `pinyin` field: the syllables of every Chinese word of the text, CHARS_BOUNDARY between runs.

    Words come from the precise cut (cached per word), so 长 reads chang in 长城 and zhang in 成长; the
    syllables of neighbouring words sit side by side, so a phrase of syllables finds a word the cut splits.
    After them, the initials of the title's words of three or four syllables (indexer.pinyin_query: bdj, znsj).
    """
    tokens: list[str] = []
    runs: list[list[tuple[str, ...]]] = [[]]
    for word in rjieba.cut(folded, False):
        if _CJK_ONLY.fullmatch(word):
            tokens.extend(word_syllables(word))
            runs[-1].append(word_syllables(word))
        elif tokens and tokens[-1] != CHARS_BOUNDARY:
            tokens.append(CHARS_BOUNDARY)
            runs.append([])
    if tokens and tokens[-1] == CHARS_BOUNDARY:
        tokens.pop()
    initials = initials_tokens(runs, pinyin_splits)
    return " ".join([*tokens, CHARS_BOUNDARY, *initials] if initials else tokens)


def pinyin_tokens(title_tokens: str) -> str:
    """The `pinyin` field: pinyin of every multi-character Chinese token of the indexed title."""
    words = [t for t in title_tokens.split() if len(t) > 1 and _CJK_ONLY.fullmatch(t)]
    return " ".join(word_pinyin(w) for w in words)


def title_pinyin_key(folded_title: str) -> str:
    """Whole-title pinyin without spaces (智能手机入门 -> "zhinengshoujirumen"), for pinyin prefix suggest."""
    words = rjieba.cut(folded_title, False)
    return "".join(word_pinyin(w) for w in words if not _NONWORD.fullmatch(w))


def _pinyin_syllables() -> frozenset[str]:
    global _syllables
    if _syllables is None:
        from pypinyin.constants import PINYIN_DICT
        from pypinyin.contrib.tone_convert import to_normal

        # ~53,000 readings but ~1,500 distinct tone-marked syllables: convert each once (0.7 s -> ~20 ms)
        marked = {p for value in PINYIN_DICT.values() for p in value.split(",")}
        found = {to_normal(p) for p in marked}
        _syllables = frozenset(s for s in found if s.isascii() and s.isalpha()) - _NOT_SYLLABLES
    return _syllables


def pinyin_syllable_count(word: str) -> int:
    """Most syllables `word` splits into as toneless pinyin, or 0 when it is not pinyin at all."""
    if not _LATIN_WORD.fullmatch(word):
        return 0
    syllables = _pinyin_syllables()
    best = [0] + [-1] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 6), end):
            if best[start] >= 0 and word[start:end] in syllables:
                best[end] = max(best[end], best[start] + 1)
    return max(best[-1], 0)


def pinyin_splits(word: str, *, limit: int = 4) -> list[tuple[str, ...]]:
    """The ways `word` reads as toneless pinyin syllables, fewest syllables first (at most `limit`).

    xian -> [("xian",), ("xi", "an")]; excel -> [].
    """
    if not _LATIN_WORD.fullmatch(word) or len(word) > _MAX_PINYIN_CHARS:
        return []
    syllables = _pinyin_syllables()
    ends: list[list[tuple[str, ...]]] = [[] for _ in range(len(word) + 1)]
    ends[0].append(())
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 6), end):
            if ends[start] and word[start:end] in syllables:
                ends[end].extend(split + (word[start:end],) for split in ends[start][:_MAX_SPLITS])
    return sorted(ends[-1], key=lambda split: (len(split), split))[:limit]


def is_pinyin(word: str) -> bool:
    """True when a latin word reads as two or more pinyin syllables (shufa, yangsheng, but not ai, excel)."""
    return pinyin_syllable_count(word) >= 2


@dataclass(frozen=True)
class Alternative:
    """One way a query term can match: `tokens` in `field` (all of them, or as one phrase).

    `weight` scales what a match through it adds to a record's score: 1 for the learner's own word in any
    form (as typed, its sub-words, its pinyin, its stem), EXPANSION_WEIGHT for a catalogue word the
    vocabulary adds (跳舞 -> 舞蹈), so a record holding the word the learner typed ranks above one holding
    only a word we put in their mouth.
    """

    field: Literal["text", "chars", "pinyin"]
    tokens: tuple[str, ...]
    phrase: bool = False
    weight: float = 1.0
    title_bonus: bool = False
    """Only adds to the score of the records holding the term (the word standing in a title: match_plan's
    `with_title_bonus`); it says nothing of how many records hold the term (`match_plan.term_frequency`)."""


EXPANSION_WEIGHT = 0.3
"""Score weight of a synonym's alternatives: a record holding the typed word in its title outranks one holding
it only in its description beside the synonym in title and tags (电脑 vs 计算机办公软件). The quality suite
measured the same figures from 0.2 to 0.6; below that a synonym would hardly rank its records at all."""


@dataclass(frozen=True)
class QueryTerm:
    """A query term (`text`, folded); it matches a record if any alternative does."""

    text: str
    alternatives: tuple[Alternative, ...]
    asked: bool = False
    """A word of a question (a part of the query holding a filler, a stop character or a word of QUESTION_TAGS:
    怎么带孙子, 血压高吃什么), where a word common in general Chinese says little (match_plan.weighted_terms)."""
    framing: bool = False
    """A word of a question that only frames it, by what it is: it holds a question pronoun of the vocabulary's
    fillers as a part (怎么办, 怎么回事, 什么样) or asks yes-or-no by repeating a word around 不 or 没 (有没有, 会不会):
    it weighs as a framing word (match_plan), whatever jieba tags the whole (怎么办 is a set phrase to it)."""
    qualifier: bool = False
    """A word saying only which course of a series is wanted (入门, 提高班, 第二学期, 下册, 2024版, 答疑; typed as
    a part of its own or cut as a word of its own): it weighs less than the words saying what is taught
    (match_plan.qualifiers)."""
    part: int = 0
    """Which whitespace-separated part of the query the term comes from (0 for the first): the words of 中国结 基础班
    are 中国, 结, 基础 and 班, and a record holds what was typed apart by the part (match_plan.coordination_tier)."""


@dataclass(frozen=True)
class QueryVocabulary:
    """How learners phrase a search (config/query_words.yaml, folded by indexer.query_vocabulary).

    `synonyms` maps a folded query word to the alternatives its catalogue words add; `fillers` are left out of
    a query that has other words; `course_suffixes` are endings a query word also matches without;
    `theme_words` maps a folded theme to the words that name it (config/themes.yaml, `known_words.named_themes`);
    `related` gives a word the words a thesaurus groups tightly with it (indexer.thesaurus), None for none.
    """

    synonyms: Mapping[str, Sequence[Alternative]] = field(default_factory=dict)
    fillers: frozenset[str] = frozenset()
    course_suffixes: tuple[str, ...] = ()
    theme_words: Mapping[str, frozenset[str]] = field(default_factory=dict)
    related: Callable[[str], Sequence[str]] | None = None


PLAIN_QUERIES = QueryVocabulary()
"""No synonyms, no fillers: every word of the query must match (only the stop characters are left out)."""


def parse_query(q: str, *, widen: bool = False, vocabulary: QueryVocabulary = PLAIN_QUERIES) -> list[QueryTerm]:
    """Query text -> terms that must all match. Never raises: any user text becomes plain tokens.

    `widen` adds the title-substring alternative to Chinese words (the fallback when nothing matched).
    `vocabulary` drops filler words (怎么, 我想, 课程) and stop characters when other words are left, and adds
    synonyms: of a whitespace-separated part as a whole first (防骗, 带孙子, which the cut splits up), else of
    each term, and of a term's stem without a course ending (书法课 -> 书法).
    """
    parts = _spaced_pinyin_joined(fold(q).split())
    skip = _QUERY_STOP_CHARS | vocabulary.fillers
    terms: list[QueryTerm] = []
    for index, part in enumerate(parts):
        kept = _qualifier_kept(part, skip) if terms else skip
        terms += _of_part(index, _part_of(part, widen=widen, vocabulary=vocabulary, skip=kept))
    if not terms:  # nothing but fillers and stop characters: search for them after all
        terms = [
            term for index, part in enumerate(parts)
            for term in _of_part(index, _part_of(part, widen=widen, vocabulary=vocabulary, skip=frozenset()))
        ]  # fmt: skip
    return terms[:_MAX_TERMS]


def _of_part(index: int, terms: list[QueryTerm]) -> list[QueryTerm]:
    return [replace(term, part=index) for term in terms] if index else terms


def _qualifier_kept(part: str | QueryTerm, skip: AbstractSet[str]) -> AbstractSet[str]:
    """`skip` without `part` when it is one filler character typed on its own after words the query keeps: a
    filler verb stands before what it acts on (打 太极), a character after the words qualifies them (简化太极拳 下,
    the second part of a course)."""
    if isinstance(part, str) and len(part) == 1 and part in skip and part not in _QUERY_STOP_CHARS:
        return skip - {part}
    return skip


def _part_of(
    part: str | QueryTerm, *, widen: bool, vocabulary: QueryVocabulary, skip: AbstractSet[str]
) -> list[QueryTerm]:
    if isinstance(part, QueryTerm):
        return [part]
    return _part_terms(part, widen=widen, vocabulary=vocabulary, skip=skip)


def _spaced_pinyin_joined(parts: list[str]) -> list[str | QueryTerm]:
    """The parts, with pinyin typed with ü or tone marks made toneless and every word typed in pieces (ba duan jin,
    xi'an, taiji quan) as one term: indexer.pinyin_query reads which pieces spell one word."""
    grouped = pinyin_parts(parts, pinyin_splits)
    return [part if isinstance(part, str) else _spaced_pinyin_term(*part) for part in grouped]


def _spaced_pinyin_term(pieces: list[str], *spans: list[str]) -> QueryTerm:
    """Pinyin pieces as one term: their syllables as a phrase in `pinyin`, or the pieces as a text phrase; also
    the syllables of `spans`, the pieces of neighbouring spans the word may be (indexer.pinyin_query)."""
    alternatives = [Alternative("text", tuple(pieces), phrase=True)]
    for span, limit in [(pieces, 2), *((span, 1) for span in spans)]:  # a span's pieces read their likeliest way
        readings: list[tuple[str, ...]] = [()]
        for piece in span:
            readings = [r + split for r in readings for split in pinyin_splits(piece, limit=limit)][:_MAX_READINGS]
        alternatives += [Alternative("pinyin", reading, phrase=len(reading) > 1) for reading in readings]
    return QueryTerm(" ".join(pieces), tuple(dict.fromkeys(alternatives)))


def pinyin_spelled(folded: str, syllables: Sequence[str]) -> list[str]:
    """The stretches of Chinese text in `folded` that read as `syllables` (or as their letters run together),
    for highlighting: ("guang", "chang", "wu") in 学跳广场舞 -> ["广场舞"]."""
    spelled = "".join(syllables)
    chars: list[tuple[str, str]] = []  # (character, its syllable) of every Chinese run, "" between runs
    for word in rjieba.cut(folded, False):
        readings = word_syllables(word) if _CJK_ONLY.fullmatch(word) else ()
        if len(readings) == len(word):
            chars.extend(zip(word, readings, strict=True))
        else:
            chars.append(("", ""))
    found: list[str] = []
    for start in range(len(chars)):
        text, letters = "", ""
        for char, reading in chars[start:]:
            if not char or len(letters) >= len(spelled):
                break
            text, letters = text + char, letters + reading
            if letters == spelled:
                found.append(text)
    return found


def _part_terms(part: str, *, widen: bool, vocabulary: QueryVocabulary, skip: AbstractSet[str]) -> list[QueryTerm]:
    """The terms of one whitespace-separated part of the query."""
    words = _cut_words(part)
    whole = vocabulary.synonyms.get(part)
    if whole:
        plain = _word_terms(words, widen=widen, skip=frozenset())
        base = plain[0].alternatives if len(plain) == 1 else (Alternative("text", tuple(words), phrase=True),)
        return [QueryTerm(part, (*base, *whole))]
    asked = _is_question(part, words, vocabulary)
    words = _synonym_keys_joined(words, vocabulary.synonyms)
    terms = [_expanded(term, vocabulary, widen=widen) for term in _word_terms(words, widen=widen, skip=skip)]
    qualifying = is_qualifier(part)
    if qualifying and len(words) > 1 and not any(is_qualifier(w) for w in words):
        # one phrase: its pieces alone (版 of 2024版, 学期 of 第二学期) would match every edition or term
        return [QueryTerm(part, (Alternative("text", tuple(words), phrase=True),), qualifier=True)]
    terms = [
        replace(t, qualifier=True) if qualifying or (len(t.text) > 1 and is_qualifier(t.text)) else t for t in terms
    ]
    if not asked:
        return terms
    return [replace(term, asked=True, framing=_framing_word(term.text, vocabulary.fillers)) for term in terms]


def _cut_words(part: str) -> list[str]:
    """The words of a part in precise mode, without punctuation, spaces or symbols: the cut's tokens joined by
    spaces and cleaned at once, which gives what cleaning each token would (a space between two tokens is a
    non-word character too) without a call per token (a part holding symbols or invisible characters is cut
    into one token each)."""
    return clean_tokens(" ".join(rjieba.cut(part, False))).split()


def _framing_word(text: str, fillers: AbstractSet[str]) -> bool:
    """Whether a word of a question only frames it (`QueryTerm.framing`): a word of two or more Chinese characters
    holding a filler jieba tags as a pronoun (怎么, 什么, 哪里) as a part, or of the form X不X / X没X (有没有)."""
    if len(text) < 2 or not _CJK_ONLY.fullmatch(text):
        return False
    if len(text) == 3 and text[1] in "不没" and text[0] == text[2]:
        return True
    return any(part in fillers and _pronoun(part) for part in _parts(text))


@functools.lru_cache(maxsize=4096)
def _parts(word: str) -> tuple[str, ...]:
    """The dictionary words inside `word` (search mode), shorter than it."""
    return tuple(token for token, start, end in rjieba.tokenize(word, "search", False) if end - start < len(word))


@functools.lru_cache(maxsize=256)
def _pronoun(word: str) -> bool:
    tags = rjieba.tag(word, False)
    return len(tags) == 1 and tags[0][1] == "r"


_QUALIFIER_REST = re.compile("[上中下班课程册篇集级]*")
"""What may be left of a qualifier once its markers are taken out: a part (上), a form (班, 课), a unit (册)."""


@functools.lru_cache(maxsize=4096)
def is_qualifier(text: str) -> bool:
    """Whether folded text only says which course of a series is wanted: a level, class, season, part, edition or
    session marker (入门, 提高班, 第二季, 下册, 2024版, 直播答疑: indexer.linkage.markers), and nothing it teaches."""
    from indexer.linkage.markers import TitleMarkers, strip_markers, title_markers  # linkage imports this module

    if title_markers(text) == TitleMarkers():
        return False
    return not _QUALIFIER_REST.sub("", strip_markers(text))


def _is_question(part: str, words: Sequence[str], vocabulary: QueryVocabulary) -> bool:
    """Whether a part of the query is phrased as a question or a sentence: it holds a filler (怎么, 想), a stop
    character (了, 的), a word jieba tags as framing one (什么, 以后, 很) or a word framing it by what it is
    (`QueryTerm.framing`: 怎么办, 有没有)."""
    if any(word in _QUERY_STOP_CHARS or word in vocabulary.fillers for word in words):
        return True
    if len(words) > 1 and any(_framing_word(word, vocabulary.fillers) for word in words):
        return True  # 水管漏水怎么办: 怎么办 is a set phrase to jieba's tagger
    return len(words) > 1 and any(tag in QUESTION_TAGS for _, tag in rjieba.tag(part, False))


def _synonym_keys_joined(words: list[str], synonyms: Mapping[str, object]) -> list[str]:
    """The words, with each run of up to three neighbours that spells a synonym key joined into it, longest run
    first: the cut splits 怎么带孙子 into 带 + 孙子, and 带孙子 is what the vocabulary knows."""
    joined: list[str] = []
    at = 0
    while at < len(words):
        for size in (3, 2, 1):
            candidate = "".join(words[at : at + size])
            if size == 1 or (at + size <= len(words) and candidate in synonyms):
                joined.append(candidate)
                at += size
                break
    return joined


def _word_terms(words: Sequence[str], *, widen: bool, skip: AbstractSet[str]) -> list[QueryTerm]:
    """Words -> terms: runs of single Chinese characters become one term; skipped words break a run."""
    terms: list[QueryTerm] = []
    run: list[str] = []
    for word in words:
        if word in skip:
            terms.extend(char_run_terms(run))
            run = []
        elif len(word) == 1 and _CJK_CHAR.fullmatch(word):
            run.append(word)
        else:
            terms.extend(char_run_terms(run))
            run = []
            terms.append(_word_term(word, widen=widen))
    terms.extend(char_run_terms(run))
    return terms


def _expanded(term: QueryTerm, vocabulary: QueryVocabulary, *, widen: bool) -> QueryTerm:
    """The term with the alternatives of its synonyms and of its stem: without a course ending (书法课) or a
    one-character filler verb in front (跳交谊舞), when at least two characters are left."""
    text = term.text
    extra = list(vocabulary.synonyms.get(text, ()))
    if _CJK_ONLY.fullmatch(text):
        stems = [text[: -len(s)] for s in vocabulary.course_suffixes if text.endswith(s)][:1]
        if text[0] in vocabulary.fillers:
            stems.append(text[1:])
        for stem in stems:
            if len(stem) >= 2:
                extra += [*_word_term(stem, widen=widen).alternatives, *vocabulary.synonyms.get(stem, ())]
    return QueryTerm(text, (*term.alternatives, *extra)) if extra else term


def char_run_terms(run: Sequence[str]) -> list[QueryTerm]:
    """The one term of a run of single Chinese characters (none for an empty run): the characters as neighbouring
    tokens, as title characters, or as one token the cut keeps whole elsewhere."""
    if not run:
        return []
    tokens = tuple(run)
    text = Alternative("text", tokens, phrase=len(tokens) > 1)
    alternatives: tuple[Alternative, ...] = (text, Alternative("chars", tokens, phrase=True))
    if len(tokens) > 1:  # the cut may split a word it keeps whole elsewhere (发微信 -> 发 微 信; the index has 微信)
        alternatives += (Alternative("text", ("".join(tokens),)),)
    return [QueryTerm("".join(tokens), alternatives)]


def can_widen(terms: Sequence[QueryTerm]) -> bool:
    """True when `parse_query(..., widen=True)` would add alternatives to these terms."""
    return any(len(t.text) > 1 and _CJK_ONLY.fullmatch(t.text) for t in terms)


@functools.lru_cache(maxsize=4096)
def _word_term(word: str, *, widen: bool) -> QueryTerm:
    """The term of one query word with its alternatives (module docstring); the same for a word every time (the
    segmenter's dictionary and the pinyin tables are fixed for a process), so kept for the words asked lately."""
    alternatives = [Alternative("text", (word,))]
    if _CJK_ONLY.fullmatch(word):
        if cover := sub_word_cover(word):
            alternatives.append(Alternative("text", cover))
        if widen:
            alternatives.append(Alternative("chars", tuple(word), phrase=True))
    elif is_pinyin(word):
        alternatives.append(Alternative("pinyin", (word,)))  # the whole word, as indexes before syllables held it
        for reading in pinyin_splits(word, limit=_MAX_READINGS):
            alternatives.append(Alternative("pinyin", reading, phrase=len(reading) > 1))
    elif is_initials(word, pinyin_splits):  # bdj: the initials the `pinyin` field holds
        alternatives.append(Alternative("pinyin", (word,)))
    return QueryTerm(word, tuple(dict.fromkeys(alternatives)))


def sub_word_cover(word: str) -> tuple[str, ...]:
    """Dictionary sub-words (search mode) that cover `word` left to right, longest first; () if none do."""
    starts: dict[int, tuple[str, int]] = {}
    for token, start, end in rjieba.tokenize(word, "search", False):
        if end - start < len(word) and (start not in starts or end > starts[start][1]):
            starts[start] = (token, end)
    cover: list[str] = []
    position = 0
    while position < len(word):
        if position not in starts:
            return ()
        token, position = starts[position]
        cover.append(token)
    return tuple(cover)
