"""The rules of the kernel-size chapter: report 001's claims about its four first blocks of
simp_Res9, each a pure function of per-seed measurements returning a
:class:`~cnnreport.analysis.verdicts.Verdict`.

``accs`` maps a first block ("[3x3]", "[7x7]", ...) to its test accuracies in %, one per
seed; ``early`` to its early training accuracy (:func:`early_train_acc`); ``gaps`` to its
train-minus-test gap in points (:func:`train_test_gaps`).
"""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from ..core import stats as S
from . import readings as R
from . import verdicts as V
from .archs import compare_measure, early_mean


def early_epochs(epochs: int) -> int:
    """The early window of a run of ``epochs`` epochs: its first fifth (at least one epoch),
    10 of report 001's 50."""
    return max(1, int(epochs) // 5)


def early_train_acc(results: Sequence[Any], epochs: int) -> list:
    """Each finished run's mean training accuracy in % over its first ``epochs`` epochs: how
    fast it converges."""
    out = []
    for r in results:
        if getattr(r, "status", None) == "ok":
            v = early_mean([100 * a for a in (r.history.get("train_acc") or [])], epochs)
            if v == v:
                out.append(v)
    return out


def train_test_gaps(results: Sequence[Any]) -> list:
    """Each finished run's final training accuracy minus its test accuracy after the last
    epoch, in points: how far it overfits."""
    out = []
    for r in results:
        if getattr(r, "status", None) != "ok" or not r.history.get("train_acc"):
            continue
        test = R.last_epoch_test(r)
        if test is not None:
            out.append(100 * (r.history["train_acc"][-1] - test))
    return out


def best_and_worst(accs: Mapping[str, Sequence[float]], best: str, worst: str,
                   noise: Optional[S.Noise] = None) -> V.Verdict:
    """"``best`` is best and ``worst`` is worst": ``best`` beats every other block and every
    block beats ``worst`` (95% interval of each difference over seeds)."""
    parts = {f"{best} > {k}": V.comparison((best, accs[best]), (k, v), noise) for k, v in accs.items() if k != best}
    parts.update({f"{k} > {worst}": V.comparison((k, v), (worst, accs[worst]), noise)
                  for k, v in accs.items() if k not in (best, worst)})
    return V.all_of(parts)


def overfits_more(gaps: Mapping[str, Sequence[float]], block: str, reference: str) -> V.Verdict:
    """"``block`` overfits": its train-minus-test gap is larger than ``reference``'s."""
    return compare_measure((block, gaps[block]), (reference, gaps[reference]), unit=" points")


def converges_slower(early: Mapping[str, Sequence[float]], slow: str, reference: str) -> V.Verdict:
    """"``slow`` converges slowly": its early training accuracy is below ``reference``'s."""
    return compare_measure((reference, early[reference]), (slow, early[slow]), unit="%")


def compromise(early: Mapping[str, Sequence[float]], accs: Mapping[str, Sequence[float]], middle: str,
               shallow: str, deep: str, noise: Optional[S.Noise] = None) -> V.Verdict:
    """"``middle`` is a good compromise" between the ``shallow`` and the ``deep`` block: it
    converges faster than ``deep`` (early training accuracy) and its added depth pays on
    test accuracy against ``shallow``.  Both parts must hold."""
    return V.all_of({
        f"{middle} converges faster than {deep}": compare_measure((middle, early[middle]), (deep, early[deep]),
                                                                  unit="%"),
        f"{middle} tests above {shallow}": V.comparison((middle, accs[middle]), (shallow, accs[shallow]), noise),
    })
