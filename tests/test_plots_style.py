"""The shared figure style, legend labels and input conversions of :mod:`cnnreport.plots.style`."""
import matplotlib
import numpy as np
import pytest

from cnnreport import plots
from cnnreport.plots.style import grid_shape, run_labels, to_numpy
from synthetic_runs import no_pyplot_leaks, runs  # noqa: F401 (fixtures)


def test_figures_display_and_style_is_local(runs):
    before = dict(matplotlib.rcParams)
    fig = plots.training_curves(runs)
    assert fig._repr_png_().startswith(b"\x89PNG")  # shown as an image even under Agg in a kernel
    assert dict(matplotlib.rcParams) == before  # the book style never leaks into the caller


def test_run_labels(runs):
    labs = run_labels(runs)
    assert len(set(labs)) == 3 and all("optimizer=" in lab for lab in labs)


def test_to_numpy_and_grid_shape():
    torch = pytest.importorskip("torch")
    w = torch.ones(2, 3, requires_grad=True)
    assert isinstance(to_numpy(w), np.ndarray) and to_numpy(w).shape == (2, 3)
    assert to_numpy([1, 2]).tolist() == [1, 2]
    assert grid_shape(5, 8) == (1, 5) and grid_shape(9, 4) == (3, 4) and grid_shape(3, 0) == (3, 1)
