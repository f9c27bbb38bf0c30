"""factor_effects: one panel per factor, tolerant of runs a profile did not make."""
import numpy as np
import pandas as pd

from cnnreport import plots


def test_factor_effects_handles_missing_diverged_and_categories():
    table = pd.DataFrame({
        "lr": [0.01, 0.001, 0.0001], "scheduler": [False, True, False],
        "acc": [np.nan, 60.0, 25.0], "claimed_acc": [10.0, 90.5, 91.6],
        "status": ["diverged", "ok", "ok"]}, index=["run 3", "run 4", "run 6"])
    panels = [dict(title="lr", x="lr", logx=True, series={"Adam": ["run 3", "run 4", "run 6", "run 99"]}),
              dict(title="scheduler", x="scheduler", series={"Adam": ["run 6", "run 4"]}),
              dict(title="absent", x="lr", series={"SGD": ["run 17"]})]
    fig = plots.factor_effects(table, panels, "acc", "claimed_acc", ylabel="test accuracy (%)", title="t")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 3
    assert axes[0].get_xscale() == "log"
    assert [t.get_text() for t in axes[1].get_xticklabels()] == ["off", "on"]
    assert any("no run of ours" in t.get_text() for t in axes[2].texts)
    # the diverged run is a cross, not a point on our line
    ours = axes[0].lines[0]
    assert list(ours.get_ydata()) == [25.0, 60.0]
