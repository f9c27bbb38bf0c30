"""The tables and readings behind the NumPy chapter's verdicts on report 004: its grid
search as a table, what the weight decay does to the train/validation gap, how much the
training loss falls after each StepLR decay, and the benchmark's seconds per epoch.

Runs are :class:`~cnnreport.store.Result` objects (NumPy runs are read back as such);
a number a run does not have is NaN, never an error.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from . import schedules as S


def percent(x: Optional[float]) -> float:
    """A fraction in [0, 1] as a percentage; NaN for None."""
    return float("nan") if x is None else 100 * x


def grid_table(configs: Mapping[str, Mapping[str, Any]], results: Mapping[str, Any],
               reported: Mapping[tuple, float]):
    """Report 004's grid search as a DataFrame, one row per label of ``configs`` (each with
    its ``results[label]``): lr, hidden size, weight decay, best validation and test
    accuracy, the report's test accuracy for the same (lr, hidden, weight decay) from
    ``reported``, training and validation accuracy after the last epoch, their difference
    ("gap (points)", fitting minus generalising) and the training time."""
    import pandas as pd

    def last(r, key):
        return percent(r.history[key][-1]) if r.history.get(key) else float("nan")

    table = pd.DataFrame(
        [{"lr": c["lr"], "hidden": c["hidden"][0], "weight decay": c["weight_decay"],
          "best val acc (%)": percent(r.best_val_acc), "test acc (%)": percent(r.test_acc),
          "report 004 (%)": reported.get((c["lr"], c["hidden"][0], c["weight_decay"])),
          "train acc, last (%)": last(r, "train_acc"), "val acc, last (%)": last(r, "val_acc"),
          "train time (s)": r.train_time}
         for c, r in ((configs[k], results[k]) for k in configs)],
        index=list(configs))
    table["gap (points)"] = table["train acc, last (%)"] - table["val acc, last (%)"]
    return table


def weight_decay_effect(table) -> Dict[str, Any]:
    """Report 004's "a larger weight decay generalises better, but may fit less", read on
    a :func:`grid_table`: the mean gap and the mean last-epoch training accuracy per weight
    decay over the (lr, hidden) pairs that ran every weight decay
    (:func:`~cnnreport.analysis.schedules.gap_by_factor`).  Returns ``gap``, ``train``
    ({weight decay: mean}), ``holds`` (the mean gap falls at every step up; None with one
    weight decay), ``falling`` and ``groups`` (pairs where it falls at every step, pairs
    compared) and ``text``."""
    rows = [{"lr": r["lr"], "hidden": r["hidden"], "wd": r["weight decay"], "gap": r["gap (points)"],
             "train": r["train acc, last (%)"]} for _, r in table.iterrows()]
    gap = S.gap_by_factor(rows, "wd", ["lr", "hidden"])
    train = S.gap_by_factor(rows, "wd", ["lr", "hidden"], gap="train")
    holds, falling, groups = S.falls_with_factor(rows, "wd", ["lr", "hidden"])
    text = (", ".join(f"wd {wd:g}: gap {gap[wd]:.2f}, train {train[wd]:.2f}%" for wd in sorted(gap))
            + (f"; the gap falls at every step in {falling} of {groups} (lr, hidden) pairs" if groups else ""))
    return {"gap": gap, "train": train, "holds": holds, "falling": falling, "groups": groups, "text": text}


def hidden_gains(table) -> List[float]:
    """For every (lr, weight decay) pair of a :func:`grid_table` that ran more than one
    hidden size: test accuracy of the largest hidden size minus that of the smallest, in
    points."""
    gains = []
    for _, g in table.groupby(["lr", "weight decay"]):
        if g["hidden"].nunique() > 1:
            acc = g.sort_values("hidden")["test acc (%)"]
            gains.append(acc.iloc[-1] - acc.iloc[0])
    return gains


def drop_text(runs: Mapping[str, Any], decays: Sequence[int]) -> str:
    """How much each run's per-epoch training loss falls over the first epoch after each
    decay (``decays``: the last epochs at each old rate, 1-based), one run per ``; ``:
    "γ = 1: epoch 6 0.0123, ...; γ = 0.5: ..."."""
    if not decays:
        return "no decay inside the run at this profile"
    return "; ".join(f"{label}: " + ", ".join(f"epoch {e + 1} {S.drop_after(r.history.get('train_loss', []), e):.4f}"
                                              for e in decays)
                     for label, r in runs.items())


def beyond_spread(difference: float, spread: float) -> str:
    """Whether a difference between two settings stands out from the spread between seeds
    (a standard deviation): "well beyond" at more than twice it, else "not clearly beyond"."""
    return "well beyond" if abs(difference) > 2 * spread else "not clearly beyond"


def bench_text(speed: Mapping[str, Mapping[str, Any]], model: str) -> str:
    """The benchmark's median seconds per epoch of ``model`` ("mlp", "lenet") for both
    implementations, from ``bench/scratch_speed.py``'s ``results``; "n/a" if not measured."""
    if model not in speed:
        return "n/a"
    r = speed[model]
    return (f"{r['numpy']['s_per_epoch_median']:.1f} s for NumPy and "
            f"{r['torch']['s_per_epoch_median']:.1f} s for PyTorch")
