"""Image and matrix plots: confusion matrices, per-class bars, filters, samples, activations.

Re-exported by :mod:`cnnreport.plots`; same conventions (shared style, a Figure is
returned and never shown).  Inputs may be numpy arrays or torch tensors; tensors are
detached and moved to the CPU here so callers can pass ``model.conv1.weight`` directly.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .plot_style import as_list, colors, grid_shape, new_figure, percent, run_labels, styled


def _np(x) -> np.ndarray:
    """numpy view of an array-like or a (possibly CUDA, possibly grad-tracking) tensor."""
    if hasattr(x, "detach"):
        x = x.detach().float().cpu().numpy()
    return np.asarray(x)


def _mosaic(tiles: np.ndarray, ncols: int, pad: int = 1, fill: float = np.nan) -> np.ndarray:
    """(N, h, w[, 3]) tiles -> one (rows*(h+pad)-pad, cols*(w+pad)-pad[, 3]) image."""
    n, h, w = tiles.shape[:3]
    rows, ncols = grid_shape(n, ncols)
    out = np.full((rows * (h + pad) - pad, ncols * (w + pad) - pad) + tiles.shape[3:], fill)
    for i, t in enumerate(tiles):
        r, c = divmod(i, ncols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = t
    return out


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for sp in ax.spines.values():
        sp.set_visible(False)


@styled
def confusion_matrix(conf, classes: Optional[Sequence[str]] = None, normalize: bool = True, *,
                     title: Optional[str] = None, cmap: str = "Blues", size=None):
    """Rows: true class, columns: predicted.  ``normalize`` shows each row in percent of
    that class's test images; otherwise counts.  ``conf`` may be a Result."""
    if hasattr(conf, "confusion"):
        classes = classes or conf.classes
        conf = conf.confusion
    c = _np(conf).astype(float)
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
        vals = np.atleast_2d(_np(results).astype(float))
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


@styled
def filter_grid(weight, ncols: int = 8, *, title: Optional[str] = None, size=None):
    """First-layer filters (O, C, k, k) as tiles, each min-max normalised on its own:
    RGB for C=3, gray for C=1, the channel mean in gray otherwise."""
    w = _np(weight).astype(float)
    if w.ndim != 4:
        raise ValueError(f"expected a (O, C, k, k) weight, got shape {w.shape}")
    o, c = w.shape[:2]
    tiles = w.transpose(0, 2, 3, 1) if c == 3 else w.mean(1) if c != 1 else w[:, 0]  # (O, k, k[, 3])
    flat = tiles.reshape(o, -1)
    lo, hi = flat.min(1), flat.max(1)
    scale = np.where(hi > lo, hi - lo, 1.0)
    tiles = (tiles - lo.reshape((-1,) + (1,) * (tiles.ndim - 1))) / scale.reshape((-1,) + (1,) * (tiles.ndim - 1))
    rows, cols = grid_shape(o, ncols)
    fig, ax = new_figure(size=size or (min(1.0 * cols, 9.0) + 0.4, min(1.0 * cols, 9.0) * rows / cols + 0.6))
    img = _mosaic(tiles, cols, fill=1.0)  # white gaps between filters
    ax.imshow(img, cmap=None if c == 3 else "gray", vmin=0, vmax=1)
    _bare(ax)
    ax.set_title(title or f"First-layer filters ({o} x {c} x {w.shape[2]} x {w.shape[3]})")
    return fig


@styled
def weight_images(W, n: int = 16, ncols: int = 8, *, shape=(28, 28), title: Optional[str] = None,
                  size=None):
    """The first ``n`` rows of an MLP's first weight matrix (H, 784) as 28x28 images;
    red is positive, blue negative, each scaled to its own largest magnitude."""
    w = _np(W).astype(float)[:n]
    h, wd = shape
    if w.shape[1] != h * wd:
        raise ValueError(f"rows have {w.shape[1]} weights, expected {h}x{wd}={h * wd}")
    tiles = w.reshape(-1, h, wd) / np.maximum(np.abs(w).max(1), 1e-12).reshape(-1, 1, 1)
    rows, cols = grid_shape(len(tiles), ncols)
    fig, ax = new_figure(size=size or (1.1 * cols + 1.2, 1.1 * rows + 0.6))
    import matplotlib as mpl
    cmap = mpl.colormaps["RdBu_r"].with_extremes(bad="white")  # NaN gaps show as white
    im = ax.imshow(_mosaic(tiles, cols, pad=2), cmap=cmap, vmin=-1, vmax=1)
    cb = fig.colorbar(im, ax=ax, shrink=0.8)
    cb.set_label("weight / max |weight| of unit")
    _bare(ax)
    ax.set_title(title or f"First-layer weights of {len(tiles)} hidden units")
    return fig


def show_tile(ax, image: np.ndarray, labels=None, classes=None, i: int = 0) -> None:
    """One image in [0, 1] on a bare axis, captioned with the class of ``labels[i]`` if given."""
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1)
    _bare(ax)
    if labels is not None:
        y = int(_np(labels)[i])
        ax.set_title(classes[y] if classes is not None else str(y), fontsize=8, pad=2,
                     fontweight="normal")


def _to_hwc(images) -> np.ndarray:
    """uint8 (N, H, W[, 3]) or float (N, C, H, W) -> float (N, H, W[, 3]) in [0, 1]."""
    x = _np(images)
    if x.dtype == np.uint8:
        return x.astype(float) / 255.0
    x = x.astype(float)
    if x.ndim == 4 and x.shape[1] in (1, 3) and x.shape[-1] not in (1, 3):
        x = x.transpose(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.min() < 0 or x.max() > 1:  # normalised inputs: stretch each image to [0, 1]
        axes = tuple(range(1, x.ndim))
        lo, hi = x.min(axes, keepdims=True), x.max(axes, keepdims=True)
        x = (x - lo) / np.where(hi > lo, hi - lo, 1)
    return x


@styled
def sample_grid(images, labels=None, classes: Optional[Sequence[str]] = None, nrow: int = 8, *,
                title: Optional[str] = None, size=None):
    """Images in a grid, ``nrow`` per row, captioned with their class when ``labels`` given."""
    x = _to_hwc(images)
    n = len(x)
    rows, cols = grid_shape(n, nrow)
    fig, axes = new_figure(rows, cols, size=size or (1.15 * cols, 1.15 * rows + (0.45 if title else 0.1)),
                           squeeze=False, layout="compressed")
    for i, ax in enumerate(axes.flat):
        if i >= n:
            fig.delaxes(ax)
            continue
        show_tile(ax, x[i], labels, classes, i)
    if title:
        fig.suptitle(title)
    return fig


@styled
def activation_curves(names: Optional[Sequence[str]] = None, x=None, *,
                      title: str = "Activation functions and their derivatives", size=None):
    """Each activation of ``cnnreport.models.ACTIVATIONS`` (default: all) and its derivative
    (autograd) on ``x`` (default ``linspace(-4, 4, 401)``), side by side.  Modules are put
    in eval mode so RReLU uses its mean slope."""
    import torch
    from .models import ACTIVATIONS
    names = list(names) if names is not None else ACTIVATIONS.names()
    xs = torch.linspace(-4, 4, 401) if x is None else torch.as_tensor(_np(x), dtype=torch.float32)
    fig, (a0, a1) = new_figure(1, 2, size=size or (11.0, 4.0))
    for i, (name, c) in enumerate(zip(names, colors(len(names)))):
        ls = "-" if i % 2 == 0 else "--"  # relu-like curves coincide for x > 0; dashes tell them apart
        act = ACTIVATIONS.build(name).eval()
        t = xs.clone().requires_grad_(True)
        y = act(t)
        (g,) = torch.autograd.grad(y.sum(), t)  # elementwise, so d sum / dx_i = f'(x_i)
        a0.plot(xs.numpy(), y.detach().numpy(), color=c, ls=ls, label=name)
        a1.plot(xs.numpy(), g.numpy(), color=c, ls=ls, label=name)
    for ax, lab in ((a0, "f(x)"), (a1, "f'(x)")):
        ax.axhline(0, color="0.5", lw=0.6, zorder=0)
        ax.axvline(0, color="0.5", lw=0.6, zorder=0)
        ax.set(xlabel="input x", ylabel=lab, title="Activation" if ax is a0 else "Derivative (autograd)")
    fig.legend(*a0.get_legend_handles_labels(), loc="outside right upper")
    fig.suptitle(title)
    return fig
