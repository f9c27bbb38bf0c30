"""The functions a model is built from, drawn with their derivatives: activations and losses.

Derivatives come from autograd on the library's own modules (:data:`cnnreport.models.ACTIVATIONS`,
:data:`cnnreport.core.components.LOSSES`), so the curves are those of the code that trains, not
of formulas typed again.  Same conventions as :mod:`cnnreport.plots.curves`.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .style import colors, new_figure, styled, to_numpy


@styled
def activation_curves(names: Optional[Sequence[str]] = None, x=None, *,
                      title: str = "Activation functions and their derivatives", size=None):
    """Each activation of ``cnnreport.models.ACTIVATIONS`` (default: all) and its derivative
    (autograd) on ``x`` (default ``linspace(-4, 4, 401)``), side by side.  Modules are put
    in eval mode so RReLU uses its mean slope."""
    import torch
    from ..models import ACTIVATIONS
    names = list(names) if names is not None else ACTIVATIONS.names()
    xs = torch.linspace(-4, 4, 401) if x is None else torch.as_tensor(to_numpy(x), dtype=torch.float32)
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


def loss_of_margin(name: str, z, num_classes: int = 10, **loss_args):
    """Loss and its derivative when the true class's logit is ``z`` and every other logit is
    0, for the loss ``name`` of :data:`cnnreport.core.components.LOSSES` (one row per value of
    ``z``, averaged as the loss itself averages).  Returns two float arrays like ``z``."""
    import torch
    from ..core.components import LOSSES
    fn = LOSSES.build(name, **loss_args)
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
