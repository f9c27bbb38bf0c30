"""How slowly a loss converges: report 002 says its SGD runs with MSE "converge very
slowly" against cross-entropy.  We measure it as the epochs until the validation accuracy
first reaches a fraction (90%) of what the same net reaches with cross-entropy and SGD at
its last epoch, averaged over seeds (:func:`cnnreport.analysis.curves.mean_epochs_to_reach`).
"""
from __future__ import annotations

import math
from typing import Any, Dict, Iterable, Optional, Sequence

from .curves import mean_epochs_to_reach, mean_last


def convergence_speed(ce_results: Sequence, mse_results: Sequence, epochs: int,
                      fraction: float = 0.9) -> Dict[str, Any]:
    """Epochs to reach ``fraction`` of the cross-entropy runs' final validation accuracy:
    ``level`` (in [0, 1]), ``ce`` and ``mse`` (mean epochs over finished seeds; a seed that
    never reaches it counts ``epochs + 1``), ``never`` (no MSE seed reached it) and the
    ``epochs`` the runs trained."""
    level = fraction * mean_last(ce_results)
    (ce_e, _), (mse_e, mse_never) = mean_epochs_to_reach(ce_results, level), mean_epochs_to_reach(mse_results, level)
    return dict(level=level, ce=ce_e, mse=mse_e, never=mse_never, epochs=epochs)


def speed_words(v: Dict[str, Any]) -> str:
    """One net's :func:`convergence_speed` in words."""
    mse = (f"not reached in {v['epochs']} epoch{'s' if v['epochs'] != 1 else ''}" if v["never"]
           else f"{v['mse']:.1f} epochs")
    return f"cross-entropy {v['ce']:.1f} epochs, MSE {mse}"


def slow_holds(v: Dict[str, Any]) -> Optional[bool]:
    """MSE needs at least twice the epochs of cross-entropy; None when a never-reached
    lower bound below that leaves it open."""
    if v["mse"] >= 2 * v["ce"]:
        return True
    return None if v["never"] else False


def slowly_converges(speeds: Iterable[Dict[str, Any]]) -> Optional[bool]:
    """The verdict over nets: False when MSE is not slow for some net, None when a net
    leaves it open or lacks finished runs, else True."""
    speeds = list(speeds)
    if not all(math.isfinite(v["ce"]) and math.isfinite(v["mse"]) for v in speeds):
        return None
    slow = [slow_holds(v) for v in speeds]
    return False if False in slow else (None if None in slow else True)


def mse_adam_sgd_holds(adam_gain: Dict[str, float], sgd_loss: Dict[str, float]) -> Optional[bool]:
    """Report 002's "MSE can beat cross-entropy with Adam but fails with SGD": MSE ahead of
    cross-entropy with Adam for some net (``adam_gain`` = MSE - CE) and behind by at least
    5 points with SGD for every net (``sgd_loss`` = CE - MSE); None when a value is missing."""
    if not all(math.isfinite(v) for v in [*adam_gain.values(), *sgd_loss.values()]):
        return None
    return any(g > 0 for g in adam_gain.values()) and all(d >= 5 for d in sgd_loss.values())
