"""Per-class views of a test set: the confusion matrix and per-class accuracy bars.

Same conventions as :mod:`cnnreport.plots.curves` (shared style, a Figure is returned and
never shown, fractions drawn in percent).  Both accept Results or plain arrays; tensors
are moved to the CPU here.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .style import as_list, colors, new_figure, percent, run_labels, styled, to_numpy


@styled
def confusion_matrix(conf, classes: Optional[Sequence[str]] = None, normalize: bool = True, *,
                     title: Optional[str] = None, cmap: str = "Blues", size=None):
    """Rows: true class, columns: predicted.  ``normalize`` shows each row in percent of
    that class's test images; otherwise counts.  ``conf`` may be a Result."""
    if hasattr(conf, "confusion"):
        classes = classes or conf.classes
        conf = conf.confusion
    c = to_numpy(conf).astype(float)
    k = c.shape[0]
    classes = list(classes) if classes is not None else [str(i) for i in range(k)]
    shown = 100 * c / np.maximum(c.sum(1, keepdims=True), 1) if normalize else c
    fig, ax = new_figure(size=size or (0.48 * k + 3.0, 0.45 * k + 2.4))
    im = ax.imshow(shown, cmap=cmap, vmin=0, vmax=100 if normalize else None)
    cb = fig.colorbar(im, ax=ax, shrink=0.85)
    cb.set_label("% of true class" if normalize else "images (count)")
    if k <= 20:  # numbers stay readable up to ~20 classes
        thresh = 0.55 * (100 if normalize else shown.max() or 1)
        for i in range(k):
            for j in range(k):
                ax.text(j, i, f"{shown[i, j]:.0f}", ha="center", va="center", fontsize=7 if k > 10 else 8,
                        color="white" if shown[i, j] > thresh else "0.15")
    ax.set_xticks(range(k), classes, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(k), classes)
    ax.grid(False)
    ax.set(xlabel="predicted class", ylabel="true class",
           title=title or ("Confusion matrix (row %)" if normalize else "Confusion matrix (counts)"))
    return fig


@styled
def per_class_accuracy(results, classes: Optional[Sequence[str]] = None,
                       labels: Optional[Sequence[str]] = None, *, title: str = "Per-class test accuracy",
                       size=None):
    """Grouped bars: one group per class, one bar per run.  ``results`` is Results (their
    ``per_class_acc``) or an array (R, K) / (K,) of accuracies (fractions or percent)."""
    if isinstance(results, np.ndarray) or (isinstance(results, (list, tuple)) and results
                                           and not hasattr(results[0], "per_class_acc")):
        vals = np.atleast_2d(to_numpy(results).astype(float))
        labs = list(labels) if labels is not None else [f"run {i + 1}" for i in range(len(vals))]
    else:
        res = as_list(results)
        rows = [[np.nan if v is None else v for v in r.per_class_acc] for r in res]
        k = max((len(x) for x in rows), default=0)  # a diverged run has none: a row of NaN
        vals = np.array([x + [np.nan] * (k - len(x)) for x in rows], dtype=float).reshape(len(res), k)
        labs = run_labels(res, labels)
        classes = classes or (res[0].classes if res else None)
    if vals.shape[1] == 0 and classes is not None:  # no numbers at all: empty groups
        vals = np.full((len(vals), len(classes)), np.nan)
    vals = percent(vals)
    n_runs, k = vals.shape
    classes = list(classes) if classes is not None else [str(i) for i in range(k)]
    fig, ax = new_figure(size=size or (max(6.0, 0.55 * k * max(1, n_runs) ** 0.5 + 2.5), 4.0))
    width = 0.8 / max(n_runs, 1)
    x = np.arange(k)
    for i, (row, lab, c) in enumerate(zip(vals, labs, colors(n_runs))):
        ax.bar(x - 0.4 + width * (i + 0.5), np.nan_to_num(row), width=width, color=c, label=lab, zorder=2)
    ax.set_xticks(x, classes, rotation=30 if k > 6 else 0, ha="right" if k > 6 else "center")
    ax.set(ylabel="accuracy (%)", ylim=(0, 105), title=title)
    ax.grid(axis="x", visible=False)
    if n_runs > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig
