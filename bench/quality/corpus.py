"""The labelled quality corpus: courses built from hand-written material, listed on several platforms.

Every course line (a title stem of one subject) gives two courses a learner must tell apart (a hard-negative
pair: 入门 vs 进阶, 第一季 vs 第二季, the same title by another teacher elsewhere, 上/下, (一)/(二), 2023版 vs
2024版), and each course is listed on one to four platforms with the rewording real platforms apply (punctuation,
【】 remarks, 老年大学 prefixes, an added subtitle, the teacher written with a title). Every listing keeps its hidden
labels (course identity, subject, family, level, true themes), which the judgements and metrics read; the engine
never sees them. Same seed, same corpus.

A corpus is a folder with its material.yaml, judgements.yaml and floors.yaml (CORPORA): `main`, the suite's own, and
`heldout`, written apart from the engine and never tuned against; `heldout2` is the held-out corpus with a second
query set of its own (QUERY_FILES: judgements2.yaml and floors2.yaml in the same folder), written after the first
had gated ranking changes; `heldout3` is a third corpus, its material and queries written apart from the engine once
the first two had gated changes; `heldout4` is the third corpus with a second query set of its own (judgements4.yaml
and floors4.yaml in heldout3/; bench/quality/HELDOUT4.md), written once heldout3's queries had gated changes;
`heldout5` is a fourth corpus with queries of its own (bench/quality/HELDOUT5.md), its material and queries written
apart from the engine once heldout3 and heldout4 had gated changes. A material file may replace the wording tables
below (sibling kinds, rewordings and their templates, general sentences, stories) and add what the held-out sets
need: blurbs given as [sentence, paraphrase] (another platform's editor rewrites rather than reorders), the teacher
named only in the description, a course published as separate lectures, and one platform writing in traditional
characters.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import combinations
from pathlib import Path
from typing import Any

import opencc
import yaml

HERE = Path(__file__).resolve().parent
MATERIAL = HERE / "material.yaml"
CORPORA = {"main": HERE, "heldout": HERE / "heldout", "heldout2": HERE / "heldout", "heldout3": HERE / "heldout3",
           "heldout4": HERE / "heldout3", "heldout5": HERE / "heldout5"}  # fmt: skip
QUERY_FILES = {"heldout2": ("judgements2.yaml", "floors2.yaml"), "heldout4": ("judgements4.yaml", "floors4.yaml")}
"""A corpus that reuses another's folder and material with queries of its own: its judgements and floors files."""
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
    blurbs: tuple[tuple[str, ...], ...]
    """Each description sentence with its paraphrases (one variant when the material gives a plain string)."""
    kinds: tuple[str | None, ...] = ()
    """Per stem, the sibling kind the material asks for (None: the kinds in turn)."""
    partners: tuple[str | None, ...] = ()
    """Per stem, the title of the same teacher's other course ({p} in a sibling pattern)."""


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
    sentences: tuple[tuple[str, ...], ...]


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
    lessons: tuple[str, ...] | None = None
    """The lessons as this platform lists them, when not the course's own (a lecture, traditional characters)."""
    lecture: int | None = None
    """Which lecture of the course a lecture record is (1 = 第1讲)."""

    @property
    def lesson_titles(self) -> tuple[str, ...]:
        return self.course.lessons if self.lessons is None else self.lessons

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


@dataclass(frozen=True)
class Style:
    """How one corpus's courses are told apart and reworded: its material's tables, or this module's defaults."""

    siblings: dict[str, tuple[str, str]]
    cycle: tuple[str, ...]
    variants: dict[str, tuple[str | None, str | None]]
    rewordings: tuple[str, ...]
    templates: dict[str, tuple[str, ...]]
    general: tuple[tuple[str, ...], ...]
    story_titles: tuple[str, ...]
    story_sentences: tuple[str, ...]
    places: tuple[str, ...]
    short_suffixes: tuple[str, ...]
    cities: tuple[str, ...]
    teacher_lines: tuple[str, ...]
    lecture_lines: tuple[str, ...]
    lecture_count: int
    traditional_platform: str | None


DEFAULT_VARIANTS = {"season": ("第一季", "第二季"), "part": ("上", "下"), "numbered": ("一", "二"),
                    "edition": ("2023版", "2024版")}  # fmt: skip
STORY_SENTENCES = (
    "近日，{place}社区学习点的{tag}学习班迎来了新学员。",
    "{blurb}",
    "学员们表示收获很大，希望以后多办这样的活动。",
)


def corpus_dir(name: str) -> Path:
    """The folder of a named corpus (CORPORA)."""
    if name not in CORPORA:
        raise ValueError(f"unknown corpus {name!r}: one of {', '.join(CORPORA)}")
    return CORPORA[name]


def judgements_file(name: str) -> Path:
    """The graded queries of a named corpus: judgements.yaml in its folder, or its own file (QUERY_FILES)."""
    return corpus_dir(name) / QUERY_FILES.get(name, ("judgements.yaml", "floors.yaml"))[0]


def floors_file(name: str) -> Path:
    """The floors of a named corpus: floors.yaml in its folder, or its own file (QUERY_FILES)."""
    return corpus_dir(name) / QUERY_FILES.get(name, ("judgements.yaml", "floors.yaml"))[1]


@cache
def material(path: Path = MATERIAL) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _variants(item: str | Sequence[str]) -> tuple[str, ...]:
    return (item,) if isinstance(item, str) else tuple(item)


def subjects(m: dict[str, Any] | None = None) -> list[Subject]:
    found = []
    for s in (m or material())["subjects"]:
        lines = [{"stem": x} if isinstance(x, str) else x for x in s["stems"]]
        found.append(Subject(key=s["key"], family=s["family"], themes=tuple(s["themes"]),
                             category=tuple(s["category"]), tags=tuple(s["tags"]),
                             stems=tuple(x["stem"] for x in lines), lessons=tuple(s["lessons"]),
                             blurbs=tuple(_variants(b) for b in s["blurbs"]),
                             kinds=tuple(x.get("kind") for x in lines),
                             partners=tuple(x.get("partner") for x in lines)))  # fmt: skip
    return found


def style(m: dict[str, Any]) -> Style:
    """The wording tables of a material file, each falling back to this module's defaults."""
    siblings = {k: (a, b) for k, (a, b) in (m.get("siblings") or SIBLINGS).items()}
    variants = {k: (a, b) for k, (a, b) in (m.get("variants") or DEFAULT_VARIANTS).items()}
    templates = {"remark": REMARKS, "prefix": PREFIXES, "subtitle": SUBTITLES,
                 **{k: tuple(v) for k, v in (m.get("templates") or {}).items()}}  # fmt: skip
    return Style(siblings=siblings, cycle=tuple(m.get("cycle") or siblings), variants=variants,
                 rewordings=tuple(m.get("rewordings") or REWORDINGS), templates=templates,
                 general=tuple(_variants(g) for g in m.get("general") or GENERAL),
                 story_titles=tuple(m.get("story_titles") or STORY_TITLES),
                 story_sentences=tuple(m.get("story_sentences") or STORY_SENTENCES),
                 places=tuple(m.get("places") or PLACES),
                 short_suffixes=tuple(m.get("short_suffixes") or ("课堂", "小课")),
                 cities=tuple(m.get("cities") or ()), teacher_lines=tuple(m.get("teacher_lines") or ()),
                 lecture_lines=tuple(m.get("lecture_lines") or ()), lecture_count=int(m.get("lecture_count", 4)),
                 traditional_platform=m.get("traditional_platform"))  # fmt: skip


@cache
def _traditional() -> opencc.OpenCC:
    return opencc.OpenCC("s2tw")


def level_of(title: str) -> str | None:
    """The level label a title states (the generator's words, not the engine's detection)."""
    if "进阶" in title or "提高" in title:
        return "进阶"
    if "入门" in title or "基础" in title:
        return "入门"
    return None


def build_corpus(seed: int | None = None, *, name: str = "main") -> Corpus:
    """The whole corpus of a named corpus (CORPORA), deterministic for one seed (default: the material's, or SEED)."""
    m = material(corpus_dir(name) / "material.yaml")
    rng = random.Random(m.get("seed", SEED) if seed is None else seed)
    look = style(m)
    corpus = Corpus(listings=[])
    serial = 0
    for n, subject in enumerate(subjects(m)):
        for i, stem in enumerate(subject.stems):
            kind = subject.kinds[i] or look.cycle[(i + n) % len(look.cycle)]
            pair = _sibling_courses(rng, subject, stem, kind, m, look, line=f"{subject.key}-{i}",
                                    partner=subject.partners[i])  # fmt: skip
            groups = []
            for course in pair:
                listed, serial = _add(rng, corpus, course, serial, m, look)
                groups.append(listed)
            for a in groups[0]:
                for b in groups[1]:
                    corpus.hard_negatives[_pair(a, b)] = kind
        for j, suffix in enumerate(look.short_suffixes):
            title = f"{subject.tags[0]}{suffix}"
            course = _course(rng, subject, title, m, look, course_id=f"{subject.key}-short{j}", stem=title)
            _, serial = _add(rng, corpus, course, serial, m, look)
        serial = _story(rng, corpus, subject, m, look, serial)
    return corpus


def _add(rng: random.Random, corpus: Corpus, course: Course, serial: int, m: dict[str, Any],
         look: Style) -> tuple[list[Listing], int]:  # fmt: skip
    """List one course on its platforms; label its same-course pairs, and its lecture records' pairs (one lecture on
    two platforms is the same, two lectures of the course are not)."""
    listed, lectures, serial = _listings(rng, course, serial, m, look)
    corpus.listings += [*listed, *lectures]
    for a, b in combinations(listed, 2):
        corpus.duplicate_pairs[_pair(a, b)] = _same_kind(a, b, look)
    for a, b in combinations(lectures, 2):
        if a.lecture == b.lecture:
            corpus.duplicate_pairs[_pair(a, b)] = "lecture"
        else:
            corpus.hard_negatives[_pair(a, b)] = "lecture"
    return listed, serial


def _same_kind(a: Listing, b: Listing, look: Style) -> str:
    """How a labelled same-course pair differs: traditional characters on either side, else b's rewording."""
    if look.traditional_platform in (a.platform, b.platform):
        return "traditional"
    return b.rewording or "same_title"


def _pair(a: Listing, b: Listing) -> tuple[str, str]:
    return (a.uid, b.uid) if a.uid < b.uid else (b.uid, a.uid)


def _sibling_courses(rng: random.Random, subject: Subject, stem: str, kind: str, m: dict[str, Any], look: Style,
                     *, line: str, partner: str | None) -> list[Course]:  # fmt: skip
    patterns = look.siblings[kind]
    first, second = (pattern.format(s=stem, p=partner or stem) for pattern in patterns)
    one = _course(rng, subject, first, m, look, course_id=f"{line}-a", stem=stem, half=0)
    other_teacher = kind == "other_teacher"
    second_stem = partner if partner and "{p}" in patterns[1] else stem
    two = _course(rng, subject, second, m, look, course_id=f"{line}-b", stem=second_stem, half=1,
                  teacher=None if other_teacher else one.teacher,
                  institution=None if other_teacher else one.institution)  # fmt: skip
    if other_teacher:
        while two.teacher == one.teacher or two.institution == one.institution:
            two = _course(rng, subject, second, m, look, course_id=f"{line}-b", stem=stem, half=1)
    variants = look.variants.get(kind)
    if variants:
        one, two = _with_variant(one, variants[0]), _with_variant(two, variants[1])
    return [one, two]


def _with_variant(course: Course, variant: str | None) -> Course:
    return Course(course.course_id, course.subject, course.stem, course.title, course.level, variant, course.teacher,
                  course.institution, course.lessons, course.sentences)  # fmt: skip


def _course(rng: random.Random, subject: Subject, title: str, m: dict[str, Any], look: Style, *, course_id: str,
            stem: str, half: int | None = None, teacher: str | None = None,
            institution: str | None = None) -> Course:  # fmt: skip
    pool = list(subject.lessons)
    if half is not None:  # the two courses of a pair teach different lessons (content differs)
        middle = len(pool) // 2
        pool = pool[: middle + 1] if half == 0 else pool[middle - 1 :]
    count = min(len(pool), rng.randint(5, 8))
    start = rng.randint(0, len(pool) - count)
    lessons = tuple(pool[start : start + count])
    blurbs = rng.sample(subject.blurbs, k=min(3, len(subject.blurbs)))
    sentences = (*blurbs, rng.choice(look.general))
    return Course(course_id=course_id, subject=subject, stem=stem, title=title, level=level_of(title), variant=None,
                  teacher=teacher or rng.choice(m["teachers"]),
                  institution=institution or rng.choice(m["institutions"]), lessons=lessons,
                  sentences=sentences)  # fmt: skip


def _listings(rng: random.Random, course: Course, serial: int, m: dict[str, Any],
              look: Style) -> tuple[list[Listing], list[Listing], int]:  # fmt: skip
    """The course's listings on one to four platforms, and the lecture records of a platform that splits it."""
    copies = rng.choices((1, 2, 3, 4), weights=(20, 40, 28, 12))[0]
    platforms = rng.sample(PLATFORMS, k=copies)
    listed: list[Listing] = []
    lectures: list[Listing] = []
    for n, platform in enumerate(platforms):
        serial += 1
        rewording = None if n == 0 else rng.choice(look.rewordings)
        if rewording == "lectures":
            split, serial = _lectures(rng, course, platform, serial - 1, m, look)
            lectures += split
            continue
        title = course.title if rewording is None else _reworded(rng, course, rewording, look)
        in_text = rewording == "teacher_in_text"
        teacher = "" if in_text else _teacher_as_written(rng, course.teacher, platform, m)
        description = _description(rng, course, reworded=n > 0)
        if in_text:
            line = rng.choice(look.teacher_lines).format(teacher=course.teacher, institution=course.institution)
            description += line
        listed.append(_written(Listing(platform=platform, source_id=f"{platform}-{serial:05d}", course=course,
                                       title=title, teacher=teacher, description=description, rewording=rewording,
                                       learners=rng.randint(30, 60000)), look))  # fmt: skip
    return listed, lectures, serial


def _lectures(rng: random.Random, course: Course, platform: str, serial: int, m: dict[str, Any],
              look: Style) -> tuple[list[Listing], int]:  # fmt: skip
    """A platform that publishes each lecture of the course as a record of its own (第1讲 …)."""
    template = rng.choice(look.templates["lectures"])
    found = []
    for k, lesson in enumerate(course.lessons[: look.lecture_count], start=1):
        serial += 1
        words = {"t": course.title, "k": k, "kc": "一二三四五六七八九十"[k - 1], "lesson": lesson}
        description = rng.choice(look.lecture_lines).format(**words) + course.sentences[0][-1]
        found.append(_written(Listing(platform=platform, source_id=f"{platform}-{serial:05d}", course=course,
                                      title=template.format(**words),
                                      teacher=_teacher_as_written(rng, course.teacher, platform, m),
                                      description=description.format(institution=course.institution),
                                      rewording="lectures", learners=rng.randint(30, 6000), kind="lecture",
                                      lessons=(lesson,), lecture=k), look))  # fmt: skip
    return found, serial


def _written(listing: Listing, look: Style) -> Listing:
    """The listing as its platform writes it: in traditional characters on the corpus's traditional platform."""
    if listing.platform != look.traditional_platform:
        return listing
    convert = _traditional().convert
    return Listing(platform=listing.platform, source_id=listing.source_id, course=listing.course,
                   title=convert(listing.title), teacher=convert(listing.teacher),
                   description=convert(listing.description), rewording=listing.rewording, learners=listing.learners,
                   kind=listing.kind, lessons=tuple(convert(t) for t in listing.lesson_titles),
                   lecture=listing.lecture)  # fmt: skip


def _reworded(rng: random.Random, course: Course, how: str, look: Style) -> str:
    t = course.title
    if how == "punctuation":
        return t.replace("（", "(").replace("）", ")") if "（" in t else f"《{t}》"
    if how == "teacher_in_text":
        return t
    template = rng.choice(look.templates[how])
    city = rng.choice(look.cities) if "{city}" in template else ""
    return template.format(t=t, n=len(course.lessons), city=city)


def _teacher_as_written(rng: random.Random, name: str, platform: str, m: dict[str, Any]) -> str:
    titles = m["teacher_titles"]
    if platform == "lndx":
        return f"{name}{rng.choice(titles)}"
    if platform == "oai":
        return f"主讲：{name}{rng.choice(titles)}"
    return name


def _description(rng: random.Random, course: Course, *, reworded: bool) -> str:
    # Another platform's editor writes each sentence's last variant (a paraphrase, when the material gives one).
    sentences = [(s[-1] if reworded else s[0]).format(institution=course.institution) for s in course.sentences]
    if reworded:  # and another order, one sentence fewer
        rng.shuffle(sentences)
        sentences = sentences[:-1]
    return "".join(sentences)


def _story(rng: random.Random, corpus: Corpus, subject: Subject, m: dict[str, Any], look: Style,
           serial: int) -> int:  # fmt: skip
    """A community-site news item about a local class: about the subject, but not a course to take."""
    serial += 1
    place = rng.choice(look.places)
    title = rng.choice(look.story_titles).format(place=place, key=subject.tags[0])
    words = {"place": place, "tag": subject.tags[0], "blurb": subject.blurbs[0][0]}
    course = Course(course_id=f"story-{serial}", subject=subject, stem=title, title=title, level=None, variant=None,
                    teacher=rng.choice(m["teachers"]), institution=rng.choice(m["institutions"]), lessons=(),
                    sentences=tuple((s.format(**words),) for s in look.story_sentences))  # fmt: skip
    listing = Listing(platform="shequ", source_id=f"shequ-{serial:05d}", course=course, title=title, teacher="",
                      description="".join(s[0] for s in course.sentences), rewording=None, learners=0,
                      kind="story")  # fmt: skip
    corpus.listings.append(_written(listing, look))
    return serial
