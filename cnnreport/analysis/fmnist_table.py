"""Report 002's table of 33 Fashion-MNIST runs, ours beside it, and the audit rows that
compare runs of it.

:func:`summary` reads a run's seeds the way the report's table reads a run (test accuracy
and loss after the last epoch, the train-minus-validation gap at the last epoch);
:func:`report_table` lays ours beside the report's numbers; :class:`TableRuns` answers
the questions the audit asks of the runs a profile made (a run the profile does not make
is "not run at this profile", never an error).
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Sequence

import numpy as np

from .curves import mean_finite, train_val_gap
from .noise import noise_tolerance

NOT_RUN = "not run at this profile"
AT_CHANCE = "at chance: still on the initial plateau or stuck"


def final_test_loss(r) -> Optional[float]:
    """The test loss read the way the accuracy is read: after the last epoch (the selected
    epoch's when the run recorded no final one)."""
    return r.final_test_loss if r.final_test_loss is not None else r.test_loss


def summary(results: Sequence) -> Dict[str, Any]:
    """Mean over seeds of what report 002 recorded, plus our status: ``acc`` (%), ``acc_sd``,
    ``test_loss``, ``gap`` (points), ``status`` (ok, diverged or pending), ``note`` (why a
    run diverged, or that it ends at chance: last validation accuracy at most 15%) and
    ``epoch_s`` (seconds per epoch)."""
    from ..chapter import Chapter
    ok, div = Chapter.done(results), [r for r in results if r.diverged]
    accs = Chapter.accs(results, "002")
    if not ok and not div:
        return {"acc": np.nan, "acc_sd": np.nan, "test_loss": np.nan, "gap": np.nan,
                "status": "pending", "note": "", "epoch_s": np.nan}
    last_val = mean_finite([r.history["val_acc"][-1] for r in ok if r.history.get("val_acc")])
    note = div[0].reason if div else (AT_CHANCE if np.isfinite(last_val) and last_val <= 0.15 else "")
    return {"acc": float(np.mean(accs)) if accs else np.nan,
            "acc_sd": float(np.std(accs, ddof=1)) if len(accs) > 1 else np.nan,
            "test_loss": mean_finite([final_test_loss(r) for r in ok]),
            "gap": mean_finite([train_val_gap(r.history) for r in results]),
            "status": "diverged" if div else "ok", "note": note,
            "epoch_s": mean_finite([np.mean(r.history["epoch_time"]) for r in results if r.history.get("epoch_time")])}


def run_number(label: str) -> int:
    """The report's number of a label "run N" (-1 for any other label)."""
    return int(label.split()[-1]) if label.startswith("run ") and label.split()[-1].isdigit() else -1


def report_table(report_runs: Mapping[str, Mapping[str, Any]], runs: Mapping[str, Sequence],
                 grid_runs: Mapping[str, Mapping[str, Any]], report: Mapping[int, Sequence[float]],
                 factors: Sequence[str]):
    """One row per run of the report (``report_runs``: label -> its settings) and per other
    run made here (settings from ``grid_runs``): the ``factors`` settings, our
    :func:`summary` where the run was made, and the report's ``claimed_acc``,
    ``claimed_loss`` and ``claimed_gap`` (``report``: run number -> the three)."""
    import pandas as pd
    rows = {}
    for lab in list(report_runs) + [k for k in runs if k not in report_runs]:
        p = report_runs.get(lab, grid_runs.get(lab))
        ref = report.get(run_number(lab))
        ours = summary(runs[lab]) if lab in runs else {}
        rows[lab] = {**{f: p[f] for f in factors}, **ours,
                     "claimed_acc": ref[0] if ref else np.nan, "claimed_loss": ref[1] if ref else np.nan,
                     "claimed_gap": ref[2] if ref else np.nan}
    return pd.DataFrame.from_dict(rows, orient="index")


class TableRuns:
    """The runs of the report's table a profile made (``runs``: label -> [Result per seed])
    and their rows of :func:`report_table` (``ran``)."""

    def __init__(self, runs: Mapping[str, Sequence], ran):
        self.runs, self.ran = runs, ran

    def results(self, *labs: str) -> list:
        """The results of these runs (those this profile makes)."""
        return [r for lab in labs for r in self.runs.get(lab, [])]

    def accs(self, lab: str) -> list:
        """Test accuracies in % of a run's finished seeds ([] when not made)."""
        from ..chapter import Chapter
        return Chapter.accs(self.runs[lab], "002") if lab in self.runs else []

    def acc(self, lab: str) -> float:
        """Mean test accuracy in % over a run's finished seeds; NaN if none."""
        v = self.accs(lab)
        return float(np.mean(v)) if v else np.nan

    def have(self, *labs: str) -> bool:
        """Whether this profile makes every one of these runs."""
        return all(lab in self.runs for lab in labs)

    def finite(self, *labs: str) -> bool:
        """Whether every one of these runs was made and has a finished seed."""
        return self.have(*labs) and all(np.isfinite(self.acc(lab)) for lab in labs)

    def tolerance(self, *labs: str) -> float:
        """The run-to-run noise of these runs: the largest range among one run's seeds."""
        return noise_tolerance(*[self.accs(lab) for lab in labs])

    def value(self, lab: str, col: str):
        """A run's value in column ``col`` of the table; NaN when the run was not made."""
        return self.ran.loc[lab, col] if lab in self.ran.index else np.nan

    def best(self, labs: Sequence[str]) -> str:
        """The run of ``labs`` with the highest mean accuracy."""
        return max(labs, key=self.acc)

    def listing(self, labs: Sequence[str], col: str = "acc", fmt: str = "{:.2f}") -> str:
        """"run 4 90.12, run 5 ..." for the runs made; "not run at this profile" if none."""
        return ", ".join(f"{lab} {fmt.format(self.ran.loc[lab, col])}" for lab in labs if lab in self.ran.index) \
            or NOT_RUN

    def number(self, audit, claim: str, claimed: float, lab: str, tolerance: float = 1.0):
        """A numeric claim about one run; a run this profile does not make is said to be so."""
        if lab in self.runs:
            return audit.number("002", claim, claimed, self.accs(lab), tolerance, needs=self.runs[lab])
        return audit.check("002", claim, None, NOT_RUN, claimed=f"{claimed:g}%")

    def check(self, audit, claim: str, labs: Sequence[str], holds: Any, measured: str,
              reason: str = "", claimed: str = ""):
        """A qualitative claim over runs ``labs``: ``holds`` and ``measured`` count only when
        this profile made all of them and each has a finished seed ("not run at this
        profile" or "no finished run" otherwise)."""
        if not self.have(*labs):
            return audit.check("002", claim, None, NOT_RUN, reason, claimed=claimed)
        ok = self.finite(*labs)
        return audit.check("002", claim, holds if ok else None, measured if ok else "no finished run",
                           reason, claimed=claimed, n_runs=len(self.results(*labs)), needs=self.results(*labs))
