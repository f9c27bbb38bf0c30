"""Training-curve plots that set our runs against numbers a source report printed.

A report often gives its curves only as a table of per-epoch values (report 003 prints
validation loss and accuracy for all 20 epochs).  :func:`curves_vs_reference` draws
ours and theirs on one axis, same colour per run, so the reader sees the shape of both.
Like :mod:`cnnreport.plots`, it returns the Figure without showing or closing it.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
from matplotlib.lines import Line2D

from .plot_style import arr, as_list, colors, new_figure, percent, run_labels, styled

_YLABEL = {"train_loss": "training loss", "val_loss": "validation loss",
           "train_acc": "training accuracy (%)", "val_acc": "validation accuracy (%)",
           "test_acc_curve": "test accuracy (%, monitor only)"}


def _is_acc(metric: str) -> bool:
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
    ax.set(xlabel="epoch", ylabel=_YLABEL.get(metric, metric),
           title=title or _YLABEL.get(metric, metric).split(" (")[0].capitalize())
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
