"""Run-to-run noise: how far apart runs of one recipe land, and what a claimed difference
between two single runs has to beat.

Report 001 quotes one simp_Res9 recipe ("other hyperparameters unchanged") four times, in
four tables, as four different test accuracies.  Those four numbers are the report's own
run-to-run noise; our seeds of the same config give ours.
"""
from __future__ import annotations

import math
from typing import Dict, Sequence
from ..core.stats import finite, mean_sd

# Report 001's base simp_Res9 recipe as quoted in its four tables (test accuracy, %).
REPORT001_BASE_QUOTES = (87.80, 90.58, 88.72, 88.14)


def spread(values: Sequence[float]) -> Dict[str, float]:
    """min, max, range (max - min), mean and sample std of finite values (NaN if none)."""
    v = finite(values)
    if not v:
        nan = float("nan")
        return {"n": 0, "min": nan, "max": nan, "range": nan, "mean": nan, "std": nan}
    m, s = mean_sd(v)
    return {"n": len(v), "min": min(v), "max": max(v), "range": max(v) - min(v), "mean": m, "std": s}


def noise_tolerance(*groups: Sequence[float]) -> float:
    """The difference two single runs must exceed to say more than noise: the largest
    range seen among repeated runs of one recipe (our seeds, the report's own repeats)."""
    ranges = [spread(g)["range"] for g in groups if spread(g)["n"] > 1]
    return max(ranges) if ranges else float("nan")


def beyond_noise(a: float, b: float, tolerance: float) -> bool:
    """True when ``a - b`` is larger than ``tolerance`` (NaN tolerance: never)."""
    return math.isfinite(tolerance) and (a - b) > tolerance


def half_range(values: Sequence[float]) -> float:
    """Half the range of a report's repeated numbers of one recipe: the tolerance of that
    report's number claims (a quoted number is as uncertain as its own repeats disagree).
    NaN with fewer than two finite values."""
    s = spread(values)
    return s["range"] / 2 if s["n"] > 1 else float("nan")


# The tolerance of report 001's number claims: half the 2.78-point range of its four quotes
# of the base recipe, 1.39 points (rounded to the quotes' two decimals).
REPORT001_TOLERANCE = round(half_range(REPORT001_BASE_QUOTES), 2)
