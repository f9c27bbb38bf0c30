"""The comparisons behind the activation chapter's verdicts on report 001: ranks of the
activations by accuracy, and whether one group of them climbs less steadily than another.

Every function takes plain ``{label: number}`` mappings; NaN values are left out of a
ranking and make a comparison of groups False.
"""
from __future__ import annotations

import math
from typing import Dict, Mapping, Sequence


def ranks(values: Mapping[str, float]) -> Dict[str, int]:
    """1-based rank of every label with a finite value, highest value first (equal values
    keep their order); labels with NaN get no rank."""
    ok = {k: v for k, v in values.items() if v is not None and math.isfinite(v)}
    return {k: i + 1 for i, k in enumerate(sorted(ok, key=ok.get, reverse=True))}


def group_mean_above(values: Mapping[str, float], group: Sequence[str], others: Sequence[str]) -> bool:
    """Whether the mean of ``values`` over ``group`` is above its mean over ``others``
    (e.g. setbacks: ReLU and RReLU climb less steadily than Mish and GELU); False when a
    value is NaN."""
    a = sum(values[k] for k in group) / len(group)
    b = sum(values[k] for k in others) / len(others)
    return bool(a > b)

