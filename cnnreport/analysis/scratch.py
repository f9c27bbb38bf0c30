"""The tables, readings and verdict rules behind the NumPy chapter's audit of report 004:
its grid search as a table, what the weight decay does to the train/validation gap, how
much the training loss falls after each StepLR decay, the benchmark's seconds per epoch,
and the chapter-specific rules (pure functions from measurements to a
:class:`~cnnreport.analysis.verdicts.Verdict`, built from the generic rules of
:mod:`cnnreport.analysis.verdicts`).

Runs are :class:`~cnnreport.core.store.Result` objects (NumPy runs are read back as such);
a number a run does not have is NaN, never an error.  A grid measurement is a mapping
``{(lr, hidden, weight decay): [value per seed]}`` (:func:`cells`).
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..core import stats as S
from . import schedules as Sch
from . import verdicts as V

Cell = Tuple[float, int, float]   # (lr, hidden size, weight decay)
CHANCE = 10.0                     # accuracy in % of a net that has learned nothing (ten classes)


def percent(x: Optional[float]) -> float:
    """A fraction in [0, 1] as a percentage; NaN for None."""
    return float("nan") if x is None else 100 * x


def last_epoch_test(result: Any) -> Optional[float]:
    """The test accuracy (fraction) of a run's weights after its last epoch, report 004's
    reading; the selected epoch's where a run recorded only that."""
    final = getattr(result, "final_test_acc", None)
    return final if final is not None else getattr(result, "test_acc", None)


def grid_table(configs: Mapping[str, Mapping[str, Any]], results: Mapping[str, Any],
               reported: Mapping[tuple, float]):
    """Report 004's grid search as a DataFrame, one row per label of ``configs`` (each with
    its ``results[label]``): lr, hidden size, weight decay, best validation accuracy, test
    accuracy after the last epoch (report 004's reading, :func:`last_epoch_test`), the
    report's test accuracy for the same (lr, hidden, weight decay) from ``reported``,
    training and validation accuracy after the last epoch, their difference ("gap
    (points)", fitting minus generalising) and the training time."""
    import pandas as pd

    def last(r, key):
        return percent(r.history[key][-1]) if r.history.get(key) else float("nan")

    table = pd.DataFrame(
        [{"lr": c["lr"], "hidden": c["hidden"][0], "weight decay": c["weight_decay"],
          "best val acc (%)": percent(r.best_val_acc), "test acc (%)": percent(last_epoch_test(r)),
          "report 004 (%)": reported.get((c["lr"], c["hidden"][0], c["weight_decay"])),
          "train acc, last (%)": last(r, "train_acc"), "val acc, last (%)": last(r, "val_acc"),
          "train time (s)": r.train_time}
         for c, r in ((configs[k], results[k]) for k in configs)],
        index=list(configs))
    table["gap (points)"] = table["train acc, last (%)"] - table["val acc, last (%)"]
    return table


def cells(table, column: str) -> Dict[Cell, List[float]]:
    """One column of a :func:`grid_table` as a grid measurement: ``{(lr, hidden, weight
    decay): [value]}`` (an empty list where the run has no finite value)."""
    return {(float(r["lr"]), int(r["hidden"]), float(r["weight decay"])): S.finite([r[column]])
            for _, r in table.iterrows()}


def weight_decay_effect(table) -> Dict[str, Any]:
    """Report 004's "a larger weight decay generalises better, but may fit less", read on
    a :func:`grid_table` for the text: the mean gap and the mean last-epoch training
    accuracy per weight decay over the (lr, hidden) pairs that ran every weight decay
    (:func:`~cnnreport.analysis.schedules.gap_by_factor`).  Returns ``gap``, ``train``
    ({weight decay: mean}), ``falling`` and ``groups`` (pairs where the gap falls at every
    step up, pairs compared) and ``text``.  The verdict is :func:`decay_narrows_gap`."""
    rows = [{"lr": r["lr"], "hidden": r["hidden"], "wd": r["weight decay"], "gap": r["gap (points)"],
             "train": r["train acc, last (%)"]} for _, r in table.iterrows()]
    gap = Sch.gap_by_factor(rows, "wd", ["lr", "hidden"])
    train = Sch.gap_by_factor(rows, "wd", ["lr", "hidden"], gap="train")
    _, falling, groups = Sch.falls_with_factor(rows, "wd", ["lr", "hidden"])
    text = (", ".join(f"wd {wd:g}: gap {gap[wd]:.2f}, train {train[wd]:.2f}%" for wd in sorted(gap))
            + (f"; the gap falls at every step in {falling} of {groups} (lr, hidden) pairs" if groups else ""))
    return {"gap": gap, "train": train, "falling": falling, "groups": groups, "text": text}


def drop_text(runs: Mapping[str, Any], decays: Sequence[int]) -> str:
    """How much each run's per-epoch training loss falls over the first epoch after each
    decay (``decays``: the last epochs at each old rate, 1-based), one run per ``; ``:
    "γ = 1: epoch 6 0.0123, ...; γ = 0.5: ..."."""
    if not decays:
        return "no decay inside the run at this profile"
    return "; ".join(f"{label}: " + ", ".join(f"epoch {e + 1} {Sch.drop_after(r.history.get('train_loss', []), e):.4f}"
                                              for e in decays)
                     for label, r in runs.items())


def bench_text(speed: Mapping[str, Mapping[str, Any]], model: str) -> str:
    """The benchmark's median seconds per epoch of ``model`` ("mlp", "lenet") for both
    implementations, from ``bench/scratch_speed.py``'s ``results``; "n/a" if not measured."""
    if model not in speed:
        return "n/a"
    r = speed[model]
    return (f"{r['numpy']['s_per_epoch_median']:.1f} s for NumPy and "
            f"{r['torch']['s_per_epoch_median']:.1f} s for PyTorch")


# -- the chapter's rules -----------------------------------------------------------------------
def within(a: V.Named, b: V.Named, margin: float, noise: Optional[S.Noise] = None,
           unit: str = " points", digits: int = 2) -> V.Verdict:
    """The claim "``a`` and ``b`` are close" (they differ by less than ``margin``): holds
    when the 95% interval of ``a - b`` lies inside ``(-margin, margin)``, is contradicted
    when it lies wholly beyond one end, and is inconclusive when it straddles an end.  A
    one-seed side borrows ``noise``."""
    n = len(S.finite(a[1])) + len(S.finite(b[1]))
    if not S.finite(a[1]) or not S.finite(b[1]):
        missing = a[0] if not S.finite(a[1]) else b[0]
        return V.Verdict(S.NOT_REPRODUCED, f"{missing}: no finished run", f"{missing} has no finished run", n)
    d = S.difference(S.interval(a[1], noise=noise), S.interval(b[1], noise=noise))
    text = f"{a[0]} − {b[0]} " + (f"{d.mean:+.{digits}f} ± {d.half:.{digits}f}{unit} (95%)" if d.known
                                  else f"{d.mean:+.{digits}f}{unit} (no interval yet)")
    if not d.known:
        return V.Verdict(S.WAITING, text, "one seed, and its noise estimate is not available: "
                         + (noise.text() if noise is not None else "no noise runs named"), n)
    if -margin < d.lo and d.hi < margin:
        outcome, why = S.HOLDS, f"the 95% interval of the difference lies inside ±{margin:g}{unit}"
    elif d.lo >= margin or d.hi <= -margin:
        outcome, why = S.CONTRADICTED, f"the 95% interval of the difference lies beyond ±{margin:g}{unit}"
    else:
        outcome, why = S.INCONCLUSIVE, (f"the 95% interval of the difference reaches past ±{margin:g}{unit}: "
                                        f"inconclusive at these seeds")
    return V.Verdict(outcome, text, why, n)


def _means(grid: Mapping[Cell, Sequence[float]]) -> Dict[Cell, float]:
    """The mean of every cell that has a finite value."""
    return {c: sum(S.finite(v)) / len(S.finite(v)) for c, v in grid.items() if S.finite(v)}


def _no_pairs(what: str) -> V.Verdict:
    return V.Verdict(S.INCONCLUSIVE, "no pair of cells to compare", f"the grid at this profile {what}", 0)


def lr_clearly_worst(acc: Mapping[Cell, Sequence[float]], worst: float = 0.001,
                     margin: float = 1.0) -> V.Verdict:
    """Report 004's "at lr ``worst`` the grid is clearly worse than at the other rates":
    for every other rate, the paired differences (that rate minus ``worst``) over the
    (hidden, weight decay) cells both ran must have a mean whose 95% interval lies above
    ``margin`` points ("clearly"); :func:`~cnnreport.analysis.verdicts.all_of` over the
    rates.  The interval is over the cells, so it carries both the seed noise and how much
    the gap varies with the other two settings."""
    m = _means(acc)
    others = sorted({c[0] for c in m} - {worst}, reverse=True)
    if not any(c[0] == worst for c in m) or not others:
        return _no_pairs(f"lacks lr {worst:g} or a second rate")
    parts = {}
    for lr in others:
        diffs = [m[(lr, h, wd)] - m[(worst, h, wd)] for (l, h, wd) in m
                 if l == worst and (lr, h, wd) in m]
        parts[f"lr {lr:g} − lr {worst:g}, mean over {len(diffs)} cells"] = V.threshold(
            diffs, margin, below=False, unit=" points")
    return V.all_of(parts)


def hidden_gains_by_pair(acc: Mapping[Cell, Sequence[float]]) -> List[float]:
    """For every (lr, weight decay) pair with more than one hidden size: the accuracy at the
    largest hidden size minus that at the smallest, in points."""
    m = _means(acc)
    out = []
    for lr, wd in sorted({(c[0], c[2]) for c in m}):
        sizes = sorted(h for (l, h, w) in m if (l, w) == (lr, wd))
        if len(sizes) > 1:
            out.append(m[(lr, sizes[-1], wd)] - m[(lr, sizes[0], wd)])
    return out


def hidden_helps_little(acc: Mapping[Cell, Sequence[float]], little: float = 1.0) -> V.Verdict:
    """Report 004's "a wider hidden layer usually helps, but by little": the gain from the
    smallest to the largest hidden size (:func:`hidden_gains_by_pair`) must have a mean over
    the (lr, weight decay) pairs whose 95% interval lies above zero and below ``little``
    points; :func:`~cnnreport.analysis.verdicts.all_of` of the two."""
    gains = hidden_gains_by_pair(acc)
    if not gains:
        return _no_pairs("has one hidden size")
    return V.all_of({"gain above 0": V.threshold(gains, 0.0, below=False, unit=" points"),
                     f"gain below {little:g} point(s)": V.threshold(gains, little, below=True, unit=" points")})


def decay_narrows_gap(gap: Mapping[Cell, Sequence[float]]) -> V.Verdict:
    """Report 004's "a larger weight decay means stronger generalisation", read as the gap
    between training and validation accuracy after the last epoch (``gap``, in points):
    at every step up in weight decay, the paired fall of the gap (smaller decay's minus the
    larger's) over the (lr, hidden) cells both ran must have a mean whose 95% interval lies
    above zero; :func:`~cnnreport.analysis.verdicts.all_of` over the steps."""
    m = _means(gap)
    wds = sorted({c[2] for c in m})
    if len(wds) < 2:
        return _no_pairs("has one weight decay")
    parts = {}
    for lo, hi in zip(wds, wds[1:]):
        falls = [m[(lr, h, lo)] - m[(lr, h, hi)] for (lr, h, w) in m if w == lo and (lr, h, hi) in m]
        parts[f"wd {lo:g} → {hi:g}, mean over {len(falls)} cells"] = V.threshold(
            falls, 0.0, below=False, unit=" points")
    return V.all_of(parts)


def steep_drop(decayed: Mapping[str, Sequence[float]], control: Tuple[str, Sequence[float]],
               factor: float = 2.0, noise: Optional[S.Noise] = None) -> V.Verdict:
    """Report 004's "the loss drops steeply after a StepLR decay": over the first epoch at
    the lower rate, each decayed run's fall of the training loss (``decayed``: label ->
    falls over seeds) must beat ``factor`` times the fall of the undecayed ``control``
    over the same epoch (:func:`~cnnreport.analysis.verdicts.comparison` of the two
    intervals); :func:`~cnnreport.analysis.verdicts.all_of` over the decay factors."""
    label, falls = control
    if not S.finite(falls) and not any(S.finite(v) for v in decayed.values()):
        return _too_short()
    scaled = (f"{factor:g} × {label}", [factor * v for v in S.finite(falls)])
    return V.all_of({k: V.comparison((k, v), scaled, noise, unit="", digits=4) for k, v in decayed.items()})


def _too_short() -> V.Verdict:
    return V.Verdict(S.INCONCLUSIVE, "no epoch after the decay",
                     "the runs end before the first epoch at the lower rate", 0)


def jump_at_decay(step: Sequence[float], constant: Sequence[float], noise: Optional[S.Noise] = None) -> V.Verdict:
    """Report 004's "the accuracy jumps where StepLR lowers the rate": the validation gain
    over the first epoch at the lower rate (``step``, one per seed) must beat the gain of
    the same net at a constant rate over that epoch (``constant``), by
    :func:`~cnnreport.analysis.verdicts.comparison`."""
    if not S.finite(step) and not S.finite(constant):
        return _too_short()
    return V.comparison(("StepLR", step), ("constant rate", constant), noise)


def rise_share(val_acc: Sequence[Optional[float]], first: int = 1, chance: float = CHANCE) -> float:
    """The share (%) of a validation curve's rise, from ``chance`` to its last epoch, that
    was made by the end of epoch ``first``; NaN for a curve shorter than ``first + 1``
    epochs or one that does not rise."""
    v = [100 * x if x is not None else float("nan") for x in val_acc]
    if len(v) <= first or not all(math.isfinite(x) for x in (v[first - 1], v[-1])) or v[-1] <= chance:
        return float("nan")
    return 100 * (v[first - 1] - chance) / (v[-1] - chance)


def fast_then_flat(curves: Sequence[Sequence[Optional[float]]], bound: float = 90.0,
                   first: int = 1) -> V.Verdict:
    """Report 004's "validation accuracy rises fast at first, then levels off": per run,
    the share of the rise from chance to the last epoch made by the end of epoch ``first``
    (:func:`rise_share`); holds when its 95% interval over the runs lies above ``bound``
    percent (most of the rise early, little after it), contradicted when it lies below."""
    shares = [rise_share(c, first) for c in curves]
    if curves and not S.finite(shares):
        return V.Verdict(S.INCONCLUSIVE, "no curve long enough",
                         f"a curve needs more than {first} epoch(s) that rise above chance", 0)
    return V.threshold(shares, bound, below=False, unit="%", digits=1)


def machine(result: Any) -> str:
    """Where a NumPy run was timed: platform, cores, BLAS threads and precision, from its
    ``environment`` and config."""
    env = getattr(result, "environment", {}) or {}
    threads = (env.get("threads") or {}).get("OPENBLAS_NUM_THREADS")
    return (f"{env.get('platform', '?')}, {env.get('cpu_count', '?')} CPUs, BLAS threads {threads or '?'}, "
            f"{(getattr(result, 'config', {}) or {}).get('dtype', '?')}")


def time_ratio(num: Sequence[Mapping[str, Any]], den: Sequence[Mapping[str, Any]], claim: float,
               tolerance: float, max_load_gap: float = 1.0) -> V.Verdict:
    """A timing claim as a ratio between two of the report's models: per seed, ``num``'s
    seconds over ``den``'s (each a ``{"seconds", "machine", "load"}`` per seed, in seed
    order), judged by :func:`~cnnreport.analysis.verdicts.number_claim`.  Only runs timed
    on one machine (same platform, cores, threads and precision) and at a similar load
    (1-minute load averages at the start within ``max_load_gap``) are compared; otherwise
    the row is inconclusive and says why."""
    pairs = [(a, b) for a, b in zip(num, den)
             if S.finite([a.get("seconds")]) and S.finite([b.get("seconds")]) and b["seconds"] > 0]
    if not pairs:
        return V.Verdict(S.NOT_REPRODUCED, "no timed run", "no finished, timed run on both sides", 0)
    machines = sorted({p["machine"] for pair in pairs for p in pair})
    loads = S.finite([p.get("load") for pair in pairs for p in pair])
    ratios = [a["seconds"] / b["seconds"] for a, b in pairs]
    where = f"on {machines[0]}" if len(machines) == 1 else f"on {len(machines)} machines"
    load_text = f", load {min(loads):.1f}-{max(loads):.1f}" if loads else ""
    if len(machines) > 1:
        return V.Verdict(S.INCONCLUSIVE, f"ratios {', '.join(f'{r:.2f}' for r in ratios)} {where}",
                         "the runs were timed on different machines: " + "; ".join(machines), 2 * len(pairs))
    if loads and max(loads) - min(loads) > max_load_gap:
        return V.Verdict(S.INCONCLUSIVE, f"ratios {', '.join(f'{r:.2f}' for r in ratios)} {where}{load_text}",
                         f"the load differed by more than {max_load_gap:g} between the runs", 2 * len(pairs))
    found = V.number_claim(ratios, claim, tolerance, unit="", digits=2)
    return V.Verdict(found.outcome, f"{found.measured} {where}{load_text}", found.reason, 2 * len(pairs))


def values_text(values: Mapping[str, float], unit: str = "%", digits: int = 2) -> str:
    """``label value`` pairs for a note; "pending" where a value is not known yet."""
    return ", ".join(f"{k} {v:.{digits}f}{unit}" if math.isfinite(v) else f"{k} pending"
                     for k, v in values.items())


def activation_claim(acc: Mapping[str, Sequence[float]], margin: float = 0.5,
                     noise: Optional[S.Noise] = None) -> V.Verdict:
    """Report 004's "Sigmoid is worst; ReLU and LeakyReLU are close" (``acc``: Sigmoid,
    ReLU, LeakyReLU -> accuracies): ReLU and LeakyReLU each beat Sigmoid
    (:func:`~cnnreport.analysis.verdicts.comparison`) and differ from each other by less
    than ``margin`` points (:func:`within`); :func:`~cnnreport.analysis.verdicts.all_of`."""
    sig, relu, leaky = (("Sigmoid", acc["Sigmoid"]), ("ReLU", acc["ReLU"]), ("LeakyReLU", acc["LeakyReLU"]))
    return V.all_of({"ReLU beats Sigmoid": V.comparison(relu, sig, noise),
                     "LeakyReLU beats Sigmoid": V.comparison(leaky, sig, noise),
                     f"ReLU within ±{margin:g} of LeakyReLU": within(relu, leaky, margin, noise)})


def matches_or_beats(a: V.Named, b: V.Named, margin: float, noise: Optional[S.Noise] = None) -> V.Verdict:
    """"``a`` matches or beats ``b``": a non-inferiority comparison, holding when the 95%
    interval of ``a - b`` lies above ``-margin`` points (contradicted when it lies below)."""
    return V.comparison(a, b, noise, margin=-margin)


def last_epoch_losses(results: Sequence[Any]) -> List[float]:
    """The test losses after the last epoch (report 004's reading) of the finished runs;
    the selected epoch's where a run recorded only that."""
    out = []
    for r in results:
        if getattr(r, "done", False):
            final = getattr(r, "final_test_loss", None)
            out += S.finite([final if final is not None else getattr(r, "test_loss", None)])
    return out


def seed_noise(groups: Mapping[str, Sequence[float]], waiting: Sequence[Any] = (), what: str = "") -> S.Noise:
    """The :class:`~cnnreport.core.stats.Noise` of settings run at several seeds (``groups``:
    label -> values over seeds), for a one-seed measurement of the same kind to borrow.
    While a run of them is not finished (``waiting``) the estimate is not used: a partial
    pool would change as the runs arrive."""
    source = f"{what}: " + ", ".join(groups) if what else ", ".join(groups)
    if waiting:
        return S.Noise(source=source, waiting=tuple(waiting))
    return S.noise(list(groups.values()), source=source)


def timings(results: Sequence[Any]) -> List[Dict[str, Any]]:
    """What :func:`time_ratio` reads of each finished NumPy run, in order: its CPU seconds
    (``extra["cpu_time"]``: the process's own time, which other jobs on the machine inflate
    far less than the wall clock), :func:`machine` and the 1-minute load at its start."""
    out = []
    for r in results:
        if getattr(r, "done", False):
            load = ((getattr(r, "environment", {}) or {}).get("loadavg") or [float("nan")])[0]
            out.append({"seconds": (getattr(r, "extra", {}) or {}).get("cpu_time"), "machine": machine(r),
                        "load": load})
    return out
