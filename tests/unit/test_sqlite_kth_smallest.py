"""The sort key a page's last row must not pass is found as np.partition finds it, whatever the values hold."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.backends.sqlite_search import _BLOCK, kth_smallest


@pytest.mark.parametrize("seed", range(6))
def test_the_kth_smallest_is_what_a_partition_of_every_value_gives(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for size in (1, 11, 11 * _BLOCK - 1, 11 * _BLOCK, 50_000, 200_003):
        cases = {
            "dates": -rng.integers(1_600_000_000, 1_750_000_000, size),
            "many ties": -rng.integers(0, 30, size),
            "ascending": np.arange(size, dtype=np.int64),
            "descending": np.arange(size, 0, -1, dtype=np.int64),
            "scores": -rng.random(size) * 20,
            "scores with nan": np.where(rng.random(size) < 0.3, np.nan, rng.random(size)),
            "all nan but a few": np.where(np.arange(size) % 5000 == 7, 1.0, np.nan),
        }
        for name, values in cases.items():
            for k in {1, 2, 11, 32, 1001}:
                if k <= size:
                    expected = np.partition(values, k - 1)[k - 1]
                    found = kth_smallest(values, k)
                    assert found == expected or (np.isnan(found) and np.isnan(expected)), (name, size, k)
