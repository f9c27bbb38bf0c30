"""Plots of what a run is fed and what it optimises: augmented images and loss functions.

Same conventions as :mod:`cnnreport.plots` (shared style, a Figure is returned and never
shown).  Augmented views go through :class:`cnnreport.loader.DeviceLoader`, the exact
code path of training, so a picture shows what the model saw, not a re-implementation.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np

from .plot_style import colors, new_figure, styled
from .plots_extra import _to_hwc, show_tile


def augmented_views(images, augment: Sequence = (), *, mean: Sequence[float], std: Sequence[float],
                    seed: int = 0, epoch: int = 0) -> np.ndarray:
    """``images`` uint8 ``(N, H, W[, C])`` as the training loader makes them with ``augment``
    (epoch ``epoch`` of a loader seeded ``seed``), un-normalised back to float
    ``(N, C, H, W)`` in ``[0, 1]`` for display.  Erasing fills with the dataset mean, so
    erased patches show as the mean colour."""
    import torch
    from .loader import DeviceLoader
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


def loss_of_margin(name: str, z, num_classes: int = 10, **loss_args):
    """Loss and its derivative when the true class's logit is ``z`` and every other logit is
    0, for the loss ``name`` of :data:`cnnreport.components.LOSSES` (one row per value of
    ``z``, averaged as the loss itself averages).  Returns two float arrays like ``z``."""
    import torch
    from .components import build_loss
    fn = build_loss(name, **loss_args)
    t = torch.as_tensor(np.asarray(z, dtype=np.float32))
    vals, grads = [], []
    for v in t:  # one sample per value: the losses average over the batch
        zi = v.clone().requires_grad_(True)
        logits = torch.cat([zi[None], torch.zeros(num_classes - 1)])[None]  # (1, K)
        loss = fn(logits, torch.zeros(1, dtype=torch.long))
        (g,) = torch.autograd.grad(loss, zi)
        vals.append(float(loss.detach()))
        grads.append(float(g))
    return np.array(vals), np.array(grads)


@styled
def loss_curves(names: Sequence[str], z=None, num_classes: int = 10, *, labels=None,
                title: Optional[str] = "Each loss against the true class's logit", size=None):
    """Loss (left) and its derivative with respect to the true class's logit (right) for
    each loss name, the other ``num_classes - 1`` logits held at 0 (see
    :func:`loss_of_margin`).  A derivative near 0 on the left side means a confidently
    wrong prediction gets almost no push."""
    z = np.linspace(-8, 8, 161) if z is None else np.asarray(z, dtype=float)
    labs = list(labels) if labels is not None else list(names)
    fig, (a0, a1) = new_figure(1, 2, size=size or (11.0, 4.0))
    for i, (name, lab, c) in enumerate(zip(names, labs, colors(len(names)))):
        val, grad = loss_of_margin(name, z, num_classes)
        ls = "-" if i % 2 == 0 else "--"
        a0.plot(z, val, color=c, ls=ls, label=lab)
        a1.plot(z, grad, color=c, ls=ls, label=lab)
    for ax, ylab, t in ((a0, "loss", "Loss"), (a1, "d loss / d z_true", "Derivative (autograd)")):
        ax.axhline(0, color="0.5", lw=0.6, zorder=0)
        ax.axvline(0, color="0.5", lw=0.6, zorder=0)
        ax.set(xlabel="logit of the true class (others 0)", ylabel=ylab, title=t)
    fig.legend(*a0.get_legend_handles_labels(), loc="outside right upper")
    if title:
        fig.suptitle(title)
    return fig
