"""Loss-landscape figures.

Three different things are drawn here and kept apart on purpose:

* :func:`loss_bands` overlays per-step loss bands from :func:`cnnreport.core.landscape.loss_band`
  (min and max of the training loss across several runs, e.g. one model at several lrs);
  the numbers of a band (:func:`cnnreport.analysis.landscape.band_measures`) are computed in
  :mod:`cnnreport.analysis.landscape`.
* :func:`band` shades one min-max band against any x values; pass ``ax`` to overlay several.
* :func:`probe_measures` draws the three measurements of Santurkar et al. (2018) recorded by
  :func:`cnnreport.core.landscape.landscape_or_load` (loss variation, gradient predictiveness,
  effective beta-smoothness) against the training step, one colour per model; the numbers
  behind them are :func:`cnnreport.analysis.landscape.probe_betas` and ``probe_summary``.

Smoothing is :func:`cnnreport.plots.curves.moving_average`, the one the per-step loss uses.
Like every plot of :mod:`cnnreport.plots`, each returns a Figure without showing it.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

from ..analysis.landscape import common_length, probe_betas
from .curves import moving_average
from .style import arr, colors, new_figure, styled


@styled
def loss_bands(bands: Mapping[str, Mapping[str, Any]], *, smooth: Optional[int] = None,
               common: bool = True, logy: bool = False, show_mean: bool = True,
               title: Optional[str] = "Loss band across learning rates", size=None):
    """Overlay the per-step min-max loss bands of ``{label: loss_band(...)}``.

    ``smooth`` averages min, max and mean over that many steps first (None: raw, as the
    reports drew them); ``common`` cuts every band to the steps all of them cover, so the
    picture compares the same stretch of training.  The mean across runs is a line.
    """
    fig, ax = new_figure(size=size or (8.0, 4.2))
    n = common_length(bands) if common else None
    for (label, b), c in zip(bands.items(), colors(len(bands))):
        lo, hi, mid = (moving_average(arr(b[k])[:n], smooth) for k in ("min", "max", "mean"))
        x = np.arange(1, len(lo) + 1)
        ax.fill_between(x, lo, hi, color=c, alpha=0.3, lw=0,
                        label=f"{label}: min-max over {b.get('n_runs', '?')} runs")
        if show_mean:
            ax.plot(x, mid, color=c, lw=1.0, label=f"{label}: mean")
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel="optimizer step", ylabel="training loss (per batch)", title=title)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if bands:
        ax.legend(loc="best")
    return fig


@styled
def band(steps, lo, hi, label: Optional[str] = None, ax=None, *, mid=None, color=None,
         logy: bool = False, xlabel: Optional[str] = None, ylabel: Optional[str] = None,
         title: Optional[str] = None, size=None):
    """A shaded min-max band (and optional middle line) against ``steps``; pass ``ax`` to
    overlay several bands.  On a log axis non-positive values are clipped to the smallest
    positive one."""
    if ax is None:  # a fresh axes gets default labels; an overlay keeps the existing ones
        fig, ax = new_figure(size=size or (6.4, 4.0))
        xlabel, ylabel = xlabel or "step", ylabel or "loss"
    fig = ax.figure
    x, lo, hi = arr(steps), arr(lo), arr(hi)
    mid = arr(mid) if mid is not None else None
    if color is None:  # next palette colour, counting the bands already on the axes
        color = colors(len(ax.collections) + 1)[-1]
    if logy:
        pos = np.concatenate([v[v > 0] for v in (lo, hi) + ((mid,) if mid is not None else ())])
        floor = pos.min() if pos.size else 1e-12
        lo, hi = np.maximum(lo, floor), np.maximum(hi, floor)
        mid = np.maximum(mid, floor) if mid is not None else None
        ax.set_yscale("log")
    ax.fill_between(x, lo, hi, color=color, alpha=0.25, lw=0, label=f"{label} (min-max)" if label else None)
    if mid is not None:
        ax.plot(x, mid, color=color, label=label)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if label:
        ax.legend(loc="best")
    return fig


_PANELS = (
    ("loss_min", "loss_max", "loss", "Loss landscape", "loss  L(w - eta g)"),
    ("gradpred_min", "gradpred_max", None, "Gradient predictiveness",
     "||grad L(w) - grad L(w - eta g)||"),
    (None, None, "beta_smooth", "Effective beta-smoothness", "max over eta of change / ||eta g||"),
)


@styled
def probe_measures(probes: Mapping[str, Mapping[str, Any]], *,
                   logy: Sequence[bool] = (False, True, True), smooth: Optional[int] = None,
                   stacked: bool = True, title: Optional[str] = None, size=None):
    """Santurkar et al.'s three panels for ``{label: landscape record}``.

    Each panel shades, per probed step, the range over the step sizes eta: the loss
    L(w - eta g) (line: L(w)), the gradient change ||grad L(w) - grad L(w - eta g)||,
    and the ratio change / ||eta g|| (line: its max, the effective beta-smoothness).
    ``logy`` picks a log axis per panel; ``smooth`` averages over that many probes;
    ``stacked`` puts the panels under each other on one step axis (else side by side).
    """
    if stacked:
        fig, axes = new_figure(3, 1, size=size or (8.0, 9.0), sharex=True)
    else:
        fig, axes = new_figure(1, 3, size=size or (13.5, 4.0))
    for (label, p), c in zip(probes.items(), colors(len(probes))):
        x = arr(p["step"]) + 1  # probe at step s happens before update s + 1
        betas = probe_betas(p)
        # fmin/fmax skip NaN (eta = 0) without all-NaN warnings.
        ranges = {"beta_min": np.fmin.reduce(betas, axis=1) if betas.size else arr([]),
                  "beta_max": np.fmax.reduce(betas, axis=1) if betas.size else arr([])}
        for ax, (lo_k, hi_k, mid_k, name, ylabel), log in zip(axes, _PANELS, logy):
            lo = arr(p[lo_k]) if lo_k else ranges["beta_min"]
            hi = arr(p[hi_k]) if hi_k else ranges["beta_max"]
            lo, hi = moving_average(lo, smooth), moving_average(hi, smooth)
            if log:  # a zero change (eta too small to matter) cannot sit on a log axis
                pos = np.concatenate([lo[lo > 0], hi[hi > 0]])
                floor = pos.min() if pos.size else 1e-12
                lo, hi = np.maximum(lo, floor), np.maximum(hi, floor)
            ax.fill_between(x, lo, hi, color=c, alpha=0.3, lw=0, label=f"{label} (range over eta)")
            if mid_k:
                ax.plot(x, moving_average(arr(p[mid_k]), smooth), color=c, lw=1.2, label=f"{label}")
            ax.set(title=name, ylabel=ylabel)
            if log:
                ax.set_yscale("log")
    for ax in axes[-1:] if stacked else axes:
        ax.set_xlabel("optimizer step")
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if ax.collections:
            ax.legend(loc="best", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
