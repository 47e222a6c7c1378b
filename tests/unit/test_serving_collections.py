"""A serving process collects its young generation less often, and a harvest run inside it gives that back."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from crawlers import run_gc
from crawlers.run_gc import GC_YOUNG_THRESHOLD, fewer_collections, freeze_started, serving_collections


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


def test_a_started_process_is_frozen_and_frozen_again_after_a_harvest_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a serving process holds once started leaves the collector's walks (`freeze_started`), its garbage
    collected first; a harvest run in the process unfreezes at its end, and what the process holds is frozen
    again, so the full collections stay short."""
    monkeypatch.setattr(run_gc, "_started_frozen", False)  # module state of this process's serving, not code
    held = [[i] for i in range(1_000)]  # tracked containers a started process holds
    cycle: list[object] = []
    cycle.append(cycle)  # garbage of starting: collected, not frozen
    del cycle
    try:
        freeze_started()
        frozen = gc.get_freeze_count()
        assert frozen >= len(held)
        assert len(gc.get_objects(generation=2)) < frozen
        with fewer_collections():
            pass
        assert gc.get_freeze_count() >= len(held)  # frozen again after the run
    finally:
        gc.unfreeze()
