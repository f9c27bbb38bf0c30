"""Report 002's table of 33 Fashion-MNIST runs, ours beside it, and the audit rows that
compare runs of it.

:func:`summary` reads a run's seeds the way the report's table reads a run (test accuracy
and loss after the last epoch, the train-minus-validation gap at the last epoch);
:func:`report_table` lays ours beside the report's numbers; :class:`TableRuns` gathers
what the audit's rules (:mod:`cnnreport.analysis.hyperparams`) are given from the runs a
profile made, the values of each run over its seeds, and adds their rows (a run the
profile does not make is "not run at this profile", never an error).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np

from .curves import late_roughness, mean_finite, per_seed, rise_above_min, train_val_gap
from . import readings as R
from ..training.policy import DIVERGED, OK

NOT_RUN = "not run at this profile"
AT_CHANCE = "at chance: still on the initial plateau or stuck"


def final_test_loss(r) -> Optional[float]:
    """The test loss read the way the accuracy is read: after the last epoch (the selected
    epoch's when the run recorded no final one)."""
    return r.final_test_loss if r.final_test_loss is not None else r.test_loss


def _status(diverged: int, stored: int) -> str:
    """ok, diverged (every stored seed), or how many of the stored seeds diverged."""
    if diverged == 0:
        return OK
    return DIVERGED if diverged == stored else f"{diverged} of {stored} seeds diverged"


def summary(results: Sequence) -> Dict[str, Any]:
    """Mean over seeds of what report 002 recorded, plus our status: ``acc`` (%), ``acc_sd``,
    ``test_loss``, ``gap`` (points), ``status`` (ok, diverged or pending; "k of n seeds
    diverged" when some seeds learned and others did not, so ``acc`` is the learned seeds'),
    ``note`` (why a run diverged, or that it ends at chance: last validation accuracy at
    most 15%), ``epoch_s`` (seconds per epoch) and ``seeds``: "k of n", the seeds trained of
    those planned."""
    ok, div = R.done(results), [r for r in results if r.diverged]
    accs = R.accs(results, "002")
    seeds = f"{sum(1 for r in results if not r.pending)} of {len(results)}"
    if not ok and not div:
        return {"acc": np.nan, "acc_sd": np.nan, "test_loss": np.nan, "gap": np.nan,
                "status": "pending", "note": "", "epoch_s": np.nan, "seeds": seeds}
    last_val = mean_finite([r.history["val_acc"][-1] for r in ok if r.history.get("val_acc")])
    note = div[0].reason if div else (AT_CHANCE if np.isfinite(last_val) and last_val <= 0.15 else "")
    return {"acc": float(np.mean(accs)) if accs else np.nan,
            "acc_sd": float(np.std(accs, ddof=1)) if len(accs) > 1 else np.nan,
            "test_loss": mean_finite([final_test_loss(r) for r in ok]),
            "gap": mean_finite([train_val_gap(r.history) for r in results]),
            "status": _status(len(div), len(div) + len(ok)), "note": note,
            "epoch_s": mean_finite([np.mean(r.history["epoch_time"]) for r in results if r.history.get("epoch_time")]),
            "seeds": seeds}


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


def gaps(table, by: str = "optimizer") -> Dict[Any, Any]:
    """Our mean test accuracy minus the report's, in points, per value of column ``by`` of a
    :func:`report_table` (value -> Series indexed by run): over the runs made whose seeds all
    learned. A run with a diverged seed is a divergence, not a gap, and is left out (report
    002's run 3 is at chance in the report, so a learned seed of ours would read +65 points)."""
    if "status" not in table:
        return {}
    done = table[(table["status"] == OK) & table["acc"].notna() & table["claimed_acc"].notna()]
    return {k: g["acc"] - g["claimed_acc"] for k, g in done.groupby(by)}


def gap_span(gap) -> str:
    """"-11.3 (run 31) to +0.1 (run 19)": the range of a :func:`gaps` Series with the runs
    at its ends; "not yet measured" when it is empty."""
    if not len(gap):
        return "not yet measured"
    lo, hi = gap.idxmin(), gap.idxmax()
    return f"{gap[lo]:+.1f} ({lo}) to {gap[hi]:+.1f} ({hi})"


# Per-run measures of the audit, by name: each takes a finished Result.
MEASURES: Dict[str, Callable[[Any], Optional[float]]] = {
    "gap": lambda r: train_val_gap(r.history),                                   # points
    "test_loss": final_test_loss,
    "val_acc": lambda r: 100.0 * r.history["val_acc"][-1] if r.history.get("val_acc") else None,   # %
    "loss_rise": lambda r: rise_above_min(r.history.get("val_loss") or []),      # % above its lowest
    "loss_jitter": lambda r: late_roughness(r.history.get("val_loss") or []),
}


class TableRuns:
    """The runs of the report's table a profile made (``runs``: label -> [Result per seed])
    and their rows of :func:`report_table` (``ran``): what the audit's rules are given."""

    def __init__(self, runs: Mapping[str, Sequence], ran):
        self.runs, self.ran = runs, ran

    def results(self, *labs: str) -> list:
        """The results of these runs (those this profile makes)."""
        return [r for lab in labs for r in self.runs.get(lab, [])]

    def accs(self, lab: str) -> list:
        """Test accuracies in % of a run's finished seeds ([] when not made)."""
        return R.accs(self.runs[lab], "002") if lab in self.runs else []

    def values(self, lab: str, measure: str = "acc") -> list:
        """A run's values over its finished seeds: ``acc`` (test accuracy in %, as the
        report read it) or a name of :data:`MEASURES`; [] when the run is not made."""
        if measure == "acc":
            return self.accs(lab)
        return per_seed(self.runs.get(lab, []), MEASURES[measure])

    def named(self, lab: str, measure: str = "acc", label: str = "") -> Tuple[str, list]:
        """``(label or lab, values)``: the pair a comparison rule takes."""
        return (label or lab, self.values(lab, measure))

    def group(self, labs: Sequence[str], measure: str = "acc") -> Dict[str, list]:
        """``{run: values}`` of these runs, in their order."""
        return {lab: self.values(lab, measure) for lab in labs}

    def diverged(self, lab: str) -> int:
        """How many of a run's seeds the trainer stopped as diverged."""
        return sum(1 for r in self.runs.get(lab, []) if r.diverged)

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

    def value(self, lab: str, col: str):
        """A run's value in column ``col`` of the table; NaN when the run was not made."""
        return self.ran.loc[lab, col] if lab in self.ran.index else np.nan

    def listing(self, labs: Sequence[str], col: str = "acc", fmt: str = "{:.2f}") -> str:
        """"run 4 90.12, run 5 ..." for the runs made; "not run at this profile" if none."""
        return ", ".join(f"{lab} {fmt.format(self.ran.loc[lab, col])}" for lab in labs if lab in self.ran.index) \
            or NOT_RUN

    def noise(self, measure: str, labs: Sequence[str]):
        """The pooled seed sd of ``measure`` over the runs ``labs`` (report 002's noise runs)
        that this profile makes, for a one-seed value of that measure to borrow; unknown
        while one of their seeds is pending (:func:`~cnnreport.analysis.hyperparams.seed_noise`)."""
        from .hyperparams import seed_noise
        present = [lab for lab in labs if lab in self.runs]
        waiting = [r for r in self.results(*present) if r.pending]
        source = (f"report 002: {', '.join(present)} ({measure.replace('_', ' ')})" if present
                  else "report 002: no noise run at this profile")
        return seed_noise({lab: self.values(lab, measure) for lab in present}, source, waiting)

    def number(self, audit, claim: str, claimed: float, lab: str, tolerance: float = 1.0):
        """A numeric claim about one run; a run this profile does not make is said to be so."""
        if lab in self.runs:
            return audit.number("002", claim, claimed, self.accs(lab), tolerance, needs=self.runs[lab])
        return audit.check("002", claim, None, NOT_RUN, claimed=f"{claimed:g}%")

    def verdict(self, audit, claim: str, claimed: str, labs: Sequence[str], rule: Callable[[], Any],
                noise=None):
        """A claim over the runs ``labs`` judged by ``rule`` (called without arguments, only
        when this profile makes every one of them: it returns a
        :class:`~cnnreport.analysis.verdicts.Verdict`); "not run at this profile" otherwise.
        ``noise``: the spread a one-seed measurement borrowed, for a row that waits on it."""
        missing = [lab for lab in labs if lab not in self.runs]
        if missing:
            return audit.check("002", claim, None, NOT_RUN, f"this profile does not run {', '.join(missing)}",
                               claimed=claimed)
        return audit.verdict("002", claim, claimed, rule(), needs=self.results(*labs), noise=noise)
