"""Our runs side by side and against the reports: bars, scatters, and our curves against a
report's printed ones (solid ours, dashed theirs), on synthetic Results."""
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnreport import plots
from cnnreport.plots.style import new_figure
from cnnreport.core.store import Result
from synthetic_runs import no_pyplot_leaks, renders, runs  # noqa: F401 (fixtures)


def test_compare_bar():
    fig = renders(plots.compare_bar(["a", "b", "c"], [0.8, None, 85.0], [0.5, None, 1.0],
                                    reference={"a": 82.0, "c": 86.0}, title="audit"))
    ax = fig.axes[0]
    assert len(ax.patches) == 2  # the missing value gets no bar, only an "n/a" note
    assert any(t.get_text() == "n/a" for t in ax.texts)
    assert len(ax.lines[-1].get_xdata()) == 2  # two reported markers
    renders(plots.compare_bar(["long model name %d" % i for i in range(8)], np.arange(8.0)))
    with pytest.raises(ValueError):
        plots.compare_bar(["a"], [1.0, 2.0])


def test_scatters(runs):
    fig = renders(plots.scatter_params_accuracy(runs))
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.collections) == 2  # the diverged run has no test acc
    assert "not shown" in ax.get_title(loc="right")
    assert ax.get_legend() is not None
    fig = renders(plots.scatter_time_accuracy(runs, labels=["p", "q", "r"], annotate=True))
    assert "time (s" in fig.axes[0].get_xlabel() and fig.axes[0].get_legend() is None
    assert {t.get_text() for t in fig.axes[0].texts} >= {"p", "q"}


def _result(key, val_acc, val_loss):
    n = len(val_acc)
    hist = {"epoch": list(range(1, n + 1)), "val_acc": val_acc, "val_loss": val_loss,
            "train_acc": val_acc, "train_loss": val_loss}
    return Result(key=key, config={"name": "t", "model": "resnet9"}, history=hist,
                  steps={"loss": [], "lr": []})


def test_ours_solid_and_reference_dashed_in_percent():
    runs = [_result("a", [0.5, 0.6, 0.7], [1.2, 1.0, 0.9]), _result("b", [0.4, math.nan, 0.65], [1.4, 1.1, 1.0])]
    ref = {"with": [66.29, 66.05, 73.11, 77.46], "without": [49.60, 64.64]}
    fig = plots.curves_vs_reference(runs, "val_acc", labels=["with", "without"], reference=ref)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    solid = [ln for ln in ax.lines if ln.get_linestyle() == "-"]
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(solid) == 2 and len(dashed) == 2
    assert max(solid[0].get_ydata()) == 70.0          # fractions drawn in percent
    assert len(solid[1].get_xdata()) == 2              # the NaN epoch is left out
    assert list(dashed[0].get_ydata()) == ref["with"]  # the reference as given, its own length
    assert fig.legends and ax.get_legend() is not None


def test_loss_without_reference_and_on_given_axes():
    fig, ax = new_figure()
    out = plots.curves_vs_reference([_result("a", [0.5], [1.2]), _result("b", [0.4], [1.3])],
                                    "val_loss", labels=["x", "y"], ax=ax)
    assert out is fig
    assert [list(ln.get_ydata()) for ln in ax.lines] == [[1.2], [1.3]]  # loss is not rescaled
    assert ax.get_ylabel() == "validation loss"
