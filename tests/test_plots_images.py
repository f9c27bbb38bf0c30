"""Pictures: filters, MLP weights, sample grids, and augmented views made by the training
loader (synthetic images, no training)."""
import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnreport import plots
from synthetic_runs import CLASSES, no_pyplot_leaks, renders  # noqa: F401 (fixtures)


def test_filter_grid_and_weights():
    torch = pytest.importorskip("torch")
    w = torch.randn(16, 3, 5, 5, requires_grad=True)
    fig = renders(plots.filter_grid(w, ncols=8))
    img = fig.axes[0].images[0].get_array()
    assert len(fig.axes) == 1 and img.shape == (2 * 6 - 1, 8 * 6 - 1, 3)
    assert 0 <= img.min() and img.max() <= 1
    gray = renders(plots.filter_grid(np.random.randn(6, 1, 3, 3), ncols=4)).axes[0].images[0]
    assert gray.get_array().ndim == 2
    renders(plots.filter_grid(np.zeros((4, 8, 3, 3))))  # constant filters, C not 1 or 3
    fig = renders(plots.weight_images(np.random.randn(32, 784), n=10, ncols=5))
    assert len(fig.axes) == 2 and fig.axes[0].images[0].get_array().shape == (2 * 30 - 2, 5 * 30 - 2)
    with pytest.raises(ValueError):
        plots.weight_images(np.zeros((3, 100)))


def test_sample_grid():
    torch = pytest.importorskip("torch")
    rgb = np.random.randint(0, 255, (10, 32, 32, 3), dtype=np.uint8)
    fig = renders(plots.sample_grid(rgb, labels=np.arange(10), classes=CLASSES, nrow=4, title="aug"))
    assert len(fig.axes) == 10 and all(len(ax.images) == 1 for ax in fig.axes)
    assert fig.axes[3].get_title() == "class3"
    gray = renders(plots.sample_grid(np.zeros((5, 28, 28), np.uint8)))
    assert gray.axes[0].images[0].get_array().ndim == 2
    norm = renders(plots.sample_grid(torch.randn(6, 3, 32, 32), nrow=3))  # normalised floats
    assert len(norm.axes) == 6 and norm.axes[0].images[0].get_array().shape == (32, 32, 3)


MEAN, STD = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)


def images(n=4, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)


def test_views_without_augmentation_round_trip():
    x = images()
    v = plots.augmented_views(x, [], mean=MEAN, std=STD)
    assert v.shape == (4, 3, 32, 32)
    np.testing.assert_allclose(v, x.transpose(0, 3, 1, 2) / 255.0, atol=1e-5)


def test_flip_p1_mirrors_and_seed_repeats():
    x = images()
    v = plots.augmented_views(x, [{"name": "flip", "p": 1.0}], mean=MEAN, std=STD)
    np.testing.assert_allclose(v, x.transpose(0, 3, 1, 2)[..., ::-1] / 255.0, atol=1e-5)
    a = plots.augmented_views(x, ["crop"], mean=MEAN, std=STD, seed=3)
    b = plots.augmented_views(x, ["crop"], mean=MEAN, std=STD, seed=3)
    c = plots.augmented_views(x, ["crop"], mean=MEAN, std=STD, seed=3, epoch=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_erasing_fills_with_the_mean():
    x = images(8)
    v = plots.augmented_views(x, [{"name": "erasing", "p": 1.0}], mean=MEAN, std=STD)
    changed = ~np.isclose(v, x.transpose(0, 3, 1, 2) / 255.0, atol=1e-5)
    assert changed.any()
    for ch, m in enumerate(MEAN):  # every changed pixel holds the channel mean
        np.testing.assert_allclose(v[:, ch][changed[:, ch]], m, atol=1e-5)


def test_grayscale_views():
    x = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    v = plots.augmented_views(x, ["flip"], mean=(0.3,), std=(0.3,))
    assert v.shape == (3, 1, 28, 28) and v.min() >= 0 and v.max() <= 1


def test_augmentation_grid_rows_and_columns():
    x = images(5)
    fig = plots.augmentation_grid(x, {"none": [], "crop + flip": ["crop", "flip"],
                                      "erasing": ["erasing"]}, mean=MEAN, std=STD,
                                  labels=[0, 1, 2, 0, 1], classes=["a", "b", "c"])
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 15
    assert [ax.get_ylabel() for ax in fig.axes[::5]] == ["none", "crop + flip", "erasing"]
    assert fig.axes[1].get_title() == "b"
