"""The labelled quality corpus: courses built from hand-written material, listed on several platforms.

Every course line (a title stem of one subject) gives two courses a learner must tell apart (a hard-negative
pair: 入门 vs 进阶, 第一季 vs 第二季, the same title by another teacher elsewhere, 上/下, (一)/(二), 2023版 vs
2024版), and each course is listed on one to four platforms with the rewording real platforms apply (punctuation,
【】 remarks, 老年大学 prefixes, an added subtitle, the teacher written with a title). Every listing keeps its hidden
labels (course identity, subject, family, level, true themes), which the judgements and metrics read; the engine
never sees them. Same seed, same corpus.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cache
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
MATERIAL = HERE / "material.yaml"
SEED = 20261206
PLATFORMS = ("le_ouchn", "lndx", "smartedu", "oai", "shequ")
OAI_PREFIX = "oai:xuexi.example.cn:"
# How a hard-negative pair differs; the two titles of each kind (stem placeholder {s}).
SIBLINGS: dict[str, tuple[str, str]] = {
    "level": ("{s}入门", "{s}进阶"),
    "season": ("{s}（第一季）", "{s}（第二季）"),
    "other_teacher": ("{s}", "{s}"),
    "part": ("{s}（上）", "{s}（下）"),
    "numbered": ("{s}（一）", "{s}（二）"),
    "edition": ("{s}（2023版）", "{s}（2024版）"),
}
REWORDINGS = ("punctuation", "remark", "prefix", "subtitle")
REMARKS = ("【名师课堂】{t}", "{t}【完结】", "【高清】{t}", "{t}【精品课】")
PREFIXES = ("老年大学·{t}", "老年大学{t}", "国家老年大学 {t}")
SUBTITLES = ("{t}：跟着名师学", "{t}——零起点也能学会", "{t}：系列微课", "{t}（全{n}讲）")
GENERAL = (
    "课程以短视频为主，每讲十分钟左右，随时随地都能学。",
    "本课程面向中老年学员，讲解细致、节奏舒缓。",
    "由{institution}录制，适合社区学习点组织集体观看。",
    "学员可以按自己的进度学习，遇到难点反复观看。",
    "课程配有讲义，方便课后复习。",
)
STORY_TITLES = ("{place}社区{key}班开课啦", "{place}老年学员的{key}作品展", "{key}走进{place}社区学习点")
PLACES = ("朝阳", "鼓楼", "龙泉驿", "上城", "江汉", "雁塔", "南山", "市北")


@dataclass(frozen=True)
class Subject:
    """One subject of the hand-written material (material.yaml)."""

    key: str
    family: str
    themes: tuple[str, ...]
    category: tuple[str, ...]
    tags: tuple[str, ...]
    stems: tuple[str, ...]
    lessons: tuple[str, ...]
    blurbs: tuple[str, ...]


@dataclass(frozen=True)
class Course:
    """One course as its teacher made it: the identity every listing of it shares."""

    course_id: str
    subject: Subject
    stem: str
    title: str
    level: str | None
    variant: str | None
    teacher: str
    institution: str
    lessons: tuple[str, ...]
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class Listing:
    """One course (or community story) as one platform publishes it."""

    platform: str
    source_id: str
    course: Course
    title: str
    teacher: str
    description: str
    rewording: str | None
    learners: int
    kind: str = "course"

    @property
    def uid(self) -> str:
        """The uid edufed gives the record (an OAI record's platform id is its OAI identifier)."""
        local = f"{OAI_PREFIX}{self.source_id}" if self.platform == "oai" else self.source_id
        return f"qa_{self.platform}:{local}"

    def labels(self) -> dict[str, Any]:
        """The hidden labels judgements and metrics read."""
        c = self.course
        return {"uid": self.uid, "course": c.course_id, "subject": c.subject.key, "family": c.subject.family,
                "stem": c.stem, "level": c.level, "variant": c.variant, "themes": list(c.subject.themes),
                "kind": self.kind, "platform": self.platform}  # fmt: skip


@dataclass
class Corpus:
    """The listings with their labels, and the labelled pairs."""

    listings: list[Listing]
    duplicate_pairs: dict[tuple[str, str], str] = field(default_factory=dict)
    """(uid, uid) sorted -> how the second listing was reworded."""
    hard_negatives: dict[tuple[str, str], str] = field(default_factory=dict)
    """(uid, uid) sorted -> what tells the two courses apart (a SIBLINGS kind)."""

    def labels(self) -> dict[str, dict[str, Any]]:
        return {listing.uid: listing.labels() for listing in self.listings}


@cache
def material() -> dict[str, Any]:
    return yaml.safe_load(MATERIAL.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def subjects() -> list[Subject]:
    return [Subject(key=s["key"], family=s["family"], themes=tuple(s["themes"]), category=tuple(s["category"]),
                    tags=tuple(s["tags"]), stems=tuple(s["stems"]), lessons=tuple(s["lessons"]),
                    blurbs=tuple(s["blurbs"])) for s in material()["subjects"]]  # fmt: skip


def level_of(title: str) -> str | None:
    """The level label a title states (the generator's words, not the engine's detection)."""
    if "进阶" in title or "提高" in title:
        return "进阶"
    if "入门" in title or "基础" in title:
        return "入门"
    return None


def build_corpus(seed: int = SEED) -> Corpus:
    """The whole corpus, deterministic for one seed."""
    rng = random.Random(seed)
    m = material()
    corpus = Corpus(listings=[])
    kinds = list(SIBLINGS)
    serial = 0
    for n, subject in enumerate(subjects()):
        for i, stem in enumerate(subject.stems):
            kind = kinds[(i + n) % len(kinds)]
            pair = _sibling_courses(rng, subject, stem, kind, m, line=f"{subject.key}-{i}")
            groups = []
            for course in pair:
                listed, serial = _listings(rng, course, serial)
                corpus.listings += listed
                groups.append(listed)
                for a, b in combinations(listed, 2):
                    corpus.duplicate_pairs[_pair(a, b)] = b.rewording or "same_title"
            for a in groups[0]:
                for b in groups[1]:
                    corpus.hard_negatives[_pair(a, b)] = kind
        for j, suffix in enumerate(("课堂", "小课")):
            title = f"{subject.tags[0]}{suffix}"
            course = _course(rng, subject, title, m, course_id=f"{subject.key}-short{j}", stem=title)
            listed, serial = _listings(rng, course, serial)
            corpus.listings += listed
            for a, b in combinations(listed, 2):
                corpus.duplicate_pairs[_pair(a, b)] = b.rewording or "same_title"
        serial = _story(rng, corpus, subject, m, serial)
    return corpus


def _pair(a: Listing, b: Listing) -> tuple[str, str]:
    return (a.uid, b.uid) if a.uid < b.uid else (b.uid, a.uid)


def _sibling_courses(rng: random.Random, subject: Subject, stem: str, kind: str, m: dict[str, Any],
                     *, line: str) -> list[Course]:  # fmt: skip
    first, second = (pattern.format(s=stem) for pattern in SIBLINGS[kind])
    one = _course(rng, subject, first, m, course_id=f"{line}-a", stem=stem, half=0)
    other_teacher = kind == "other_teacher"
    two = _course(rng, subject, second, m, course_id=f"{line}-b", stem=stem, half=1,
                  teacher=None if other_teacher else one.teacher,
                  institution=None if other_teacher else one.institution)  # fmt: skip
    if other_teacher:
        while two.teacher == one.teacher or two.institution == one.institution:
            two = _course(rng, subject, second, m, course_id=f"{line}-b", stem=stem, half=1)
    variants = {"season": ("第一季", "第二季"), "part": ("上", "下"), "numbered": ("一", "二"),
                "edition": ("2023版", "2024版")}.get(kind)  # fmt: skip
    if variants:
        one, two = _with_variant(one, variants[0]), _with_variant(two, variants[1])
    return [one, two]


def _with_variant(course: Course, variant: str) -> Course:
    return Course(course.course_id, course.subject, course.stem, course.title, course.level, variant, course.teacher,
                  course.institution, course.lessons, course.sentences)  # fmt: skip


def _course(rng: random.Random, subject: Subject, title: str, m: dict[str, Any], *, course_id: str, stem: str,
            half: int | None = None, teacher: str | None = None, institution: str | None = None) -> Course:  # fmt: skip
    pool = list(subject.lessons)
    if half is not None:  # the two courses of a pair teach different lessons (content differs)
        middle = len(pool) // 2
        pool = pool[:middle + 1] if half == 0 else pool[middle - 1:]
    count = min(len(pool), rng.randint(5, 8))
    start = rng.randint(0, len(pool) - count)
    lessons = tuple(pool[start:start + count])
    blurbs = rng.sample(subject.blurbs, k=min(3, len(subject.blurbs)))
    sentences = (*blurbs, rng.choice(GENERAL))
    return Course(course_id=course_id, subject=subject, stem=stem, title=title, level=level_of(title), variant=None,
                  teacher=teacher or rng.choice(m["teachers"]),
                  institution=institution or rng.choice(m["institutions"]), lessons=lessons,
                  sentences=sentences)  # fmt: skip


def _listings(rng: random.Random, course: Course, serial: int) -> tuple[list[Listing], int]:
    copies = rng.choices((1, 2, 3, 4), weights=(20, 40, 28, 12))[0]
    platforms = rng.sample(PLATFORMS, k=copies)
    listed = []
    for n, platform in enumerate(platforms):
        serial += 1
        rewording = None if n == 0 else rng.choice(REWORDINGS)
        title = course.title if rewording is None else _reworded(rng, course, rewording)
        listed.append(Listing(platform=platform, source_id=f"{platform}-{serial:05d}", course=course, title=title,
                              teacher=_teacher_as_written(rng, course.teacher, platform),
                              description=_description(rng, course, reworded=n > 0), rewording=rewording,
                              learners=rng.randint(30, 60000)))  # fmt: skip
    return listed, serial


def _reworded(rng: random.Random, course: Course, how: str) -> str:
    t = course.title
    if how == "punctuation":
        return t.replace("（", "(").replace("）", ")") if "（" in t else f"《{t}》"
    if how == "remark":
        return rng.choice(REMARKS).format(t=t)
    if how == "prefix":
        return rng.choice(PREFIXES).format(t=t)
    return rng.choice(SUBTITLES).format(t=t, n=len(course.lessons))


def _teacher_as_written(rng: random.Random, name: str, platform: str) -> str:
    titles = material()["teacher_titles"]
    if platform == "lndx":
        return f"{name}{rng.choice(titles)}"
    if platform == "oai":
        return f"主讲：{name}{rng.choice(titles)}"
    return name


def _description(rng: random.Random, course: Course, *, reworded: bool) -> str:
    sentences = [s.format(institution=course.institution) for s in course.sentences]
    if reworded:  # another platform's editor: another order, one sentence fewer
        rng.shuffle(sentences)
        sentences = sentences[:-1]
    return "".join(sentences)


def _story(rng: random.Random, corpus: Corpus, subject: Subject, m: dict[str, Any], serial: int) -> int:
    """A community-site news item about a local class: about the subject, but not a course to take."""
    serial += 1
    place = rng.choice(PLACES)
    title = rng.choice(STORY_TITLES).format(place=place, key=subject.tags[0])
    course = Course(course_id=f"story-{serial}", subject=subject, stem=title, title=title, level=None, variant=None,
                    teacher=rng.choice(m["teachers"]), institution=rng.choice(m["institutions"]), lessons=(),
                    sentences=(f"近日，{place}社区学习点的{subject.tags[0]}学习班迎来了新学员。", subject.blurbs[0],
                               "学员们表示收获很大，希望以后多办这样的活动。"))  # fmt: skip
    corpus.listings.append(Listing(platform="shequ", source_id=f"shequ-{serial:05d}", course=course, title=title,
                                   teacher="", description="".join(course.sentences), rewording=None,
                                   learners=0, kind="story"))  # fmt: skip
    return serial
