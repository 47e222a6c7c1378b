"""The weak-theme fallback of the theme classifier: a record no theme reaches the threshold for keeps the one
subject it has evidence of, and a keyword rule's secondary theme is no second subject."""

from __future__ import annotations

import pytest

from config import load_themes
from indexer.normalize.themes import FoldedFields, ThemeClassifier


@pytest.fixture(scope="module")
def classifier() -> ThemeClassifier:
    return ThemeClassifier(load_themes())


def themes_of(classifier: ThemeClassifier, title: str, description: str, *, taught: bool = True) -> list[str]:
    folded = FoldedFields.of(title=title, subtitle=None, tags=[], description=description, categories=[])
    return classifier.classify_folded(folded, categories=[], taught=taught).themes


def test_a_weak_theme_whose_rule_carries_a_secondary_one_is_kept_with_it(classifier: ThemeClassifier) -> None:
    # 隔代 and 孙辈 once each in a description (2 x 0.5): 代际沟通 reaches the fallback score, and the share its
    # rule carries to 思想道德 (§6.1's row) made two themes "scored", so the record had none
    said = "隔代相处中，了解孙辈常说的网络流行语。"
    assert themes_of(classifier, "听懂年轻人的网络用语", said) == ["代际沟通", "思想道德"]
    # one mention is still too little, and a record that teaches nothing keeps no weak theme
    assert themes_of(classifier, "听懂年轻人的网络用语", "了解孙辈常说的网络流行语。") == []
    assert themes_of(classifier, "听懂年轻人的网络用语", said, taught=False) == []


def test_weak_evidence_of_two_subjects_still_names_none(classifier: ThemeClassifier) -> None:
    # 代际沟通 (隔代, 孙辈) and 法律法规 (纠纷, 调解) each from two mentions: no one subject, no theme
    said = "隔代相处中了解孙辈的想法；遇到纠纷时如何寻求调解。"
    assert themes_of(classifier, "第三讲", said) == []
