"""What a group of seeds of one configuration says, and how a table cell or a sentence shows
a number that may not exist yet.

The chapters pass the accuracies of finished runs in % (``readings.accs(results, split)``):
one list per configuration.  A pending or diverged run contributes no accuracy, so an
empty list means "no finished run".
"""
from __future__ import annotations

import math
import numbers
from typing import Iterable, Optional, Sequence, Union

from ..core.stats import mean_sd as mean_std
from ..core.stats import is_finite

CHANCE_LIMIT = 30.0  # % test accuracy below which a ten-class run has not got far from chance (10%)


def seed_sd(accs: Sequence[float]) -> Optional[float]:
    """Sample standard deviation of one configuration's seeds in points; None for fewer
    than two runs (a bar chart then draws no error bar)."""
    return mean_std(accs)[1] if len(accs) > 1 else None


def near_chance(groups: Iterable[Sequence[float]], limit: float = CHANCE_LIMIT) -> bool:
    """True when some run has finished and none of any group reaches ``limit``% (10% is
    chance on ten classes): the runs are too short to separate the configurations."""
    accs = [a for g in groups for a in g]
    return bool(accs) and max(accs) < limit




def value_or_status(value: float, pending: bool, digits: int = 2) -> Union[float, str]:
    """A table cell: ``value`` rounded to ``digits``, else "pending" while its runs wait for
    a GPU, else "no finished run"."""
    if is_finite(value):
        return round(value, digits)
    return "pending" if pending else "no finished run"


def text_or_pending(value: float, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals for a sentence, "pending" when it is not a finite
    number (its runs have not finished)."""
    return f"{value:.{digits}f}" if is_finite(value) else "pending"

