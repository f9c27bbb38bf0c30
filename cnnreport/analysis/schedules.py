"""Measures of training curves that the schedule, activation and NumPy chapters judge
claims by (how unsteady a curve is, how fast a loss falls, whether it drops after a
learning-rate decay, how the train/validation gap moves with the weight decay), and the
verdict rules of the schedules chapter.

The measures take plain numbers (lists of per-epoch or per-step values) and skip
non-finite ones, so a run without a validation split (all NaN) gives NaN, not an error.

The rules take a measure's values over seeds (one per finished run, see :func:`by_seed`)
and return a :class:`~cnnreport.analysis.verdicts.Verdict` built from the generic rules of
:mod:`cnnreport.analysis.verdicts`: every comparison rests on the 95% interval of the
difference of the means, so a mean that is merely higher never decides a row.  A curve
measure (setbacks, rebounds, an early loss, an epoch's gain) has no noise runs of its own:
with one seed its interval is unknown and the rule waits.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ..core import stats as St
from . import verdicts as V
from ..core.stats import finite

# Training images of each dataset before any validation split.
TRAIN_SIZES = {"cifar10": 50_000, "mnist": 60_000, "fashion_mnist": 60_000}


def _finite(values: Sequence[float]) -> np.ndarray:
    return np.asarray(finite(values), dtype=float)


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


# -- values over seeds -------------------------------------------------------------------

# Per-run measures the schedules chapter reads, by name: each takes a finished Result.
MEASURES: Dict[str, Callable[[Any], float]] = {
    "setbacks": lambda r: setbacks(r.history.get("test_acc_curve") or []),   # points
    "rebounds": lambda r: rebounds(r.history.get("val_loss") or []),
    "early_loss": lambda r: early_loss(r.history.get("train_loss") or []),
    "roughness": lambda r: roughness((r.steps or {}).get("loss") or []),
}


def by_seed(runs: Mapping[str, Sequence[Any]], measure: Union[str, Callable[[Any], float]]
            ) -> Dict[str, List[float]]:
    """Per label of ``runs`` (label -> [Result per seed]), the finite values of ``measure``
    (a name of :data:`MEASURES` or a function of a Result) over its finished runs."""
    from .curves import per_seed
    fn = MEASURES[measure] if isinstance(measure, str) else measure
    return {k: per_seed(v, fn) for k, v in runs.items()}


# -- rules on a measure in its own unit --------------------------------------------------

def _values_text(label: str, values: Sequence[float], noise: Optional[St.Noise], unit: str, digits: int) -> str:
    iv = St.interval(values, noise=noise)
    if not math.isfinite(iv.mean):
        return f"{label}: no finished run"
    if not iv.known:
        return f"{label} {iv.mean:.{digits}f}{unit} (n={iv.n}, no interval yet)"
    return (f"{label} {iv.mean:.{digits}f} ± {iv.half:.{digits}f}{unit} "
            f"(95%, n={iv.n}{', pooled noise sd' if iv.pooled else ''})")


def pairs_exceed(pairs: Sequence[Tuple[V.Named, V.Named]], noise: Optional[St.Noise] = None, margin: float = 0.0,
                 unit: str = "", digits: int = 3) -> V.Verdict:
    """The claim that in every ``(higher, lower)`` pair (each a ``(label, values over
    seeds)`` pair) the measure of ``higher`` exceeds that of ``lower`` by more than
    ``margin``, each pair judged on the interval of its difference (by
    :func:`~cnnreport.analysis.verdicts.ordering` of the two): holds when all do, is
    contradicted when one is, else inconclusive; it waits while one waits."""
    groups = {g[0]: g[1] for p in pairs for g in p}
    n = sum(len(St.finite(v)) for v in groups.values())
    missing = [k for k, v in groups.items() if not St.finite(v)]
    if missing:
        return V.Verdict(St.NOT_REPRODUCED, f"no value: {', '.join(missing)}",
                         f"{', '.join(missing)}: no finished run, or runs too short for this measure", n)
    found = [V.ordering([hi, lo], noise, margin, unit, digits) for hi, lo in pairs]
    outcomes = [f.outcome for f in found]
    outcome = St.joint(outcomes)
    measured = "; ".join([_values_text(k, v, noise, unit, digits) for k, v in groups.items()]
                         + [f.measured for f in found])
    past = f"{margin:+g}{unit}" if margin else "zero"
    if outcome == St.WAITING:
        reason = next(f.reason for f in found if f.outcome == St.WAITING)
    elif len(pairs) == 1:
        reason = {St.HOLDS: f"the 95% interval of the difference lies above {past}",
                  St.CONTRADICTED: f"the 95% interval of the difference lies below {past}",
                  St.INCONCLUSIVE: f"the 95% interval of the difference contains {past}: inconclusive "
                                   f"at these seeds"}[outcome]
    else:
        held = sum(o == St.HOLDS for o in outcomes)
        reason = (f"{held} of {len(pairs)} claimed pairs hold (95% interval of each difference above {past}); "
                  f"one contradicted pair contradicts the claim")
    return V.Verdict(outcome, measured, reason, n)


def exceeds(higher: V.Named, lower: V.Named, noise: Optional[St.Noise] = None, margin: float = 0.0,
            unit: str = "", digits: int = 3) -> V.Verdict:
    """The claim that a measure of ``higher`` exceeds that of ``lower`` (by more than
    ``margin``), each a ``(label, values over seeds)`` pair, shown in the measure's own
    ``unit`` (a comparison of accuracies is :func:`~cnnreport.analysis.verdicts.comparison`)."""
    return pairs_exceed([(higher, lower)], noise, margin, unit, digits)


def most_of(best: str, groups: Mapping[str, Sequence[float]], noise: Optional[St.Noise] = None,
            unit: str = "", digits: int = 3) -> V.Verdict:
    """The claim that ``best`` has the largest measure of ``groups``: it against each other."""
    if best not in groups or len(groups) < 2:
        raise ValueError(f"most_of needs {best!r} among at least two groups, got {list(groups)}")
    return pairs_exceed([((best, groups[best]), (k, v)) for k, v in groups.items() if k != best], noise, 0.0, unit,
                  digits)


def least_of(best: str, groups: Mapping[str, Sequence[float]], noise: Optional[St.Noise] = None,
             unit: str = "", digits: int = 3) -> V.Verdict:
    """The claim that ``best`` has the smallest measure of ``groups``: each other above it."""
    if best not in groups or len(groups) < 2:
        raise ValueError(f"least_of needs {best!r} among at least two groups, got {list(groups)}")
    return pairs_exceed([((k, v), (best, groups[best])) for k, v in groups.items() if k != best], noise, 0.0, unit,
                  digits)


# -- the schedules chapter's claims ------------------------------------------------------

# Report 001's three schedules, best first: its test (92.08 > 91.88 > 90.81) and training
# (98.82 > 98.01 > 97.21) accuracies fall in the same order.
BEST_FIRST_001 = ("CosineAnnealingLR", "OneCycleLR", "CyclicLR")
# "Warmup does not raise the final accuracy" (88.19 against 88.18): read as "any gain is
# below this many points", our line between no gain and a real one.
NO_GAIN_MARGIN = 0.5


def order001(accs: Mapping[str, Sequence[float]], noise: Optional[St.Noise] = None) -> V.Verdict:
    """Report 001's "CosineAnnealingLR > OneCycleLR > CyclicLR" (``accs``: schedule ->
    accuracies over seeds, test or training): each adjacent pair must hold."""
    return V.ordering([(k, accs[k]) for k in BEST_FIRST_001], noise)


def falls_fastest(early: Mapping[str, Sequence[float]], claimed: str = "CyclicLR") -> V.Verdict:
    """Report 001's "CyclicLR's loss falls more quickly": ``early`` maps each schedule to its
    mean training loss over the first quarter of the epochs (:func:`early_loss`), per seed;
    the claimed schedule's must be lower than each other's."""
    return least_of(claimed, early, unit="", digits=3)


def most_unstable(setback: Mapping[str, Sequence[float]], claimed: str = "OneCycleLR") -> V.Verdict:
    """Report 001's "OneCycleLR is unstable": ``setback`` maps each schedule to the
    :func:`setbacks` of its per-epoch test accuracy (points), per seed; the claimed
    schedule's must exceed each other's."""
    return most_of(claimed, setback, unit=" points", digits=2)


def warmup_faster(with_warmup: Sequence[float], without: Sequence[float],
                  noise: Optional[St.Noise] = None) -> V.Verdict:
    """Report 003's "warmup speeds up early convergence": validation accuracy after the
    first epoch, with warmup against without (in %, per seed)."""
    return V.comparison(("with warmup", with_warmup), ("without", without), noise)


def warmup_no_gain(with_warmup: Sequence[float], without: Sequence[float], noise: Optional[St.Noise] = None,
                   margin: float = NO_GAIN_MARGIN) -> V.Verdict:
    """Report 003's "warmup does not raise the final accuracy": holds when the whole 95%
    interval of (with − without) lies below ``margin`` points, is contradicted when it lies
    wholly above it (warmup gains more than that), else inconclusive.  A loss of accuracy
    with warmup also satisfies "does not raise"."""
    found = V.comparison(("without", without), ("with warmup", with_warmup), noise, margin=-margin)
    extra = {St.HOLDS: f": warmup gains less than {margin:g} points",
             St.CONTRADICTED: f": warmup gains more than {margin:g} points"}.get(found.outcome, "")
    return V.Verdict(found.outcome, found.measured, found.reason + extra, found.n)


def oscillates_more(with_warmup: Sequence[float], without: Sequence[float]) -> V.Verdict:
    """Report 003's "validation loss oscillates more with warmup": the :func:`rebounds` of
    the validation loss (sum of its epoch-to-epoch rises), per seed, with against without."""
    return exceeds(("with warmup", with_warmup), ("without", without), unit="", digits=3)


def steplr_jump(step: Sequence[float], constant: Sequence[float], label: str = "StepLR (2, 0.1)") -> V.Verdict:
    """Report 004's "accuracy jumps where StepLR lowers the rate": the validation accuracy
    gained over the first epoch at the lower rate (points, per seed), StepLR against the
    constant-rate run over the same epoch."""
    return exceeds((label, step), ("constant", constant), unit=" points", digits=2)
