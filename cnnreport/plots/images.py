"""Pictures: image sample grids, augmented views of training images, first-layer filters
and MLP weights.

Same conventions as :mod:`cnnreport.plots.curves` (shared style, a Figure is returned and
never shown).  Inputs may be numpy arrays or torch tensors; tensors are detached and moved
to the CPU here so callers can pass ``model.conv1.weight`` directly.  Augmented views go
through :class:`cnnreport.core.loader.DeviceLoader`, the exact code path of training, so a
picture shows what the model saw, not a re-implementation.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np

from .style import grid_shape, new_figure, styled, to_numpy


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
    """An axes for a picture: no ticks, grid or frame."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for sp in ax.spines.values():
        sp.set_visible(False)


@styled
def filter_grid(weight, ncols: int = 8, *, title: Optional[str] = None, size=None):
    """First-layer filters (O, C, k, k) as tiles, each min-max normalised on its own:
    RGB for C=3, gray for C=1, the channel mean in gray otherwise."""
    w = to_numpy(weight).astype(float)
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
    w = to_numpy(W).astype(float)[:n]
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
        y = int(to_numpy(labels)[i])
        ax.set_title(classes[y] if classes is not None else str(y), fontsize=8, pad=2,
                     fontweight="normal")


def _to_hwc(images) -> np.ndarray:
    """uint8 (N, H, W[, 3]) or float (N, C, H, W) -> float (N, H, W[, 3]) in [0, 1]."""
    x = to_numpy(images)
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


def augmented_views(images, augment: Sequence = (), *, mean: Sequence[float], std: Sequence[float],
                    seed: int = 0, epoch: int = 0) -> np.ndarray:
    """``images`` uint8 ``(N, H, W[, C])`` as the training loader makes them with ``augment``
    (epoch ``epoch`` of a loader seeded ``seed``), un-normalised back to float
    ``(N, C, H, W)`` in ``[0, 1]`` for display.  Erasing fills with the dataset mean, so
    erased patches show as the mean colour."""
    import torch
    from ..core.loader import DeviceLoader
    x = np.asarray(images)
    loader = DeviceLoader(x, np.zeros(len(x), dtype=np.int64), len(x), mean=mean, std=std,
                          augment=augment, shuffle=False, seed=seed)
    loader.set_epoch(epoch)
    batch, _ = next(iter(loader))  # (N, C, H, W), normalised
    out = batch * loader.std + loader.mean  # back to [0, 1] pixels
    return torch.clamp(out, 0.0, 1.0).numpy()


@styled
def augmentation_grid(images, augments: Mapping[str, Sequence], *, mean: Sequence[float],
                      std: Sequence[float], labels=None, classes: Optional[Sequence[str]] = None,
                      seed: int = 0, title: Optional[str] = "The same images under each augmentation",
                      size=None):
    """One row per entry of ``augments`` (row name -> augmentation list, ``[]`` for none),
    the same ``images`` (uint8 ``(N, H, W[, C])``) in every row, each row drawn through
    :func:`augmented_views` with the same seed.  ``labels`` + ``classes`` caption the
    columns of the first row."""
    views = {name: _to_hwc(augmented_views(images, aug, mean=mean, std=std, seed=seed))
             for name, aug in augments.items()}
    rows, n = len(views), len(images)
    fig, axes = new_figure(rows, n, size=size or (1.05 * n + 1.6, 1.1 * rows + 0.5), squeeze=False,
                           layout="compressed")
    for r, (name, x) in enumerate(views.items()):
        for c in range(n):
            ax = axes[r][c]
            show_tile(ax, x[c], labels if r == 0 else None, classes, c)
            if c == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig
