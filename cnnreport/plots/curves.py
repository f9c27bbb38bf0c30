"""Curves over a run: per-epoch training curves, one metric across runs, per-step loss and lr.

Every function takes :class:`cnnreport.core.store.Result` objects, draws with the shared style
of :mod:`cnnreport.plots.style`, and returns the :class:`matplotlib.figure.Figure` without
showing or closing it.  Accuracies stored as fractions are drawn in percent.  Runs whose
status is ``diverged`` are drawn up to their last finite value and marked with a red
cross; NaN/None entries (from JSON) leave gaps rather than errors.

:func:`moving_average` is the one smoothing of the package (the landscape bands use it too).
Our curves against a report's printed per-epoch numbers are in :mod:`cnnreport.plots.compare`.
"""
from __future__ import annotations

from typing import List, Mapping, Optional, Sequence

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from .style import DIVERGED_COLOR, arr, as_list, colors, new_figure, percent, run_labels, styled

# metric family -> (history keys drawn solid / dashed / dotted, y label, in percent)
_FAMILIES = {
    "loss": (("train_loss", "val_loss"), "loss", False),
    "acc": (("train_acc", "val_acc", "test_acc_curve"), "accuracy (%)", True),
}
_STYLE = {"train": "-", "val": "--", "test": ":"}
_SPLIT_NAME = {"train": "train", "val": "validation", "test": "test (monitor only)"}
#: y label of each per-epoch loss/accuracy curve (shared with the curves against a report)
CURVE_LABELS = {"train_loss": "training loss", "val_loss": "validation loss",
                "train_acc": "training accuracy (%)", "val_acc": "validation accuracy (%)",
                "test_acc_curve": "test accuracy (%, monitor only)"}
_METRIC_LABEL = dict(CURVE_LABELS, **{
    "lr": "learning rate", "epoch_time": "epoch time (s)", "images_per_sec": "throughput (images/s)",
    "step_loss": "training loss (per step)", "step_lr": "learning rate"})


def _epochs(r, n: int) -> np.ndarray:
    """x values for ``n`` per-epoch entries (a diverged run logs fewer val entries)."""
    ep = arr(r.history.get("epoch"))
    return ep[:n] if len(ep) >= n else np.arange(1, n + 1, dtype=float)


def _mark_diverged(ax, x: float, y: float) -> None:
    """A red cross at the last finite point, kept inside the visible range."""
    lo, hi = ax.get_ylim()
    ax.plot([x], [min(max(y, lo), hi)], marker="X", ms=9, color=DIVERGED_COLOR,
            mec="white", mew=0.8, ls="none", zorder=5, clip_on=False)


def _clip_top(ax, ok: List[float], every: List[float], log: bool = False) -> None:
    """Keep a blown-up run from flattening the others: cap at 1.15x the healthy runs' max."""
    if log or not ok or not every:
        return
    top = max(ok)
    if max(every) > 1.5 * top and top > 0:
        # Autoscale used the huge values for the margins too: set both ends.
        bottom = min(every)
        ax.set_ylim(bottom - 0.05 * (top - bottom), top * 1.15)


def _legends(fig, ax, cols, labs, results, styles: Sequence[str]) -> None:
    """Colour = run (figure legend, right), line style = split (inside the first axes)."""
    handles = [Line2D([], [], color=c, lw=2) for c in cols]
    names = [lab + ("  (diverged)" if r.diverged else "") for lab, r in zip(labs, results)]
    if len(results) > 1 or any(r.diverged for r in results):
        fig.legend(handles, names, loc="outside right upper", title="run")
    sty = [Line2D([], [], color="0.35", ls=_STYLE[s]) for s in styles]
    txt = [_SPLIT_NAME[s] for s in styles]
    if any(r.diverged for r in results):
        sty.append(Line2D([], [], color=DIVERGED_COLOR, marker="X", ls="none", mec="white"))
        txt.append("diverged")
    if len(sty) > 1:
        ax.legend(sty, txt, loc="best")


@styled
def training_curves(results, labels: Optional[Sequence[str]] = None,
                    metrics: Sequence[str] = ("loss", "acc"), *, title: Optional[str] = None,
                    logy_loss: bool = False, show_test: bool = True, size=None):
    """Train (solid) and validation (dashed) loss/accuracy against epoch, one colour per run;
    the per-epoch test curve (if logged) dotted, labelled as monitor only."""
    results = as_list(results)
    labs, cols = run_labels(results, labels), colors(len(results))
    fig, axes = new_figure(1, len(metrics), size=size or (4.6 * len(metrics) + 2.2, 3.8), squeeze=False)
    used = set()
    for ax, fam in zip(axes[0], metrics):
        if fam not in _FAMILIES:
            raise ValueError(f"unknown metric family {fam!r}; allowed: {', '.join(_FAMILIES)}")
        keys, ylabel, pct = _FAMILIES[fam]
        ok_vals, all_vals, last = [], [], []
        for r, c in zip(results, cols):
            for key in keys:
                split = key.split("_")[0]
                if split == "test" and not show_test:
                    continue
                y = arr(r.history.get(key))
                y = percent(y) if pct else y
                m = np.isfinite(y)
                if not m.any():
                    continue
                x = _epochs(r, len(y))
                ax.plot(x[m], y[m], ls=_STYLE[split], color=c, marker="o" if m.sum() < 3 else None,
                        ms=4, alpha=0.85 if split == "test" else 1.0)
                used.add(split)
                if not r.diverged:
                    ok_vals.extend(y[m].tolist())
                all_vals.extend(y[m].tolist())
                if r.diverged and split == "train":
                    last.append((x[m][-1], y[m][-1]))
        if fam == "loss" and logy_loss:
            ax.set_yscale("log")
        _clip_top(ax, ok_vals, all_vals, log=(fam == "loss" and logy_loss))
        for x, y in last:
            _mark_diverged(ax, x, y)
        ax.set(xlabel="epoch", ylabel=ylabel, title={"loss": "Loss", "acc": "Accuracy"}[fam])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _legends(fig, axes[0][0], cols, labs, results, [s for s in ("train", "val", "test") if s in used])
    if title:
        fig.suptitle(title)
    return fig


@styled
def metric_curves(results, metric: str = "val_acc", labels: Optional[Sequence[str]] = None, *,
                  ax=None, title: Optional[str] = None, size=None):
    """One history metric (or ``step_loss`` / ``step_lr``) against epoch (step), one line per run."""
    results = as_list(results)
    labs, cols = run_labels(results, labels), colors(len(results))
    # Over 6 runs the legend goes below the axes and the figure grows for it; over 20 a
    # legend would be taller than any figure, so the runs are counted in the title instead.
    many, crowd = len(results) > 6, len(results) > 20
    default = (7.5, 4.0 + (0.22 * ((len(results) + 1) // 2) if many and not crowd else 0.0))
    fig, ax = (ax.figure, ax) if ax is not None else new_figure(size=size or default)
    per_step = metric.startswith("step_")
    ok_vals, all_vals, marks = [], [], []
    for r, lab, c in zip(results, labs, cols):
        y = arr(r.steps.get(metric[5:]) if per_step else r.history.get(metric))
        if metric.endswith("acc") or metric == "test_acc_curve":
            y = percent(y)
        m = np.isfinite(y)
        if not m.any():
            continue
        x = np.arange(1, len(y) + 1, dtype=float) if per_step else _epochs(r, len(y))
        ax.plot(x[m], y[m], color=c, lw=1.0 if per_step else 1.6,
                label=lab + ("  (diverged)" if r.diverged else ""))
        if not r.diverged:
            ok_vals.extend(y[m].tolist())
        all_vals.extend(y[m].tolist())
        if r.diverged:
            marks.append((x[m][-1], y[m][-1]))
    _clip_top(ax, ok_vals, all_vals)
    for x, y in marks:  # after the limits are final, so a cross is never off-axes
        _mark_diverged(ax, x, y)
    if not per_step:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="optimizer step" if per_step else "epoch", ylabel=_METRIC_LABEL.get(metric, metric),
           title=title or _METRIC_LABEL.get(metric, metric).split(" (")[0].capitalize())
    if crowd:
        ax.set_title(f"{ax.get_title()} ({len(ax.lines)} runs; select fewer for a legend)")
    elif ax.lines and many:
        fig.legend(handles=ax.lines, loc="outside lower center", ncol=2, fontsize="small", frameon=False)
    elif ax.lines:
        ax.legend(loc="best")
    return fig


def moving_average(y: np.ndarray, window: Optional[int]) -> np.ndarray:
    """Centred moving average over ``window`` points that skips non-finite values; at the
    edges it averages what exists.  ``window`` None or 1 (or an empty ``y``) returns ``y``
    unchanged; a window longer than ``y`` is cut to its length."""
    if not window or window <= 1 or y.size == 0:
        return y
    ok = np.isfinite(y)
    # A window longer than the series would make mode="same" return a longer array.
    k = np.ones(min(int(window), len(y)))
    num = np.convolve(np.where(ok, y, 0.0), k, mode="same")
    den = np.convolve(ok.astype(float), k, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _steps_per_epoch(r) -> Optional[float]:
    """Steps per epoch of a run: counted when it finished, else from its data and batch size."""
    n_ep, n_st = len(r.history.get("epoch") or []), len(r.steps.get("loss") or [])
    if not r.diverged and n_ep and n_st:
        return n_st / n_ep
    if r.n_train and r.config.get("batch_size"):
        return float(-(-r.n_train // r.config["batch_size"]))  # ceil: the last batch is kept
    return None


def _epoch_axis(ax, spe: Optional[float]) -> None:
    """A secondary x axis in epochs on top of a per-step axis."""
    if spe:
        sec = ax.secondary_xaxis("top", functions=(lambda s: s / spe, lambda e: e * spe))
        sec.set_xlabel("epoch")
        sec.xaxis.set_major_locator(MaxNLocator(integer=True))


@styled
def step_loss(results, labels: Optional[Sequence[str]] = None, smooth: Optional[int] = None, *,
              logy: bool = False, show_lr: bool = True, title: Optional[str] = None, size=None):
    """Per-step training loss (light: raw, solid: moving average over ``smooth`` steps,
    default ~2% of the run) and, below, the learning rate on the same step axis."""
    results = as_list(results)
    labs, cols = run_labels(results, labels), colors(len(results))
    rows = 2 if show_lr else 1
    fig, axes = new_figure(rows, 1, size=size or (8.0, 5.2 if show_lr else 3.8), sharex=True,
                           squeeze=False, gridspec_kw={"height_ratios": [3, 1][:rows]})
    ax = axes[0][0]
    ok_vals, all_vals, marks = [], [], []
    for r, lab, c in zip(results, labs, cols):
        y = arr(r.steps.get("loss"))
        y[~np.isfinite(y)] = np.nan
        if not np.isfinite(y).any():
            continue
        x = np.arange(1, len(y) + 1, dtype=float)
        w = smooth or max(5, len(y) // 50)
        s = moving_average(y, w)
        ax.plot(x, y, color=c, alpha=0.2, lw=0.7)
        ax.plot(x, s, color=c, lw=1.6, label=lab + ("  (diverged)" if r.diverged else ""))
        if not r.diverged:
            ok_vals.extend(s[np.isfinite(s)].tolist())
        all_vals.extend(s[np.isfinite(s)].tolist())
        if r.diverged:
            m = np.isfinite(y)
            marks.append((r.diverged_step or x[m][-1], y[m][-1]))
        if show_lr:
            lr = arr(r.steps.get("lr"))
            axes[1][0].plot(np.arange(1, len(lr) + 1), lr, color=c)
    if logy:
        ax.set_yscale("log")
    _clip_top(ax, ok_vals, all_vals, log=logy)
    for x, y in marks:
        _mark_diverged(ax, x, y)
    ax.set(ylabel="training loss (per batch)", title=title or "Training loss per step")
    if ax.lines:
        ax.legend(loc="best")
    spes = {_steps_per_epoch(r) for r in results}
    _epoch_axis(ax, spes.pop() if len(spes) == 1 else None)
    axes[-1][0].set_xlabel("optimizer step")
    if show_lr:
        axes[1][0].set_ylabel("learning rate")
    return fig


@styled
def lr_curves(curves: Mapping[str, Sequence[float]], steps_per_epoch: Optional[int] = None, *,
              logy: bool = False, title: Optional[str] = "Learning-rate schedules", size=None):
    """Learning rate against optimizer step for several schedules (``name -> lr per step``);
    with ``steps_per_epoch``, an epoch axis on top and faint epoch boundaries."""
    fig, ax = new_figure(size=size or (7.5, 3.8))
    n_max = 0
    for i, ((name, lr), c) in enumerate(zip(curves.items(), colors(len(curves)))):
        y = arr(lr)
        n_max = max(n_max, len(y))
        # Alternate dashes: schedules often coincide for a while (warm-up, constant phases).
        ax.plot(np.arange(1, len(y) + 1), y, color=c, ls="-" if i % 2 == 0 else "--", label=name)
    if steps_per_epoch and n_max / steps_per_epoch <= 30:
        for e in range(1, int(np.ceil(n_max / steps_per_epoch))):
            ax.axvline(e * steps_per_epoch + 0.5, color="0.6", lw=0.5, alpha=0.5, zorder=0)
    _epoch_axis(ax, steps_per_epoch)
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel="optimizer step", ylabel="learning rate", title=title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="schedule")
    return fig
