"""``_regular`` decides on which side of the bound the gaps' spread lies exactly as ``statistics.pstdev`` does."""

from __future__ import annotations

import random
import statistics

import pytest

from stickyforensics.detect.polling import _regular


def _exact(gaps: list[float]) -> bool:
    return statistics.pstdev(gaps) / statistics.fmean(gaps) <= 0.35


@pytest.mark.parametrize(
    "gaps",
    [
        [2.0, 2.0, 2.0, 2.0],
        [1.35, 0.65],  # the spread is the bound itself: decided by the exact computation
        [1.3500000001, 0.6499999999],
        [1.3499999999, 0.6500000001],
        [0.1, 10.0, 0.1, 10.0],
        [30.0] * 50 + [31.0],
    ],
)
def test_bound_cases(gaps: list[float]) -> None:
    assert _regular(gaps, statistics.fmean(gaps)) == _exact(gaps)


def test_random_gaps() -> None:
    rng = random.Random(3)
    for _ in range(3000):
        base = rng.choice([0.5, 2.0, 30.0, 1e5])
        sigma = rng.choice([0.01, 0.2, 0.34, 0.35, 0.36, 0.5])
        gaps = [g for g in (base * (1 + rng.gauss(0, sigma)) for _ in range(rng.randrange(4, 120))) if g > 0]
        if gaps:
            assert _regular(gaps, statistics.fmean(gaps)) == _exact(gaps)
