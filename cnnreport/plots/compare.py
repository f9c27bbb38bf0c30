"""Our runs side by side and against the reports: measured-vs-reported bars (every audit),
accuracy scatters, and our per-epoch curves against a report's printed ones.

Same conventions as :mod:`cnnreport.plots.curves` (shared style, a Figure is returned and
never shown, accuracies stored as fractions are drawn in percent).  A report often gives
its curves only as a table of per-epoch values (report 003 prints validation loss and
accuracy for all 20 epochs): :func:`curves_vs_reference` draws ours and theirs on one
axis, same colour per run, so the reader sees the shape of both.
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional, Sequence, Union

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .curves import CURVE_LABELS
from .style import DIVERGED_COLOR, arr, as_list, colors, new_figure, percent, run_labels, styled


@styled
def compare_bar(names: Sequence[str], means: Sequence[Optional[float]],
                stds: Optional[Sequence[Optional[float]]] = None,
                reference: Union[Sequence[Optional[float]], Dict[str, float], None] = None,
                ylabel: str = "test accuracy (%)", *, title: Optional[str] = None,
                measured_label: str = "measured (this book)", reference_label: str = "reported",
                ylim=None, annotate: bool = True, fmt: str = "{:.1f}", size=None):
    """Our measured values as bars (± ``stds`` as error bars) next to the reports' claimed
    numbers (``reference``, list aligned with ``names`` or dict by name) as diamonds."""
    names = [str(n) for n in names]
    m = arr(means)
    s = arr(stds) if stds is not None else np.full(len(m), np.nan)
    if isinstance(reference, Mapping):
        reference = [reference.get(n) for n in names]
    ref = arr(reference) if reference is not None else np.full(len(m), np.nan)
    if not len(m) == len(s) == len(ref) == len(names):
        raise ValueError("names, means, stds and reference must have the same length")
    fig, ax = new_figure(size=size or (max(4.5, 0.9 * len(names) + 2.5), 4.0))
    x = np.arange(len(names))
    ok = np.isfinite(m)
    ax.bar(x[ok], m[ok], width=0.6, color="#0072B2", alpha=0.85, label=measured_label, zorder=2)
    e = np.isfinite(s) & ok
    if e.any():
        ax.errorbar(x[e], m[e], yerr=s[e], fmt="none", ecolor="0.15", capsize=4, lw=1.2, zorder=3)
    r = np.isfinite(ref)
    if r.any():
        ax.plot(x[r], ref[r], ls="none", marker="D", ms=8, color="#D55E00", mec="white",
                label=reference_label, zorder=4)
    finite = np.concatenate([m[ok] + np.nan_to_num(s[ok]), ref[r]])
    top = finite.max() if finite.size else 1.0
    if annotate:  # values at the foot of each bar: never under an error bar or a marker
        for i in x:
            tall = ok[i] and m[i] > 0.12 * top
            txt = "n/a" if not ok[i] else fmt.format(m[i]) + ("" if not e[i] else f"\n± {fmt.format(s[i])}")
            ax.annotate(txt, (i, 0), xytext=(0, 4), textcoords="offset points", ha="center",
                        va="bottom", fontsize=8, color="white" if tall else "0.2",
                        fontweight="bold" if tall else "normal", zorder=5)
    ax.set_ylim(*(ylim or (min(0, np.nanmin(finite) if finite.size else 0), top * 1.12)))
    long = len(names) > 6 or max((len(n) for n in names), default=0) > 10
    ax.set_xticks(x, names, rotation=25 if long else 0, ha="right" if long else "center")
    ax.set(ylabel=ylabel, title=title or "Measured vs reported")
    ax.grid(axis="x", visible=False)
    handles = [Patch(color="#0072B2", alpha=0.85, label=measured_label)]
    if r.any():
        handles.append(Line2D([], [], ls="none", marker="D", color="#D55E00", mec="white",
                              label=reference_label))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # never over a bar
    return fig


def _scatter(results, labels, xs, xlabel, logx, metric, title, annotate, size):
    """One point per run with a value at ``xs``; the runs without one are counted, not drawn."""
    results = as_list(results)
    labs, cols = run_labels(results, labels), colors(len(results))
    fig, ax = new_figure(size=size or (6.4, 4.2))
    pts = [(xv, 100 * getattr(r, metric), lab, c) for r, lab, c, xv in zip(results, labs, cols, xs)
           if xv is not None and getattr(r, metric) is not None
           and np.isfinite([xv, getattr(r, metric)]).all()]
    skipped = len(results) - len(pts)
    t = np.log10 if logx else (lambda v: v)
    span = (t(min(p[0] for p in pts)), t(max(p[0] for p in pts))) if pts else (0, 1)
    for xv, yv, lab, c in pts:
        ax.scatter([xv], [yv], color=c, s=55, edgecolor="white", lw=0.8, zorder=3, label=lab)
        if annotate:
            # Labels of points in the right part go to their left, so none runs off the axes.
            right = span[1] > span[0] and (t(xv) - span[0]) / (span[1] - span[0]) > 0.6
            ax.annotate(lab, (xv, yv), xytext=(-6 if right else 6, 4), textcoords="offset points",
                        fontsize=8, ha="right" if right else "left")
    if logx:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=f"{metric.replace('_acc', '').replace('_', ' ')} accuracy (%)")
    ax.set_title(title, loc="left")
    if skipped:  # a right-hand title: never on top of a point
        ax.set_title(f"{skipped} run(s) without a value (diverged) not shown", loc="right",
                     fontsize=8, color=DIVERGED_COLOR)
    if not annotate and pts:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), title="run")
    return fig


@styled
def scatter_params_accuracy(results, labels: Optional[Sequence[str]] = None, *, metric: str = "test_acc",
                            title: str = "Accuracy vs model size", annotate: bool = False, size=None):
    """Accuracy against parameter count (log x), one point per run; a legend names the
    runs, or with ``annotate`` each point carries its label (best for a few short labels)."""
    results = as_list(results)
    return _scatter(results, labels, [r.num_params for r in results], "parameters (count, log scale)",
                    True, metric, title, annotate, size)


@styled
def scatter_time_accuracy(results, labels: Optional[Sequence[str]] = None, *, metric: str = "test_acc",
                          logx: Optional[bool] = None, title: str = "Accuracy vs training time",
                          annotate: bool = False, size=None):
    """Accuracy against training time in seconds (log x when times span > 20x)."""
    results = as_list(results)
    ts = [r.train_time for r in results]
    good = [t for t in ts if t]
    if logx is None:
        logx = bool(good) and max(good) / min(good) > 20
    return _scatter(results, labels, ts, "training time (s" + (", log scale)" if logx else ")"),
                    logx, metric, title, annotate, size)


def _is_acc(metric: str) -> bool:
    """Accuracy histories are stored as fractions and drawn in percent."""
    return metric.endswith("acc") or metric == "test_acc_curve"


@styled
def curves_vs_reference(results, metric: str = "val_acc", labels: Optional[Sequence[str]] = None,
                        reference: Optional[Mapping[str, Sequence[float]]] = None, *,
                        reference_label: str = "reported", ax=None, title: Optional[str] = None,
                        size=None):
    """One per-epoch history ``metric`` for each run (solid) and, for each label found in
    ``reference``, the report's per-epoch values (dashed with markers, same colour).

    Reference values are drawn in the units given; accuracies of ours are shown in percent,
    so pass reported accuracies in percent too.  The two series may differ in length (a
    shortened run against a report's full run): each is drawn over its own epochs.
    """
    results = as_list(results)
    labs, cols = run_labels(results, labels), colors(len(results))
    reference = dict(reference or {})
    own = ax is None  # an "outside" figure legend needs the constrained layout of new_figure
    fig, ax = new_figure(size=size or (7.5, 4.0)) if own else (ax.figure, ax)
    for r, lab, c in zip(results, labs, cols):
        y = arr(r.history.get(metric))
        y = percent(y) if _is_acc(metric) else y
        ok = np.isfinite(y)
        if ok.any():
            x = np.arange(1, len(y) + 1, dtype=float)
            ax.plot(x[ok], y[ok], color=c, marker="o" if ok.sum() < 3 else None, ms=4)
        if lab in reference:
            ref = arr(reference[lab])
            rx = np.arange(1, len(ref) + 1, dtype=float)
            m = np.isfinite(ref)
            ax.plot(rx[m], ref[m], color=c, ls="--", marker="o", ms=3.5, mfc="white", alpha=0.9)
    ax.set(xlabel="epoch", ylabel=CURVE_LABELS.get(metric, metric),
           title=title or CURVE_LABELS.get(metric, metric).split(" (")[0].capitalize())
    ax.xaxis.get_major_locator().set_params(integer=True)
    runs = [Line2D([], [], color=c, lw=2) for c in cols]
    if len(results) > 1 and own:
        fig.legend(runs, labs, loc="outside right upper", title="run")
    elif len(results) > 1:
        ax.add_artist(ax.legend(runs, labs, loc="upper right", title="run"))
    if reference:
        style = [Line2D([], [], color="0.35"),
                 Line2D([], [], color="0.35", ls="--", marker="o", ms=3.5, mfc="white")]
        ax.legend(style, ["this book", reference_label], loc="best")
    return fig
