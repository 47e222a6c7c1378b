"""What a held-out corpus's labelled pairs must be, as the generator (bench/quality/corpus.py) writes them: the tests
of every held-out set check their corpus with it."""

from __future__ import annotations

import opencc

from bench.quality.corpus import Corpus


def assert_pairs_as_labelled(corpus: Corpus, *, traditional_platform: str) -> None:
    """Each same-course pair lists one course (a `traditional` one on `traditional_platform`, in traditional
    characters there; a `teacher_in_text` one naming its teacher only in the description); each hard negative is
    two courses of one subject (two titles alike by two teachers for `other_teacher`), or two lectures of one course."""
    listing = {x.uid: x for x in corpus.listings}
    to_simplified = opencc.OpenCC("t2s")
    for (a, b), kind in corpus.duplicate_pairs.items():
        one, two = listing[a], listing[b]
        assert one.course.course_id == two.course.course_id
        if kind == "traditional":
            assert traditional_platform in (one.platform, two.platform)
            written = one if one.platform == traditional_platform else two
            assert to_simplified.convert(written.description) != written.description
        if kind == "teacher_in_text":
            named = one if one.rewording == kind else two
            assert named.teacher == "" and named.course.teacher in named.description
    for (a, b), kind in corpus.hard_negatives.items():
        one, two = listing[a], listing[b]
        if kind == "lecture":
            assert one.course == two.course and one.lecture != two.lecture
        else:
            assert one.course.course_id != two.course.course_id and one.course.subject == two.course.subject
        if kind == "other_teacher":
            assert one.course.title == two.course.title and one.course.teacher != two.course.teacher
