"""Numbers over the seeds of labelled runs, as the schedule, activation, BatchNorm and
NumPy chapters read them, and the labels that come first or last by such a number.

``runs`` is ``{label: [Result per seed]}`` (what :meth:`cnnreport.pages.chapter.Chapter.experiments`
returns).  Only finished runs (status ``ok``) count; a label without one gets NaN, and NaN
never wins a ranking.
"""
from __future__ import annotations

import math
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..core.stats import mean_sd as mean_std
from ..core.store import Result
from . import schedules as S
from . import readings as R
from ..core.stats import is_finite

Runs = Mapping[str, Sequence[Result]]




def label_means(runs: Runs, measure: Callable[[Result], float]) -> Dict[str, float]:
    """Mean over the finished seeds of ``measure(result)``, per label (NaN where no seed
    finished or every value is NaN)."""
    return {k: mean_std([measure(r) for r in R.done(v)])[0] for k, v in runs.items()}


def mean_setbacks(runs: Runs, curve: str = "test_acc_curve") -> Dict[str, float]:
    """Per label, the mean over seeds of :func:`~cnnreport.analysis.schedules.setbacks` of
    a per-epoch accuracy curve (in points)."""
    return label_means(runs, lambda r: S.setbacks(r.history[curve]))


def mean_rebounds(runs: Runs, curve: str = "val_loss") -> Dict[str, float]:
    """Per label, the mean over seeds of :func:`~cnnreport.analysis.schedules.rebounds` of
    a per-epoch loss curve."""
    return label_means(runs, lambda r: S.rebounds(r.history[curve]))


def mean_early_loss(runs: Runs, curve: str = "train_loss") -> Dict[str, float]:
    """Per label, the mean over seeds of :func:`~cnnreport.analysis.schedules.early_loss`."""
    return label_means(runs, lambda r: S.early_loss(r.history[curve]))


def mean_roughness(runs: Runs) -> Dict[str, float]:
    """Per label, the mean over seeds of the roughness of the per-step loss
    (:func:`~cnnreport.analysis.schedules.roughness`)."""
    return label_means(runs, lambda r: S.roughness(r.steps["loss"]))


def bar_numbers(runs: Runs, names: Optional[Sequence[str]] = None, split: str = "test"
                ) -> Tuple[List[float], List[Optional[float]]]:
    """Bar heights and error bars for ``names`` (default: every label): the mean accuracy
    in % over the finished seeds (read as ``split``, see
    :func:`~cnnreport.analysis.readings.accs`), and its standard deviation where the label
    has more than one run (None otherwise)."""
    names = list(runs) if names is None else list(names)
    stats = [(mean_std(R.accs(runs[k], split)), len(runs[k])) for k in names]
    return [m for (m, _), _ in stats], [s if n > 1 else None for (_, s), n in stats]


def acc_cell(results: Sequence[Result], split: str = "test", pending: str = "pending"):
    """A table cell for one setting: the mean accuracy in % over its finished runs; the
    text ``pending`` while it has none and some wait for training; else NaN."""
    if R.done(results):
        return R.acc(results, split)
    return pending if any(r.pending for r in results) else float("nan")


def val_at(results: Iterable[Result], epoch: int) -> List[float]:
    """Validation accuracy in % after ``epoch`` (1-based; -1 or 0: the last) of every
    finished run."""
    return [100 * r.history["val_acc"][epoch - 1 if epoch > 0 else -1] for r in R.done(results)]


def epoch_gain(result: Result, epoch: int) -> float:
    """Validation accuracy a run gained over ``epoch`` (1-based, at least 2), in points;
    NaN when the run is shorter."""
    v = result.history.get("val_acc") or []
    return 100 * (v[epoch - 1] - v[epoch - 2]) if len(v) >= epoch >= 2 else float("nan")


def mean_gain(results: Iterable[Result], epoch: int) -> float:
    """Mean over finished runs of :func:`epoch_gain` (NaN when none has the epoch)."""
    return mean_std([epoch_gain(r, epoch) for r in R.done(results)])[0]


def ranked(values: Mapping[str, float], highest_first: bool = True) -> List[str]:
    """The labels ordered by value, highest (or lowest) first; NaN values go last, and
    equal values keep their order."""
    if highest_first:
        return sorted(values, key=lambda k: values[k] if is_finite(values[k]) else -math.inf, reverse=True)
    return sorted(values, key=lambda k: values[k] if is_finite(values[k]) else math.inf)


def highest(values: Mapping[str, float]) -> str:
    """The label with the largest finite value (the first label when none is finite)."""
    return max(values, key=lambda k: values[k] if is_finite(values[k]) else -math.inf)


def lowest(values: Mapping[str, float]) -> str:
    """The label with the smallest finite value (the first label when none is finite)."""
    return min(values, key=lambda k: values[k] if is_finite(values[k]) else math.inf)


def above_all_others(values: Mapping[str, float], label: str) -> bool:
    """Whether ``values[label]`` is larger than every other label's value (False when any
    of them is NaN: a missing number cannot be ranked)."""
    others = [v for k, v in values.items() if k != label]
    if not others or not all(is_finite(v) for v in [values[label], *others]):
        return False
    return bool(values[label] > max(others))
