"""Whether two records are the same course, and the evidence: teachers, institution, lessons, description.

A title alone never decides. Titles must be alike (rapidfuzz), no marker may differ (入门 vs 进阶, 第一季 vs
第二季), and nothing known may contradict (another teacher, another lesson list, another institution without
a shared teacher); then at least one field beyond the title must agree. The verdict carries its reasons in
the words an admin reads on the record's admin view ('同一主讲 王秀兰；10 节中 9 节相同').
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz

from indexer.linkage.profile import LinkProfile

TITLE_SIMILAR = 80.0
"""rapidfuzz ratio (0-100) of the marker-free title keys below which two records are not compared further."""
TITLE_SAME = 95.0
MIN_MAIN_TITLE = 4
DESCRIPTION_SIMILAR = 85.0
DESCRIPTION_DIFFERENT = 40.0
MIN_DESCRIPTION = 20
MIN_SENTENCES = 2
MIN_MENTIONED = 3
"""A lesson title shorter than this (引言, 总结) found in another record's text says nothing; two must be found."""
"""Descriptions are compared sentence by sentence only when the shorter has at least this many sentences."""
SUBTITLES_UNPROVEN = "副标题不同且无课程内容证据"
"""Two titles that share only their main title (书法入门：楷书 / 书法入门：隶书) need the lessons or the description
to agree: a teacher and an institution give a whole series."""
LESSONS_SAME = 0.6
LESSONS_DIFFERENT = 0.3
COUNT_RATIO = 0.75
"""Lesson counts (or durations) further apart than this ratio are different courses."""


@dataclass
class Verdict:
    """The outcome for one pair: `same`, with the reasons (evidence) or the veto that keeps them apart."""

    same: bool
    evidence: list[str] = field(default_factory=list)
    veto: str | None = None
    score: float = 0.0

    def text(self) -> str:
        return "；".join(self.evidence) if self.same else (self.veto or "证据不足")


def compare(a: LinkProfile, b: LinkProfile) -> Verdict:
    """The verdict on two profiles (symmetric)."""
    if not a.key or not b.key:
        return Verdict(False, veto="标题过短")
    title = max(fuzz.ratio(a.key, b.key), fuzz.token_sort_ratio(_spaced(a.key), _spaced(b.key)), _alias_ratio(a, b))
    alike = title >= TITLE_SIMILAR or _same_main_title(a, b)
    subtitled = not alike and _same_main(a, b)
    if not alike and not subtitled:
        return Verdict(False, veto="标题不同")
    conflict = a.markers.conflict(b.markers)
    if conflict:
        return Verdict(False, veto=conflict)
    veto = _contradiction(a, b)
    if veto:
        return Verdict(False, veto=veto)
    evidence, score, content = _agreement(a, b, title=title)
    if not evidence:
        return Verdict(False, veto="除标题外无共同证据")
    if subtitled and not content:
        return Verdict(False, veto=SUBTITLES_UNPROVEN)
    return Verdict(True, evidence=evidence, score=score + title / 100)


def _alias_ratio(a: LinkProfile, b: LinkProfile) -> float:
    """How alike one title is to the other's alias (乐享课堂：葫芦丝演奏 / 葫芦丝演奏); two aliases are never
    compared."""
    return max(fuzz.ratio(a.alias, b.key) if a.alias else 0.0, fuzz.ratio(a.key, b.alias) if b.alias else 0.0)


def _same_main_title(a: LinkProfile, b: LinkProfile) -> bool:
    """One title is the other's main title with a subtitle added (书法入门 / 书法入门：楷书基础)."""
    return _same_main(a, b) and a.main in (a.title, b.title)


def _same_main(a: LinkProfile, b: LinkProfile) -> bool:
    """The same main title, whatever follows it (书法入门：楷书基础 / 书法入门——零起点也能学)."""
    return len(a.main) >= MIN_MAIN_TITLE and a.main == b.main


def _spaced(key: str) -> str:
    return " ".join(key)


def _contradiction(a: LinkProfile, b: LinkProfile) -> str | None:
    """A known field that says the two are different courses."""
    shared_teacher = bool(a.instructors & b.instructors)
    if a.instructors and b.instructors and not shared_teacher:
        return "主讲不同"
    overlap = lesson_overlap(a, b)
    if overlap is not None and overlap[0] / overlap[1] < LESSONS_DIFFERENT:
        return "课程目录不同"
    same_lessons = overlap is not None and overlap[0] / overlap[1] >= LESSONS_SAME
    if a.provider and b.provider and not (shared_teacher or same_lessons) and fuzz.ratio(a.provider, b.provider) < 90:
        return "机构不同"
    if _far_apart(a.lesson_count, b.lesson_count):
        return "课时数不同"
    if _far_apart(a.duration_seconds, b.duration_seconds):
        return "时长不同"
    similarity = description_similarity(a, b)
    if similarity is not None and not shared_teacher and similarity < DESCRIPTION_DIFFERENT:
        return "简介不同"
    return None


def _agreement(a: LinkProfile, b: LinkProfile, *, title: float) -> tuple[list[str], float, bool]:
    """The evidence beyond the title, with a weight for ranking merges, and whether any of it is the course's
    content (its lessons or description) rather than who gives it."""
    evidence: list[str] = []
    score = 0.0
    teachers = sorted(a.instructors & b.instructors)
    if teachers:
        evidence.append(f"同一主讲 {'、'.join(teachers)}")
        score += 2
    overlap = lesson_overlap(a, b)
    mentioned = lessons_mentioned(a, b) if overlap is None else None
    if overlap is not None and overlap[0] / overlap[1] >= LESSONS_SAME:
        evidence.append(f"{overlap[1]} 节中 {overlap[0]} 节相同")
        score += 2
    elif mentioned is not None and mentioned[0] / mentioned[1] >= LESSONS_SAME:
        evidence.append(f"{mentioned[1]} 节中 {mentioned[0]} 节见于对方简介")
        score += 1.5
    similarity = description_similarity(a, b)
    if similarity is not None and similarity >= DESCRIPTION_SIMILAR:
        evidence.append(f"简介相似 {similarity / 100:.2f}")
        score += 1.5
    content = len(evidence) > (1 if teachers else 0)
    if a.provider and b.provider and fuzz.ratio(a.provider, b.provider) >= 90 and (evidence or title >= TITLE_SAME):
        evidence.append(f"同一机构 {a.provider}")
        score += 1
    if evidence and overlap is None and a.lesson_count and a.lesson_count == b.lesson_count:
        evidence.append(f"同为 {a.lesson_count} 节")
        score += 0.5
    return evidence, score, content


def description_similarity(a: LinkProfile, b: LinkProfile) -> float | None:
    """How alike two descriptions are (0-100), when both say enough: the better of their edit similarity and the
    share of the shorter one's sentences found in the other (platforms reorder sentences and drop some)."""
    if len(a.description) < MIN_DESCRIPTION or len(b.description) < MIN_DESCRIPTION:
        return None
    similarity = fuzz.ratio(a.description, b.description)
    fewer, more = sorted((a.sentences, b.sentences), key=len)
    if len(fewer) >= MIN_SENTENCES:
        shared = sum(1 for s in fewer if s in more or any(fuzz.ratio(s, t) >= 90 for t in more))
        similarity = max(similarity, 100.0 * shared / len(fewer))
    return similarity


def lessons_mentioned(a: LinkProfile, b: LinkProfile) -> tuple[int, int] | None:
    """(lessons found, lessons listed) when only one record lists lessons and the other's description may name
    them (a feed that writes the lesson list into its text): agreement when found, never a contradiction."""
    listed, other = (a, b) if len(a.lessons) >= 2 and not b.lessons else (b, a)
    if len(listed.lessons) < 2 or other.lessons or not other.text:
        return None
    named = sum(1 for lesson in listed.lessons if len(lesson) >= MIN_MENTIONED and lesson in other.text)
    return (named, len(listed.lessons)) if named >= 2 else (0, len(listed.lessons))


def lesson_overlap(a: LinkProfile, b: LinkProfile) -> tuple[int, int] | None:
    """(lessons of the longer list found in the other, length of the longer list), when both lists are known
    and hold real titles (not only 第1讲, 第2讲 ...)."""
    if len(a.lessons) < 2 or len(b.lessons) < 2:
        return None
    longer, shorter = (a.lessons, b.lessons) if len(a.lessons) >= len(b.lessons) else (b.lessons, a.lessons)
    others = set(shorter)
    same = sum(1 for lesson in longer if lesson in others or _near(lesson, shorter))
    return same, len(longer)


def _near(lesson: str, others: tuple[str, ...]) -> bool:
    return any(fuzz.ratio(lesson, other) >= 90 for other in others)


def _far_apart(x: int | None, y: int | None) -> bool:
    if not x or not y:
        return False
    return min(x, y) / max(x, y) < COUNT_RATIO
