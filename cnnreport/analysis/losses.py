"""The verdict rules of the losses chapter: report 001's ranking of three losses on
simp_Res9, and report 002's MSE against cross-entropy on its two Fashion-MNIST nets.

Every rule takes measurements over seeds (lists of accuracies in %, or of epochs) and
returns a :class:`~cnnreport.analysis.verdicts.Verdict` composed from the generic rules of
:mod:`cnnreport.analysis.verdicts`, so each rests on 95% intervals over seeds.

How slowly a loss converges (report 002 says its SGD runs with MSE "converge very slowly"
against cross-entropy) is measured per seed as the epochs until the validation accuracy
first reaches a fraction (90%) of what the same net reaches with cross-entropy and SGD at
its last epoch (the mean over the cross-entropy seeds).
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..core import stats as S
from . import verdicts as V
from .curves import epochs_to_reach, mean_epochs_to_reach, mean_last

# Report 001's ranking by test accuracy, best first: CE 88.72 > BCE 85.64 > SmoothL1 75.66.
CLAIMED_ORDER001 = ("cross-entropy", "BCEWithLogits", "SmoothL1")
# Report 002's MSE with SGD trails cross-entropy by 12 to 14 points; "fails" is read as
# behind by more than this many points (a clear failure, not a seed's wobble).
SGD_FAIL_MARGIN = 5.0
# "Converges very slowly": MSE needs more than this many times the epochs of cross-entropy.
SLOW_FACTOR = 2.0
SHIRT_BOUND = 80.0  # % per-class accuracy the shirt class stays below (report 002)


def ranking001(accs: Mapping[str, Sequence[float]], noise: Optional[S.Noise] = None) -> V.Verdict:
    """Report 001's "cross-entropy > BCEWithLogits > SmoothL1" (``accs``: label -> test
    accuracies over seeds): each adjacent pair must hold on its interval."""
    return V.ordering([(k, accs[k]) for k in CLAIMED_ORDER001], noise)


def mse_adam_sgd(adam: Mapping[str, Tuple[Sequence[float], Sequence[float]]],
                 sgd: Mapping[str, Tuple[Sequence[float], Sequence[float]]],
                 noise: Optional[S.Noise] = None, margin: float = SGD_FAIL_MARGIN) -> V.Verdict:
    """Report 002's "MSE can beat cross-entropy with Adam but fails with SGD", claimed for
    both of its nets: ``adam`` and ``sgd`` map a net to its (CE, MSE) test accuracies over
    seeds.  Every net must have MSE ahead of CE with Adam and CE ahead of MSE by more than
    ``margin`` points with SGD."""
    parts: Dict[str, V.Verdict] = {}
    for net, (ce, mse) in adam.items():
        parts[f"{net}, Adam, MSE > CE"] = V.comparison(("MSE", mse), ("CE", ce), noise)
    for net, (ce, mse) in sgd.items():
        parts[f"{net}, SGD, CE > MSE + {margin:g}"] = V.comparison(("CE", ce), ("MSE", mse), noise, margin)
    return V.all_of(parts)


def epochs_to_level(results: Sequence, level: float, key: str = "val_acc") -> Tuple[List[float], List[bool]]:
    """Per finished run, the first epoch whose ``key`` reaches ``level``, and whether it never
    did (it then counts one epoch more than it trained: a lower bound)."""
    epochs, never = [], []
    for r in results:
        if not r.done:
            continue
        hit = epochs_to_reach(r.history[key], level)
        epochs.append(float(hit if hit is not None else len(r.history[key]) + 1))
        never.append(hit is None)
    return epochs, never


def convergence_speed(ce_results: Sequence, mse_results: Sequence, epochs: int,
                      fraction: float = 0.9) -> Dict[str, Any]:
    """Epochs to reach ``fraction`` of the cross-entropy runs' final validation accuracy:
    ``level`` (in [0, 1]); ``ce`` and ``mse`` (mean epochs over finished seeds); ``never``
    (no MSE seed reached it); ``ce_epochs``, ``mse_epochs`` (per seed) with ``ce_never``,
    ``mse_never`` (per seed: a lower bound); and the ``epochs`` the runs trained."""
    level = fraction * mean_last(ce_results)
    (ce_e, _), (mse_e, mse_never) = mean_epochs_to_reach(ce_results, level), mean_epochs_to_reach(mse_results, level)
    ce_each, ce_never_each = epochs_to_level(ce_results, level)
    mse_each, mse_never_each = epochs_to_level(mse_results, level)
    return dict(level=level, ce=ce_e, mse=mse_e, never=mse_never, epochs=epochs, ce_epochs=ce_each,
                mse_epochs=mse_each, ce_never=ce_never_each, mse_never=mse_never_each)


def speed_words(v: Dict[str, Any]) -> str:
    """One net's :func:`convergence_speed` in words."""
    mse = (f"not reached in {v['epochs']} epoch{'s' if v['epochs'] != 1 else ''}" if v["never"]
           else f"{v['mse']:.1f} epochs")
    return f"cross-entropy {v['ce']:.1f} epochs, MSE {mse}"


def _epochs_text(label: str, values: Sequence[float], never: Sequence[bool]) -> str:
    iv = S.interval(values)
    cut = sum(bool(x) for x in never)
    bound = f", {cut} never reached it: a lower bound" if cut else ""
    if not iv.known:
        return f"{label} {iv.mean:.1f} epochs (n={iv.n}, no interval yet{bound})"
    return f"{label} {iv.mean:.1f} ± {iv.half:.1f} epochs (95%, n={iv.n}{bound})"


def _slower(v: Mapping[str, Any], factor: float) -> V.Verdict:
    """One net: MSE needs more than ``factor`` times the epochs of cross-entropy."""
    scaled = [factor * e for e in v["ce_epochs"]]
    found = V.comparison(("MSE", v["mse_epochs"]), (f"{factor:g} × CE", scaled), unit=" epochs", digits=1)
    if not S.finite(v["mse_epochs"]) or not S.finite(v["ce_epochs"]):
        return found
    outcome, reason = found.outcome, found.reason
    # A seed that never reached the level counts a lower bound: MSE's may only be too small
    # (it cannot contradict "slower"), cross-entropy's too small (it cannot confirm it).
    bound = "seed never reached the level, so its count is only a lower bound"
    if outcome == S.CONTRADICTED and any(v["mse_never"]):
        outcome, reason = S.INCONCLUSIVE, f"{reason}; but an MSE {bound}"
    elif outcome == S.HOLDS and any(v["ce_never"]):
        outcome, reason = S.INCONCLUSIVE, f"{reason}; but a cross-entropy {bound}"
    d = S.difference(S.interval(v["mse_epochs"]), S.interval(scaled))
    diff = f"{d.mean:+.1f} ± {d.half:.1f} epochs" if d.known else f"{d.mean:+.1f} epochs (no interval yet)"
    measured = (f"{_epochs_text('MSE', v['mse_epochs'], v['mse_never'])}; "
                f"{_epochs_text('CE', v['ce_epochs'], v['ce_never'])}; MSE − {factor:g} × CE {diff}")
    return V.Verdict(outcome, measured, reason, found.n)


def slow_convergence(speeds: Mapping[str, Mapping[str, Any]], factor: float = SLOW_FACTOR) -> V.Verdict:
    """Report 002's "MSE with SGD converges very slowly", for every net of ``speeds`` (net ->
    :func:`convergence_speed`): per seed, MSE's epochs to the level must exceed ``factor``
    times cross-entropy's, on the interval of the difference.  Epoch counts have no pooled
    noise, so one seed waits."""
    return V.all_of({net: _slower(v, factor) for net, v in speeds.items()})


def class_accs(results: Sequence, name: str) -> List[float]:
    """Per finished run, the test accuracy in % of the class called ``name``."""
    out = []
    for r in results:
        if r.done and name in r.classes:
            out.append(100.0 * r.per_class_acc[r.classes.index(name)])
    return out


def shirt_below(shirt: Mapping[str, Sequence[float]], bound: float = SHIRT_BOUND) -> V.Verdict:
    """Report 002's "the shirt class stays below 80%" for every configuration of ``shirt``
    (label -> the shirt class's accuracies over seeds): each interval must lie below
    ``bound``.  A per-class accuracy has no pooled noise, so one seed waits."""
    return V.all_of({k: V.threshold(v, bound, below=True) for k, v in shirt.items()})
