"""Fixtures of the search engine tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engine_support import Child


@pytest.fixture
def children() -> Iterator[list[Child]]:
    started: list[Child] = []
    yield started
    for child in started:
        child.kill()
