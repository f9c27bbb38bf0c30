"""Augmented views, the augmentation grid and the loss curves (synthetic data, no training)."""
import math

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere in this process

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cnnreport import plots_data  # noqa: E402

MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)


def images(n=4, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)


def test_views_without_augmentation_round_trip():
    x = images()
    v = plots_data.augmented_views(x, [], mean=MEAN, std=STD)
    assert v.shape == (4, 3, 32, 32)
    np.testing.assert_allclose(v, x.transpose(0, 3, 1, 2) / 255.0, atol=1e-5)


def test_flip_p1_mirrors_and_seed_repeats():
    x = images()
    v = plots_data.augmented_views(x, [{"name": "flip", "p": 1.0}], mean=MEAN, std=STD)
    np.testing.assert_allclose(v, x.transpose(0, 3, 1, 2)[..., ::-1] / 255.0, atol=1e-5)
    a = plots_data.augmented_views(x, ["crop"], mean=MEAN, std=STD, seed=3)
    b = plots_data.augmented_views(x, ["crop"], mean=MEAN, std=STD, seed=3)
    c = plots_data.augmented_views(x, ["crop"], mean=MEAN, std=STD, seed=3, epoch=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_erasing_fills_with_the_mean():
    x = images(8)
    v = plots_data.augmented_views(x, [{"name": "erasing", "p": 1.0}], mean=MEAN, std=STD)
    changed = ~np.isclose(v, x.transpose(0, 3, 1, 2) / 255.0, atol=1e-5)
    assert changed.any()
    for ch, m in enumerate(MEAN):  # every changed pixel holds the channel mean
        np.testing.assert_allclose(v[:, ch][changed[:, ch]], m, atol=1e-5)


def test_grayscale_views():
    x = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    v = plots_data.augmented_views(x, ["flip"], mean=(0.3,), std=(0.3,))
    assert v.shape == (3, 1, 28, 28) and v.min() >= 0 and v.max() <= 1


def test_augmentation_grid_rows_and_columns():
    x = images(5)
    fig = plots_data.augmentation_grid(x, {"none": [], "crop + flip": ["crop", "flip"],
                                           "erasing": ["erasing"]}, mean=MEAN, std=STD,
                                       labels=[0, 1, 2, 0, 1], classes=["a", "b", "c"])
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 15
    assert [ax.get_ylabel() for ax in fig.axes[::5]] == ["none", "crop + flip", "erasing"]
    assert fig.axes[1].get_title() == "b"


def test_loss_of_margin_matches_closed_forms():
    z = np.array([-2.0, 0.0, 3.0])
    k = 10
    ce, dce = plots_data.loss_of_margin("cross_entropy", z, k)
    p = np.exp(z) / (np.exp(z) + k - 1)
    np.testing.assert_allclose(ce, -np.log(p), rtol=1e-5)
    np.testing.assert_allclose(dce, p - 1, rtol=1e-5, atol=1e-6)
    sl1, dsl1 = plots_data.loss_of_margin("smooth_l1", z, k)
    d = z - 1  # the other logits sit at their target 0
    hub = np.where(np.abs(d) < 1, 0.5 * d ** 2, np.abs(d) - 0.5)
    np.testing.assert_allclose(sl1, hub / k, rtol=1e-5)
    np.testing.assert_allclose(dsl1, np.clip(d, -1, 1) / k, rtol=1e-5)
    bce, _ = plots_data.loss_of_margin("bce_with_logits", z, k)
    expect = (np.log1p(np.exp(-z)) + (k - 1) * math.log(2)) / k
    np.testing.assert_allclose(bce, expect, rtol=1e-5)


def test_mse_gradient_vanishes_when_confidently_wrong():
    _, g = plots_data.loss_of_margin("mse", [-12.0, 0.0], 10)
    _, gce = plots_data.loss_of_margin("cross_entropy", [-12.0], 10)
    assert abs(g[0]) < 1e-5 < abs(g[1])
    assert gce[0] == pytest.approx(-1.0, abs=1e-4)


def test_loss_curves_figure():
    fig = plots_data.loss_curves(["cross_entropy", "mse", "smooth_l1", "bce_with_logits"],
                                 z=np.linspace(-4, 4, 9))
    assert isinstance(fig, Figure)
    a0, a1 = fig.axes[:2]
    assert len([ln for ln in a0.lines if len(ln.get_xdata()) == 9]) == 4
    assert len([ln for ln in a1.lines if len(ln.get_xdata()) == 9]) == 4
