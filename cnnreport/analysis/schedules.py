"""Measures of training curves that the schedule, activation and NumPy chapters judge
claims by: how unsteady a curve is, how fast a loss falls, whether it drops after a
learning-rate decay, and how the train/validation gap moves with the weight decay.

Every function takes plain numbers (lists of per-epoch or per-step values) and skips
non-finite ones, so a run without a validation split (all NaN) gives NaN, not an error.
"""
from __future__ import annotations

import math
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

# Training images of each dataset before any validation split.
TRAIN_SIZES = {"cifar10": 50_000, "mnist": 60_000, "fashion_mnist": 60_000}


def _finite(values: Sequence[float]) -> np.ndarray:
    y = np.asarray([np.nan if v is None else v for v in values], dtype=float)
    return y[np.isfinite(y)]


def setbacks(curve: Sequence[float], scale: float = 100.0) -> float:
    """Sum of epoch-to-epoch drops of an accuracy curve, times ``scale`` (points for an
    accuracy in [0, 1]); 0 for a curve that never falls, NaN for one with < 2 values."""
    y = scale * _finite(curve)
    if len(y) < 2:
        return float("nan")
    d = np.diff(y)
    return float(-d[d < 0].sum())


def rebounds(curve: Sequence[float]) -> float:
    """Sum of epoch-to-epoch rises of a loss curve (0 for one that only falls)."""
    y = _finite(curve)
    if len(y) < 2:
        return float("nan")
    d = np.diff(y)
    return float(d[d > 0].sum())


def roughness(step_loss: Sequence[float]) -> float:
    """Std of the per-step loss around its centred moving average (2% of the run wide,
    at least 5 steps, an odd number so that it centres exactly), over that average."""
    y = _finite(step_loss)
    w = max(5, len(y) // 50) | 1
    if len(y) <= w:
        return float("nan")
    avg = np.convolve(y, np.ones(w) / w, mode="valid")
    mid = y[w // 2: w // 2 + len(avg)]
    return float(np.std((mid - avg) / avg))


def steps_per_epoch(n_train: Optional[int], batch_size: int) -> Optional[int]:
    """Optimizer steps per epoch when the last, smaller batch is kept (None if unknown)."""
    if n_train is None:
        return None
    return -(-int(n_train) // int(batch_size))


def nominal_train_size(config: Mapping[str, object]) -> int:
    """Training images a config trains on before it runs: the dataset's training split
    less the validation share, capped by ``train_subset``.  A stratified split rounds per
    class, so a run's own ``n_train`` may differ by a few images."""
    n = round(TRAIN_SIZES[str(config["dataset"])] * (1 - float(config.get("val_fraction", 0.2))))
    sub = config.get("train_subset")
    return min(n, int(sub)) if sub else n


def early_loss(curve: Sequence[float], fraction: float = 0.25) -> float:
    """Mean of the first ``fraction`` of a per-epoch loss curve (at least one epoch):
    the lower it is, the faster the loss fell at the start."""
    y = _finite(curve)
    if not len(y):
        return float("nan")
    k = max(1, int(round(fraction * len(y))))
    return float(y[:k].mean())


def ascending(values: Mapping[str, float], order: Sequence[str]) -> bool:
    """Whether ``values`` rise strictly along ``order`` (False if any is NaN)."""
    v = [values[k] for k in order]
    return all(math.isfinite(a) and math.isfinite(b) and a < b for a, b in zip(v, v[1:]))


def decay_drops(loss: Sequence[float], step_size: int) -> List[Tuple[int, float, float]]:
    """For a per-epoch loss of a StepLR run that decays after every ``step_size`` epochs:
    ``(epoch, drop before, drop after)`` for each decay that has an epoch on both sides.
    ``epoch`` is the last epoch at the old rate (1-based); "drop before" is how much the
    loss fell over that epoch, "drop after" over the first epoch at the new rate."""
    y = [float("nan") if v is None else float(v) for v in loss]
    out = []
    for e in range(step_size, len(y), step_size):
        if e >= 2 and e < len(y):
            before, after = y[e - 2] - y[e - 1], y[e - 1] - y[e]
            if math.isfinite(before) and math.isfinite(after):
                out.append((e, before, after))
    return out


def drops_steepen(loss: Sequence[float], step_size: int) -> Optional[bool]:
    """Whether the loss falls faster in the epoch after every decay than in the epoch
    before it; None when the run has no decay with an epoch on both sides."""
    d = decay_drops(loss, step_size)
    return all(after > before for _, before, after in d) if d else None


def gap_by_factor(rows: Sequence[Mapping[str, float]], factor: str, group: Sequence[str],
                  gap: str = "gap") -> Dict[float, float]:
    """Mean of ``gap`` per value of ``factor`` over ``rows`` (dicts), counting only groups
    (equal values of the ``group`` keys) that hold every value of ``factor``."""
    values = sorted({r[factor] for r in rows})
    groups: Dict[tuple, Dict[float, float]] = {}
    for r in rows:
        groups.setdefault(tuple(r[g] for g in group), {})[r[factor]] = r[gap]
    full = [g for g in groups.values() if set(g) == set(values)]
    return {v: float(np.mean([g[v] for g in full])) if full else float("nan") for v in values}


def falls_with_factor(rows: Sequence[Mapping[str, float]], factor: str, group: Sequence[str],
                      gap: str = "gap") -> Tuple[Optional[bool], int, int]:
    """Whether ``gap`` falls as ``factor`` grows: ``(mean gap falls at every step,
    groups where it falls at every step, groups compared)``; None when fewer than two
    values of ``factor`` were run."""
    means = gap_by_factor(rows, factor, group, gap)
    if len(means) < 2:
        return None, 0, 0
    keys = sorted(means)
    groups: Dict[tuple, Dict[float, float]] = {}
    for r in rows:
        groups.setdefault(tuple(r[g] for g in group), {})[r[factor]] = r[gap]
    full = [g for g in groups.values() if set(g) == set(keys)]
    falling = sum(all(g[a] > g[b] for a, b in zip(keys, keys[1:])) for g in full)
    holds = all(means[a] > means[b] for a, b in zip(keys, keys[1:]))
    return holds, falling, len(full)


def drop_after(loss: Sequence[float], epoch: int) -> float:
    """How much a per-epoch loss falls over epoch ``epoch + 1`` (the first after a decay
    that follows epoch ``epoch``, 1-based); NaN when the run is shorter."""
    y = [float("nan") if v is None else float(v) for v in loss]
    return y[epoch - 1] - y[epoch] if 1 <= epoch < len(y) else float("nan")


def steep_against_control(loss: Sequence[float], control: Sequence[float], epoch: int,
                          factor: float = 2.0) -> Optional[bool]:
    """Whether a decayed run's loss falls at least ``factor`` times as much over the first
    epoch after the decay at ``epoch`` as an undecayed run's (same start) over the same
    epoch; None when either run is too short."""
    d, c = drop_after(loss, epoch), drop_after(control, epoch)
    if not (math.isfinite(d) and math.isfinite(c)):
        return None
    return d > factor * max(c, 0.0) and d > 0
