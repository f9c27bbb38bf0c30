"""The rules behind the activation chapter's verdicts on report 001, and the numbers they
read: ranks of the activations by mean accuracy (for the table), per-seed setbacks of a
test curve, and accuracies that count a run stuck at chance as chance.

The rules take ``{label: [value per seed]}`` mappings and return a
:class:`~cnnreport.analysis.verdicts.Verdict` from 95% intervals over seeds; ranks take
``{label: number}`` and leave NaN values out.
"""
from __future__ import annotations

import math
from typing import Dict, List, Mapping, Optional, Sequence

from ..core import stats as S
from . import verdicts as V
from .schedules import setbacks
from . import readings as R

# "Sigmoid's gradients vanish" is read as simp_Res9 with sigmoid ending more than this many
# points of test accuracy below the same net with ReLU: a net whose gradients vanish learns
# little, where a small gap is only a slightly worse activation.
VANISHING_MARGIN = 5.0
STUCK = "stuck at chance"  # how the trainer's divergence rule names a run that learns nothing


def ranks(values: Mapping[str, float]) -> Dict[str, int]:
    """1-based rank of every label with a finite value, highest value first (equal values
    keep their order); labels with NaN get no rank."""
    ok = {k: v for k, v in values.items() if v is not None and math.isfinite(v)}
    return {k: i + 1 for i, k in enumerate(sorted(ok, key=ok.get, reverse=True))}


def seed_setbacks(results: Sequence, curve: str = "test_acc_curve") -> List[float]:
    """Per finished run, the sum of the epoch-to-epoch drops of its ``curve`` in points
    (:func:`~cnnreport.analysis.schedules.setbacks`): 0 for a curve that only rises."""
    out = [setbacks(r.history[curve]) for r in results if r.done]
    return [v for v in out if math.isfinite(v)]


def accs_stuck_as_chance(results: Sequence, split: str = "001", num_classes: int = 10) -> List[float]:
    """Accuracies in % of the finished runs, and chance (100 / K) for each run the trainer
    stopped as stuck at chance: such a run learned nothing, which is what a claim about
    vanishing gradients predicts, so it counts rather than drops out.  A run that diverged
    to a non-finite loss still drops out."""
    stuck = [r for r in results if r.status == "diverged" and STUCK in (r.reason or "")]
    return R.accs(results, split) + [100.0 / num_classes] * len(stuck)


def best_activation(best: str, accs: Mapping[str, Sequence[float]], noise: Optional[S.Noise] = None) -> V.Verdict:
    """``best`` has the highest accuracy of ``accs``: it against each other activation."""
    return V.best_of(best, accs, noise)


def two_best(pair: Sequence[str], accs: Mapping[str, Sequence[float]],
             noise: Optional[S.Noise] = None) -> V.Verdict:
    """The two activations of ``pair`` are the two best of ``accs``: each beats every
    activation outside the pair (they are not compared with each other)."""
    others = {k: v for k, v in accs.items() if k not in pair}
    return V.all_of({p: V.best_of(p, {p: accs[p], **others}, noise) for p in pair})


def less_stable(unstable: Sequence[str], stable: Sequence[str], setbacks_: Mapping[str, Sequence[float]],
                noise: Optional[S.Noise] = None) -> V.Verdict:
    """Every activation of ``unstable`` has more setbacks (``setbacks_``: label -> per-seed
    setback points) than every one of ``stable``: each such pair on its interval.  A label
    without a value (no finished run of two or more epochs) leaves it inconclusive: a
    missing curve says nothing about stability."""
    missing = [k for k in (*unstable, *stable) if not S.finite(setbacks_[k])]
    if missing:
        return V.Verdict(S.INCONCLUSIVE, f"no setbacks measured: {', '.join(missing)}",
                         "setbacks need a finished run of two or more epochs",
                         sum(len(S.finite(setbacks_[k])) for k in (*unstable, *stable)))
    return V.all_of({f"{u} > {s}": V.comparison((u, setbacks_[u]), (s, setbacks_[s]), noise)
                     for u in unstable for s in stable})


def fits_least(label: str, train: Mapping[str, Sequence[float]], noise: Optional[S.Noise] = None) -> V.Verdict:
    """``label`` has the lowest training accuracy of ``train``: every other activation
    above it on the interval of the difference."""
    return V.all_of({f"{k} > {label}": V.comparison((k, v), (label, train[label]), noise)
                     for k, v in train.items() if k != label})


def gradients_vanish(relu: Sequence[float], sigmoid: Sequence[float], noise: Optional[S.Noise] = None,
                     margin: float = VANISHING_MARGIN) -> V.Verdict:
    """Report 001's reason for leaving sigmoid out, tested in simp_Res9: sigmoid's test
    accuracy more than ``margin`` points below ReLU's (pass runs stuck at chance as chance,
    :func:`accs_stuck_as_chance`)."""
    return V.comparison(("ReLU", relu), ("Sigmoid", sigmoid), noise, margin)
