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
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from datasketch import MinHash

from indexer.analysis import fold
from indexer.linkage.markers import TitleMarkers, strip_markers, title_markers
from indexer.record import Record

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
_REMARKS = re.compile(r"[（(【\[]([^）)】\]]{0,16})[）)】\]]")
_HONORIFICS = re.compile(
    r"(主讲人|主讲|讲师|副教授|教授|研究员|老师|博士|硕士|先生|女士|医生|主任|校长|院长|专家|名师|嘉宾)"
)
_PROVIDER_NOISE = re.compile(r"(有限公司|公司|中心|\s)")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_MAIN_TITLE = re.compile(r"[:：—|｜]|\s-\s|--")
_GENERIC_LESSON = re.compile(r"^(第?[0-9一二三四五六七八九十百]+[讲节课集章回部分]?|lesson[0-9]+|[0-9]+)$")
"""Lesson titles that only number the lessons (第1讲): they say nothing about which course it is."""


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
    markers: TitleMarkers
    instructors: frozenset[str]
    provider: str
    lessons: tuple[str, ...]
    description: str
    lesson_count: int | None
    duration_seconds: int | None

    def blocking_keys(self) -> list[str]:
        """Keys a candidate must share with this record: the title key, then one per LSH band."""
        return list(self._blocking_keys)

    @cached_property
    def _blocking_keys(self) -> tuple[str, ...]:
        # a profile's keys are asked for by the index row, the candidate look-up and the blocks of `cluster`
        if len(self.key) < MIN_KEY_CHARS:
            return ()
        return (f"t{_short_hash(self.key)}", *band_keys(self.key))


PROFILE_CACHE = 8192
"""Profiles kept by (uid, content hash, title): a write profiles its records for the index row, the candidate
look-up and the clustering, and the records of a popular title are candidates of chunk after chunk."""
_profiles: OrderedDict[tuple[str, str, str], LinkProfile] = OrderedDict()
_profiles_lock = threading.Lock()


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
    profile = _profile(record)
    with _profiles_lock:
        _profiles[key] = profile
        if len(_profiles) > PROFILE_CACHE:
            _profiles.popitem(last=False)
    return profile


def _profile(record: Record) -> LinkProfile:
    spaced = _title(record.title)
    title = _squash(spaced)
    lessons = tuple(
        t for t in (_squash(fold(lesson.title)) for lesson in record.lessons) if t and not _GENERIC_LESSON.match(t)
    )
    return LinkProfile(
        uid=record.uid,
        platform=record.platform,
        title=title,
        key=_squash(strip_markers(title)),
        main=_squash(_MAIN_TITLE.split(spaced, maxsplit=1)[0]),
        markers=title_markers(fold(record.title)),
        instructors=frozenset(n for n in (person_name(p.name) for p in record.instructors) if n),
        provider=institution(record.provider.name) if record.provider else "",
        lessons=lessons,
        description=_squash(fold(record.description or ""))[:600],
        lesson_count=record.lesson_count or (len(lessons) or None),
        duration_seconds=record.duration_seconds,
    )


def person_name(name: str) -> str:
    """A teacher's name without titles and punctuation: 王秀兰教授 / 主讲：王秀兰老师 -> 王秀兰."""
    return _squash(_HONORIFICS.sub("", fold(name)))


def institution(name: str) -> str:
    """An institution's name folded, without 有限公司 / 中心 and spaces."""
    return _squash(_PROVIDER_NOISE.sub("", fold(name)))


def _title(title: str) -> str:
    """Folded title (punctuation kept); bracketed remarks kept only when they carry markers (（第二季）),
    dropped when they name a platform's packaging (（智慧教育版）, 【重播】)."""
    folded = fold(title)

    def remark(match: re.Match[str]) -> str:
        inner = match.group(1)
        return inner if title_markers(inner) != TitleMarkers() else ""

    return _REMARKS.sub(lambda m: f" {remark(m)} ", folded)


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
    minhash = MinHash(num_perm=_PERMUTATIONS, seed=_SEED, permutations=_permutations(), scheme=_SCHEME)
    minhash.update_batch(shingles)
    values = minhash.hashvalues.astype(np.uint32)
    return [
        f"b{band}{_short_hash(values[band * LSH_ROWS : (band + 1) * LSH_ROWS].tobytes())}"
        for band in range(LSH_BANDS)
    ]


_PERMS: tuple[np.ndarray, np.ndarray] | None = None


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """MinHash permutations, made once per process (datasketch would otherwise draw them per MinHash)."""
    global _PERMS
    if _PERMS is None:
        _PERMS = MinHash(num_perm=_PERMUTATIONS, seed=_SEED, scheme=_SCHEME).permutations
    return _PERMS
