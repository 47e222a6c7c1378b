"""A serving process collects its young generation less often, and a harvest run inside it gives that back."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from crawlers.run_gc import GC_YOUNG_THRESHOLD, fewer_collections, serving_collections


@pytest.fixture(autouse=True)
def restored_thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


def test_serving_raises_only_the_young_threshold_and_a_harvest_run_restores_it() -> None:
    serving_collections()
    assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, 10, 10)
    with fewer_collections():
        assert gc.get_threshold()[0] >= GC_YOUNG_THRESHOLD and gc.get_freeze_count() > 0
    assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, 10, 10)
    assert gc.get_freeze_count() == 0


def test_a_higher_threshold_set_before_is_kept() -> None:
    gc.set_threshold(GC_YOUNG_THRESHOLD * 2, 10, 10)
    serving_collections()
    assert gc.get_threshold() == (GC_YOUNG_THRESHOLD * 2, 10, 10)
