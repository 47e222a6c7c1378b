"""What linkage compares of a record: folded title without remarks, markers, teachers, institution, lessons.

A profile is built from a Record alone (no index access), so every backend and the bulk clustering of
`edufed reindex` see the same values. Its blocking keys are what the index stores beside a record so that a
new record finds its candidates: the title key, and MinHash LSH bands of the title's character bigrams, so
reworded titles (书法入门：楷书 / 楷书书法入门) still meet.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from indexer.analysis import fold
from indexer.linkage.markers import TitleMarkers, strip_markers, title_markers
from indexer.linkage.names import has_teacher_title, name_in_text, person_name, teacher_titles
from indexer.linkage.titles import EPISODES, unwrapped
from indexer.record import Record

if TYPE_CHECKING:
    from datasketch import MinHash

MIN_KEY_CHARS = 2
LSH_BANDS = 12
LSH_ROWS = 3
"""12 bands of 3 MinHash values: titles whose bigram sets have Jaccard 0.7 meet in at least one band with
probability 0.99, at 0.5 0.8, at 0.3 0.28 (the matcher then rejects those cheaply)."""
_PERMUTATIONS = LSH_BANDS * LSH_ROWS
_SEED = 13
_SCHEME = "affine32"
"""Fixed, so band keys stored in an index stay comparable across datasketch upgrades."""
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_REMARKS = re.compile(r"[（(【\[〖〔]([^）)】\]〗〕]{0,16})[）)】\]〗〕]")
_PROVIDER_NOISE = re.compile(r"(有限公司|公司|中心|\s)")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_MAIN_TITLE = re.compile(r"[:：—|｜丨]|\s-\s|--")
_LESSON_NUMBER = re.compile(
    r"^\s*(?:第\s*[0-9一二三四五六七八九十百]+\s*[讲节课集章回部分篇]|lesson\s*[0-9]+|[0-9]{1,3}(?:\.[0-9]{1,2})?(?=[、.．:：\s\-—]|$)"
    r"|[一二三四五六七八九十]{1,3}(?=[、.．:：\s])|[(（][0-9一二三四五六七八九十]{1,3}[)）])\s*[、.．:：\-—|｜]?\s*"
)
"""How platforms number lessons (第1讲 / 1. / 一、 / (1)): stripped so that one lesson list numbered two ways
compares equal."""
_INSTITUTION_PREFIX = re.compile(
    r"^[\w]{0,12}?(?:老年开放大学|老年大学|老干部大学|开放大学|广播电视大学|电视大学|社区大学|社区学院|老年学校"
    r"|(?:市民|终身|全民|老年人|社区教育|老年教育)?(?:学习网|教育网)(?![上络页站])|学习在线|教育在线)(?!专区|专题|专栏|频道|栏目|板块)"
    r"\s*[·・•‧:：|｜丨_\-—]*\s*"
)
"""An institution's or a learning site's name opening a title (国家老年大学 书法入门, 老年大学·书法入门,
上海老年人学习网 书法入门): the platform's label, not the course's name."""
_LABEL_END = r"(?=单位|机构|主办|出品|制作|课程|简介|主讲|[\s,，;；。/|｜()]|$)"
"""Where a labelled value in a description ends: at the next label or punctuation (主讲：王秀兰单位：…)."""
_TEACHER_LABEL = (
    r"主讲人|主讲教师|主讲老师|主讲嘉宾|主讲专家|主讲|授课教师|授课老师|授课专家|授课人|授课|讲授人|讲师|任课教师|任课老师"
    r"|指导教师|指导老师|讲解人|老师|教师"
)
_TEXT_TEACHER = re.compile(
    rf"(?:{_TEACHER_LABEL}|名师|专家|教学团队|授课团队|师资)(?:简介|介绍|团队|信息)?\s*[:：]\s*([^\s,，;；。/|｜()]{{2,40}}?){_LABEL_END}"
)
_SPAN = r"([一-鿿()\s]{2,40}?)"
"""Words that may hold a name, its institution and its title, bracketed or spaced (王秀兰（南京老年大学副教授）)."""
_CLAUSE = r"(?:^|(?<=[，,。；;！!？?\s:：、]))"
_TEXT_TEACHER_PROSE = re.compile(
    rf"由\s*{_SPAN}\s*(?:主讲|授课|讲授|执教|主持|讲解|领学|亲授)"
    rf"|(?:主讲人|主讲教师|主讲老师|主讲嘉宾|授课教师|授课老师|授课专家|主讲|授课)\s*(?:是|为|系)?\s*{_SPAN}"
    r"(?=[，,。；;（(）)、\s]|$)"
    rf"|(?:特邀|邀请到|邀请|请来|聘请)了?\s*{_SPAN}(?=[，,。；;（(、\s]|$|主讲|授课|讲授|讲解|担任|为大家|为你|带)"
)
"""A teacher named in prose rather than after a label with a colon, as platforms write it: 本课由王秀兰老师主讲 /
由南京老年大学王秀兰副教授授课 / 主讲人王秀兰，来自… / 本课程邀请王秀兰研究员…. The words around the name are read by
`name_in_text`: only a two-to-four-character name opening with a surname counts, so that 主讲内容丰富多彩 or
由浅入深讲授 names nobody."""
_TEXT_TEACHER_APPOSED = re.compile(rf"{_CLAUSE}([一-鿿]{{2,4}})(?:[，,]|是|系|现任|现为)([^。；;]{{1,24}})")
"""A name followed by who the person is (王秀兰，南京老年大学副教授。 / 王秀兰，女，主任医师。 / 王秀兰是…高级讲师)."""
_CLAUSE_BREAK = re.compile(r"[，,。；;！!？?\s:：、]")
TITLED_LOOKBACK = 24
"""How far before a title (老师, 副教授) its name and institution are looked for, within the clause."""
_TEXT_PROVIDER = re.compile(
    rf"(?:单位|机构|主办单位|主办|出品单位|出品|制作单位)\s*[:：]\s*([^\s,，;；。/|｜()]{{2,30}}?){_LABEL_END}"
)
_TEXT_LESSONS = re.compile(r"(?:课程目录|课程大纲|目录|章节)\s*[:：]\s*(.+)$")
_LESSON_SPLIT = re.compile(r"[;；、,，|｜]+")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]+|\s{2,}")
MIN_SENTENCE = 6


@dataclass(frozen=True)
class LinkProfile:
    """The normalized fields two records are compared on."""

    uid: str
    platform: str
    title: str
    """Folded title without punctuation and platform remarks (（智慧教育版）), markers kept."""
    key: str
    """`title` without level and sequence markers: the exact blocking key."""
    main: str
    """`title` of the main title only (before a colon or dash): 书法入门：楷书基础 -> 书法入门."""
    alias: str
    """`key` of the title after a leading 课堂 / 讲堂 name (乐享课堂：葫芦丝演奏 -> 葫芦丝演奏), or "": such a name is a
    channel as often as a course (京剧票友课堂：跟着名师学), so the alias stands for the title only against another
    record's whole title (never against another alias)."""
    markers: TitleMarkers
    instructors: frozenset[str]
    provider: str
    lessons: tuple[str, ...]
    description: str
    """Folded description without punctuation, and without what `profile_of` read out of it (主讲：…)."""
    sentences: frozenset[str]
    """The description's sentences (folded, without punctuation): reordered or shortened texts still share them."""
    text: str
    """The whole folded description without punctuation: where another record's lesson titles may be listed."""
    lesson_count: int | None
    duration_seconds: int | None

    def blocking_keys(self) -> list[str]:
        """Keys a candidate must share with this record: the title key, the main title's key when a subtitle
        follows (书法入门：楷书基础 meets 书法入门), the alias (乐享课堂：葫芦丝演奏 meets 葫芦丝演奏), then one per LSH
        band."""
        return list(self._blocking_keys)

    @cached_property
    def _blocking_keys(self) -> tuple[str, ...]:
        # a profile's keys are asked for by the index row, the candidate look-up and the blocks of `cluster`
        if len(self.key) < MIN_KEY_CHARS:
            return ()
        main = _squash(strip_markers(self.main))
        extra: tuple[str, ...] = (f"t{_short_hash(main)}",) if main != self.key and len(main) >= MIN_KEY_CHARS else ()
        extra += (f"t{_short_hash(self.alias)}",) if self.alias and self.alias not in (self.key, main) else ()
        return (f"t{_short_hash(self.key)}", *extra, *band_keys(self.key))


PROFILE_CACHE = 8192
"""Profiles kept by (uid, content hash, title): a write profiles its records for the index row, the candidate
look-up and the clustering, and the records of a popular title are candidates of chunk after chunk."""
_profiles: OrderedDict[tuple[str, str, str], LinkProfile] = OrderedDict()
_profiles_lock = threading.Lock()
AHEAD_LIMIT = 16_384
"""Profiles made ahead by another process (`remember_profile`) kept until first asked for: a rebuild holds one
write chunk (5,000) and the records in flight from its workers (a few thousand)."""
_ahead: OrderedDict[tuple[str, str, str], LinkProfile] = OrderedDict()


def profile_of(record: Record) -> LinkProfile:
    """The link profile of one record (the same object again while its content is unchanged)."""
    if not record.content_hash:
        return _profile(record)
    key = (record.uid, record.content_hash, record.title)
    with _profiles_lock:
        found = _profiles.get(key)
        if found is not None:
            _profiles.move_to_end(key)
            return found
        found = _ahead.pop(key, None)
        if found is not None:
            _keep(key, found)
            return found
    profile = _profile(record)
    with _profiles_lock:
        _keep(key, profile)
    return profile


def remember_profile(record: Record, profile: LinkProfile) -> None:
    """Keep a profile made for `record` elsewhere (a reindex's worker process), so that `profile_of` here
    returns it instead of profiling the record again. Kept under the record's uid, content hash and title, as
    `profile_of`'s own cache, so a record changed since is profiled afresh."""
    if not record.content_hash or profile.uid != record.uid:
        return
    with _profiles_lock:
        _ahead[(record.uid, record.content_hash, record.title)] = profile
        if len(_ahead) > AHEAD_LIMIT:
            _ahead.popitem(last=False)


def _keep(key: tuple[str, str, str], profile: LinkProfile) -> None:
    _profiles[key] = profile
    if len(_profiles) > PROFILE_CACHE:
        _profiles.popitem(last=False)


def _profile(record: Record) -> LinkProfile:
    """Platforms that publish no structured teacher, institution or lesson list often write them into the
    description (主讲：王秀兰 单位：长春老年大学 课程目录：…); those are read from there when the field is empty."""
    spaced = _title(record.title)
    title = _squash(spaced)
    description = _folded(record.description or "")
    described = _described(description, taught=bool(record.instructors))
    lessons = _lessons([lesson.title for lesson in record.lessons] or described.lessons)
    teachers = [p.name for p in record.instructors] or described.teachers
    provider = record.provider.name if record.provider else described.provider
    return LinkProfile(
        uid=record.uid,
        platform=record.platform,
        title=title,
        key=_squash(strip_markers(title)),
        main=_squash(_MAIN_TITLE.split(spaced, maxsplit=1)[0]),
        alias=_alias(spaced),
        markers=title_markers(spaced),
        instructors=frozenset(n for n in (person_name(t) for t in teachers) if n),
        provider=institution(provider) if provider else "",
        lessons=lessons,
        description=_squash(described.rest)[:600],
        sentences=frozenset(s for s in map(_squash, _SENTENCE_END.split(described.rest)) if len(s) >= MIN_SENTENCE),
        text=_squash(description),
        lesson_count=record.lesson_count or (len(lessons) or None),
        duration_seconds=record.duration_seconds,
    )


@dataclass(frozen=True)
class _Described:
    """What a folded description says of the course's teacher, institution and lessons, and the text left."""

    rest: str
    teachers: list[str]
    provider: str
    lessons: list[str]


def _described(text: str, *, taught: bool = False) -> _Described:
    listed = _TEXT_LESSONS.search(text)
    rest = _TEXT_LESSONS.sub("", text)
    providers = _TEXT_PROVIDER.findall(rest)
    teachers = _names((found.split("、") for found in _TEXT_TEACHER.findall(rest)), labelled=True)
    if teachers:
        rest = _TEXT_TEACHER.sub(" ", rest)
    else:
        teachers, rest = _prose_teachers(rest, thorough=not taught)
    return _Described(
        rest=_TEXT_PROVIDER.sub(" ", rest),
        teachers=teachers,
        provider=providers[0] if providers else "",
        lessons=[x for x in _LESSON_SPLIT.split(listed.group(1)) if x.strip()] if listed else [],
    )


def _names(spans: Iterable[Iterable[str]], *, labelled: bool) -> list[str]:
    return [name for found in spans for span in found if span and (name := name_in_text(span, labelled=labelled))]


def _prose_teachers(text: str, *, thorough: bool = True) -> tuple[list[str], str]:
    """The teachers a text names in prose, and the text without the words that name them (the rest of a sentence
    that names nobody stays, for the descriptions to be compared): after a phrase that says who teaches (由…主讲,
    主讲人…, 邀请…), else before a title at the start of a clause (王秀兰老师带你…, 跟着王秀兰老师…,
    来自…的王秀兰副教授), else before a comma and who the person is (王秀兰，…副教授). The last two only when
    `thorough`: a record whose teachers are known reads only the first (its text is compared, its teachers are not
    read from it)."""
    teachers: list[str] = []
    spans: list[tuple[int, int]] = []
    for found in _TEXT_TEACHER_PROSE.finditer(text):
        words = next(g for g in found.groups() if g)
        if name := name_in_text(words, prose=True):
            teachers.append(name)
            spans.append(found.span())
    if not teachers and thorough:
        for title in teacher_titles(text):
            start = max(0, title.start() - TITLED_LOOKBACK)
            breaks = list(_CLAUSE_BREAK.finditer(text, start, title.start()))
            start = breaks[-1].end() if breaks else start
            end = title.end() + 1 if text[title.end() : title.end() + 1] == ")" else title.end()
            if name := name_in_text(text[start:end], prose=True):  # 王秀兰(南京老年大学副教授)带你…
                teachers.append(name)
                spans.append((start, end))
    if not teachers and thorough:
        for found in _TEXT_TEACHER_APPOSED.finditer(text):
            if has_teacher_title(found.group(2), professional=True) and (
                name := name_in_text(found.group(1), prose=True)
            ):
                teachers.append(name)
                spans.append(found.span(1))
    for start, end in reversed(spans):
        text = f"{text[:start]} {text[end:]}"
    return teachers, text


def _lessons(titles: list[str]) -> tuple[str, ...]:
    """Lesson titles without their numbering; lessons named only by a number (第1讲) say nothing and are left out."""
    found = (_squash(_LESSON_NUMBER.sub("", _folded(t), count=1)) for t in titles)
    return tuple(t for t in found if t)


def institution(name: str) -> str:
    """An institution's name folded, without 有限公司 / 中心 and spaces."""
    return _squash(_PROVIDER_NOISE.sub("", fold(name)))


def _title(title: str) -> str:
    """Folded title (punctuation kept); bracketed remarks kept only when they carry markers (（第二季）),
    dropped when they name a platform's packaging (（智慧教育版）, 【重播】); an episode count or progress (全12集,
    更新至第5集) wherever it stands."""
    folded = EPISODES.sub(" ", _folded(title))
    unprefixed = _INSTITUTION_PREFIX.sub("", folded, count=1)
    if len(_squash(unprefixed)) >= MIN_KEY_CHARS:
        folded = unprefixed

    def remark(match: re.Match[str]) -> str:
        # kept with its brackets: （一） is a part only in brackets
        return match.group(0) if title_markers(match.group(0)) != TitleMarkers() else ""

    kept = unwrapped(_REMARKS.sub(lambda m: f" {remark(m)} ", folded))
    if len(_squash(kept)) < MIN_KEY_CHARS:  # a title wholly in brackets (【萨克斯演奏】): its words
        kept = unwrapped(_REMARKS.sub(lambda m: f" {m.group(1)} ", folded))
    return kept


_HALL_HEAD = re.compile(r"^\s*[^\s·・•‧|｜丨:：—_\-]{1,12}(?:课堂|讲堂|学堂|讲坛)\s*(?:[·・•‧|｜丨:：_\-]|——|—)\s*")
MIN_ALIAS = 3


def _alias(spaced: str) -> str:
    head = _HALL_HEAD.match(spaced)
    if head is None:
        return ""
    alias = _squash(strip_markers(spaced[head.end() :]))
    return alias if len(alias) >= MIN_ALIAS else ""


_TAIWAN_FORMS = str.maketrans("著痺簷暱睪", "着痹檐昵睾")
"""Characters a traditional-character platform writes (OpenCC s2tw) that folding leaves as they are, though the
simplified text has another (跟着 -> 跟著): one form for both, so the two listings compare equal."""


def _folded(text: str) -> str:
    return fold(text).translate(_TAIWAN_FORMS)


def _squash(text: str) -> str:
    return _NOISE.sub("", text)


def _short_hash(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def _shingles(key: str) -> list[bytes]:
    """Character bigrams of CJK text, whole latin/digit words: what reworded titles share."""
    words = _ASCII_WORD.findall(key)
    cjk = _ASCII_WORD.sub("", key)
    grams = [cjk[i : i + 2] for i in range(len(cjk) - 1)] or ([cjk] if cjk else [])
    return [g.encode("utf-8") for g in (*grams, *words)]


def band_keys(key: str) -> list[str]:
    """The LSH band keys of a title key (datasketch MinHash of its shingles, banded here so that the bands
    can be stored in an index and looked up one record at a time)."""
    shingles = _shingles(key)
    if not shingles:
        return []
    minhash = _minhash_class()(num_perm=_PERMUTATIONS, seed=_SEED, permutations=_permutations(), scheme=_SCHEME)
    minhash.update_batch(shingles)
    values = minhash.hashvalues.astype(np.uint32)
    return [
        f"b{band}{_short_hash(values[band * LSH_ROWS : (band + 1) * LSH_ROWS].tobytes())}" for band in range(LSH_BANDS)
    ]


_PERMS: tuple[np.ndarray, np.ndarray] | None = None


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """MinHash permutations, made once per process (datasketch would otherwise draw them per MinHash)."""
    global _PERMS
    if _PERMS is None:
        _PERMS = _minhash_class()(num_perm=_PERMUTATIONS, seed=_SEED, scheme=_SCHEME).permutations
    return _PERMS


def _minhash_class() -> type[MinHash]:
    """datasketch's MinHash, imported when a title is first banded: datasketch loads scipy (~0.8 s, ~55 MB),
    which a process that only searches (the API, `edufed --help`) never needs."""
    from datasketch import MinHash

    return MinHash
