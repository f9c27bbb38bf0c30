"""curves_vs_reference on synthetic Results: our curves solid, reported ones dashed."""
import math

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from cnnreport.plot_style import new_figure  # noqa: E402
from cnnreport.plots_training import curves_vs_reference  # noqa: E402
from cnnreport.store import Result  # noqa: E402


def _result(key, val_acc, val_loss):
    n = len(val_acc)
    hist = {"epoch": list(range(1, n + 1)), "val_acc": val_acc, "val_loss": val_loss,
            "train_acc": val_acc, "train_loss": val_loss}
    return Result(key=key, config={"name": "t", "model": "resnet9"}, history=hist,
                  steps={"loss": [], "lr": []})


def test_ours_solid_and_reference_dashed_in_percent():
    runs = [_result("a", [0.5, 0.6, 0.7], [1.2, 1.0, 0.9]), _result("b", [0.4, math.nan, 0.65], [1.4, 1.1, 1.0])]
    ref = {"with": [66.29, 66.05, 73.11, 77.46], "without": [49.60, 64.64]}
    fig = curves_vs_reference(runs, "val_acc", labels=["with", "without"], reference=ref)
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
    out = curves_vs_reference([_result("a", [0.5], [1.2]), _result("b", [0.4], [1.3])], "val_loss",
                              labels=["x", "y"], ax=ax)
    assert out is fig
    assert [list(ln.get_ydata()) for ln in ax.lines] == [[1.2], [1.3]]  # loss is not rescaled
    assert ax.get_ylabel() == "validation loss"
