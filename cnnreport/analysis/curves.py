"""Measures of a training curve that audit verdicts rest on: how far training and
validation accuracy have drifted apart, how soon a curve reaches a level, and how much it
still jitters late in training.

Plain sequences of per-epoch values in, floats out (NaN or None where a curve is too
short), so the functions work on ``Result.history`` lists and are tested without torch.
"""
from __future__ import annotations

import math
from typing import Mapping, Optional, Sequence

import numpy as np
from . import readings as R
from ..core.stats import finite, finite_mean


def _finite(values: Sequence[float]) -> np.ndarray:
    return np.asarray(finite(values), dtype=float)


def train_val_gap(history: Mapping[str, Sequence[float]]) -> float:
    """Training minus validation accuracy in points at the last epoch that has both
    (report 002's "训练集与验证集准确率差"); NaN without a validation curve."""
    tr, va = list(history.get("train_acc") or []), list(history.get("val_acc") or [])
    for i in range(min(len(tr), len(va)) - 1, -1, -1):
        if tr[i] is not None and va[i] is not None and math.isfinite(tr[i]) and math.isfinite(va[i]):
            return 100.0 * (float(tr[i]) - float(va[i]))
    return float("nan")


def epochs_to_reach(curve: Sequence[float], level: float) -> Optional[int]:
    """The first epoch (1-based) whose value is at least ``level``; None if none is."""
    for i, v in enumerate(curve):
        if v is not None and math.isfinite(float(v)) and float(v) >= level:
            return i + 1
    return None


def late_roughness(curve: Sequence[float], fraction: float = 0.5) -> float:
    """Epoch-to-epoch jitter of a curve over its last ``fraction`` of epochs: the standard
    deviation of its successive differences.

    A curve that falls or rises steadily has equal differences and scores 0, so a trend
    is not counted as oscillation; one that goes up and down scores its typical swing.
    NaN when the window has fewer than three finite values (two differences)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    a = _finite(curve)
    window = a[len(a) - max(3, int(math.ceil(fraction * len(a)))):] if len(a) >= 3 else a
    if len(window) < 3:
        return float("nan")
    return float(np.std(np.diff(window), ddof=1))


mean_finite = finite_mean  # the one home of a finite mean is cnnreport.core.stats


def epochs_at_chance(history: Mapping[str, Sequence[float]], num_classes: int = 10) -> int:
    """How many epochs a run spent at chance before it first left it, by the trainer's own
    rule (training loss at least 0.98 ln K and training accuracy at most 1.5 / K); all its
    epochs when it never left."""
    loss, acc = list(history.get("train_loss") or []), list(history.get("train_acc") or [])
    n = 0
    for lo, ac in zip(loss, acc):
        stuck = (lo is None or not math.isfinite(lo) or lo >= 0.98 * math.log(num_classes)) \
            and (ac is None or not math.isfinite(ac) or ac <= 1.5 / num_classes)
        if not stuck:
            break
        n += 1
    return n


# -- over the seeds of one configuration: ``results`` are Result objects; only finished
# runs (``Result.done``) count.

def mean_last(results, key: str = "val_acc") -> float:
    """Mean over finished runs of the last value of history curve ``key``; NaN if none."""
    return mean_finite([r.history[key][-1] for r in R.done(results)])


def mean_epochs_to_reach(results, level: float, key: str = "val_acc") -> tuple[float, bool]:
    """Mean over finished runs of the first epoch whose ``key`` value reaches ``level``, and
    whether no run ever reached it.  A run that never reaches it counts one epoch more than
    it trained (a lower bound); (NaN, False) without a finished run."""
    rs = R.done(results)
    hit = [epochs_to_reach(r.history[key], level) for r in rs]
    never = bool(rs) and all(h is None for h in hit)
    return mean_finite([h if h is not None else len(r.history[key]) + 1 for h, r in zip(hit, rs)]), never


def mean_late_roughness(results, key: str) -> float:
    """Mean over finished runs of :func:`late_roughness` of history curve ``key``."""
    return mean_finite([late_roughness(r.history.get(key) or []) for r in R.done(results)])


def rise_above_min(curve: Sequence[float]) -> float:
    """How far a loss curve ends above its lowest value, in % of that value: 0 for a curve
    that ends at its minimum, 25 for one that ends a quarter above it.  NaN with fewer than
    two finite values or a lowest value that is not positive."""
    a = _finite(curve)
    if len(a) < 2 or a.min() <= 0:
        return float("nan")
    return float(100.0 * (a[-1] - a.min()) / a.min())


def per_seed(results, measure) -> list:
    """``measure(result)`` of every finished run (``Result.done``), non-finite values
    left out: the values over seeds that an interval is built from."""
    out = []
    for r in R.done(results):
        v = measure(r)
        if v is not None and math.isfinite(float(v)):
            out.append(float(v))
    return out
