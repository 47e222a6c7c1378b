"""Pinyin as learners type it: ü and tone marks made toneless, the words a run of syllables spells, initials.

A learner types pinyin as an input method taught them: `lv you`, `lu:you` or `lǚyóu` for 旅游, whole words
(`jingju`), words in pieces (`ba duan jin`, `taiji quan`), several words in a row (`jingju changqiang`, `shu fa
ru men`), a name run together (`ershisishijianhuataijiquan`), or the initials of a well-known word (`bdj`).
`pinyin_parts` turns the whitespace-separated parts of a folded query into what `analysis.parse_query` makes
terms of: a pinyin word typed whole stays a part (its term matches its syllables: `analysis._word_term`); pieces
that together spell one word become one term matching their syllables as a phrase in the `pinyin` field.

Which pieces spell one word is read from how they were typed, without a dictionary of pinyin words (building one
from jieba's 330,000 words costs seconds of CPU per process): a piece of two or more syllables is a word; a lone
syllable belongs to the word before it (`taiji quan`); two or three lone syllables are one word (`ba duan jin`);
a longer run of them, or a piece of five syllables or more, is cut into two-syllable words, the first taking a
third when the count is odd (`shu fa ru men` -> shufa, rumen; `ba duan jin ru men` -> baduanjin, rumen), since
most words of a course title have two characters and a subject of three comes before what qualifies it. A
guessed boundary may lie one syllable off (`jian hua tai ji quan`), so each such word also matches the spans
reaching one syllable less or further. Each word then matches on its own, so a title holding 书法 and 入门 apart
answers `shu fa ru men` as it answers 书法入门.

Index side, `initials_tokens` gives the `pinyin` field the initials of a title's words of three or four
syllables (八段锦 -> bdj, 智能手机 -> znsj), and `is_initials` tells a query word typing them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

_U_UMLAUT = re.compile("u\u0308|u:")
_MARKS = re.compile("[\u0300-\u036f]")
_PINYIN_LETTERS = re.compile(r"[a-z\W_]*[a-z][a-z\W_]*", re.ASCII)
"""A part typed in latin letters, perhaps with separators between syllables (xi'an, ba-duan-jin)."""
_LETTERS = re.compile("[a-z]+")
_LONG_RUN = 4
"""Lone syllables typed in a row from which the run is cut into two-syllable words."""
_LONG_WORD = 5
"""Syllables of a piece typed without spaces from which it is read as lone syllables (a course name run together:
ershisishijianhuataijiquan), whose words the segmenter may cut otherwise than the learner's word."""

Splits = Callable[[str], list[tuple[str, ...]]]
"""`analysis.pinyin_splits`: the ways a latin word reads as syllables, fewest first; [] when it is no pinyin."""


def toneless(part: str, splits: Splits) -> str:
    """A folded part typed with ü (v, u:, ü) or tone marks as the toneless pinyin the index holds (lü, lu:, lǚ ->
    lv; shūfǎ -> shufa), when what it becomes reads as pinyin; any other text as it is."""
    if part.isascii() and ":" not in part:
        return part
    plain = _MARKS.sub("", _U_UMLAUT.sub("v", unicodedata.normalize("NFD", part)))
    if not plain.isascii() or not _PINYIN_LETTERS.fullmatch(plain):
        return part
    pieces = _LETTERS.findall(plain)
    return plain if pieces and all(splits(p) for p in pieces) else part


Word = tuple[list[str], ...]
"""A word typed in pieces: its pieces, then the pieces of the spans it may also be when a boundary between lone
syllables was guessed one syllable off (jian hua tai | ji quan: also jian hua, jian hua tai ji)."""


def pinyin_parts(parts: Sequence[str], splits: Splits) -> list[str | Word]:
    """The parts, with every run of pinyin pieces grouped into the words it spells (module docstring): a word
    typed whole stays a str, a word typed in pieces is a `Word` (ba duan jin -> (["ba", "duan", "jin"],);
    xi'an -> (["xi", "an"],))."""
    parts = [toneless(part, splits) for part in parts]
    grouped: list[str | Word] = []
    run: list[list[str]] = []
    for part in [*parts, ""]:
        pieces = _LETTERS.findall(part) if part.isascii() and _PINYIN_LETTERS.fullmatch(part) else []
        fewest = splits(pieces[0])[0] if len(pieces) == 1 and splits(pieces[0]) else ()
        if len(fewest) >= _LONG_WORD:
            run += [[syllable] for syllable in fewest]
            continue
        if pieces and all(splits(p) for p in pieces):
            run.append(pieces)
            continue
        if sum(map(len, run)) > 1:
            grouped += _words(run, splits)
        else:
            grouped += [unit[0] for unit in run]
        run = []
        if part:
            grouped.append(part)
    return grouped


def _words(run: list[list[str]], splits: Splits) -> list[str | Word]:
    """A run of typed units (a part's pieces) grouped into words."""
    words: list[Word] = []
    lone: list[str] = []
    for unit in run:
        if sum(len(splits(piece)[0]) for piece in unit) > 1:
            words += _lone_words(lone, after=words)
            lone = []
            words.append((list(unit),))
        else:
            lone += unit
    words += _lone_words(lone, after=words)
    return [word[0][0] if len(word) == 1 and len(word[0]) == 1 else word for word in words]


def _lone_words(lone: list[str], *, after: list[Word]) -> list[Word]:
    """Lone syllables typed in a row as words; one alone joins the word before it (taiji quan), or stands alone."""
    if not lone:
        return []
    if len(lone) == 1 and after:
        after[-1] = ([*after[-1][0], *lone],)
        return []
    if len(lone) < _LONG_RUN:
        return [(lone,)]
    first = 3 if len(lone) % 2 else 2
    bounds = [0, *range(first, len(lone), 2), len(lone)]
    words: list[Word] = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        starts = [start] if start == 0 else [start - 1, start, start + 1]
        ends = [end] if end == len(lone) else [end - 1, end, end + 1]
        spans = [(a, b) for a in starts for b in ends if b - a >= 2 and (a, b) != (start, end)]
        words.append((lone[start:end], *(lone[a:b] for a, b in spans)))
    return words


_VOWELS = frozenset("aeiouv")
"""Letters one of which every pinyin syllable holds: initials without them read as no pinyin."""
_INITIALS = frozenset("bpmfdtnlgkhjqxzcsrywaeo")
"""Letters a pinyin syllable may start with (zh, ch, sh are typed z, c, s)."""
INITIALS_SPAN = (3, 4)
"""Syllables of a word whose initials the index holds: a well-known word of three or four characters (八段锦 bdj,
智能手机 znsj); two letters would name hundreds of words each."""


def initials_tokens(runs: Sequence[Sequence[tuple[str, ...]]], splits: Splits) -> list[str]:
    """The initials of every stretch of INITIALS_SPAN syllables that starts and ends where the segmenter cut a run
    of Chinese words (each word its syllables), so 八段锦 gives bdj whether the cut keeps it whole or makes 八段 + 锦.
    Initials that read as pinyin themselves (ang, eng) are left out: a query typing them means the syllable."""
    tokens: dict[str, None] = {}
    for words in runs:
        starts = [0]
        for word in words:
            starts.append(starts[-1] + len(word))
        letters = "".join(syllable[0] for word in words for syllable in word)
        for at, start in enumerate(starts):
            for end in starts[at + 1 :]:
                if end - start in INITIALS_SPAN:
                    tokens[letters[start:end]] = None
    return [token for token in tokens if not (_VOWELS & set(token) and splits(token))]


def is_initials(word: str, splits: Splits) -> bool:
    """Whether a folded latin word may be the initials of a Chinese word: INITIALS_SPAN letters that pinyin
    syllables start with, not itself pinyin (bdj, znsj; not ang, excel)."""
    return len(word) in INITIALS_SPAN and set(word) <= _INITIALS and not splits(word)
