"""Activation and loss functions with their autograd derivatives, against closed forms."""
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnreport import plots
from synthetic_runs import labelled, no_pyplot_leaks, renders  # noqa: F401 (fixtures)


def test_activation_curves():
    pytest.importorskip("torch")
    from cnnreport.models import ACTIVATIONS
    fig = renders(plots.activation_curves())
    f, d = fig.axes[:2]
    n = len(ACTIVATIONS.names())
    assert len(labelled(f)) == n and len(labelled(d)) == n
    relu = next(ln for ln in labelled(d) if ln.get_label() == "relu")
    g = relu.get_ydata()
    assert g[0] == 0 and g[-1] == 1  # derivative of relu by autograd
    fig = renders(plots.activation_curves(["tanh", "sigmoid"], x=np.linspace(-2, 2, 11)))
    assert len(labelled(fig.axes[0])) == 2 and len(labelled(fig.axes[0])[0].get_xdata()) == 11


def test_loss_of_margin_matches_closed_forms():
    z = np.array([-2.0, 0.0, 3.0])
    k = 10
    ce, dce = plots.loss_of_margin("cross_entropy", z, k)
    p = np.exp(z) / (np.exp(z) + k - 1)
    np.testing.assert_allclose(ce, -np.log(p), rtol=1e-5)
    np.testing.assert_allclose(dce, p - 1, rtol=1e-5, atol=1e-6)
    sl1, dsl1 = plots.loss_of_margin("smooth_l1", z, k)
    d = z - 1  # the other logits sit at their target 0
    hub = np.where(np.abs(d) < 1, 0.5 * d ** 2, np.abs(d) - 0.5)
    np.testing.assert_allclose(sl1, hub / k, rtol=1e-5)
    np.testing.assert_allclose(dsl1, np.clip(d, -1, 1) / k, rtol=1e-5)
    bce, _ = plots.loss_of_margin("bce_with_logits", z, k)
    expect = (np.log1p(np.exp(-z)) + (k - 1) * math.log(2)) / k
    np.testing.assert_allclose(bce, expect, rtol=1e-5)


def test_mse_gradient_vanishes_when_confidently_wrong():
    _, g = plots.loss_of_margin("mse", [-12.0, 0.0], 10)
    _, gce = plots.loss_of_margin("cross_entropy", [-12.0], 10)
    assert abs(g[0]) < 1e-5 < abs(g[1])
    assert gce[0] == pytest.approx(-1.0, abs=1e-4)


def test_loss_curves_figure():
    fig = plots.loss_curves(["cross_entropy", "mse", "smooth_l1", "bce_with_logits"],
                            z=np.linspace(-4, 4, 9))
    assert isinstance(fig, Figure)
    a0, a1 = fig.axes[:2]
    assert len([ln for ln in a0.lines if len(ln.get_xdata()) == 9]) == 4
    assert len([ln for ln in a1.lines if len(ln.get_xdata()) == 9]) == 4
