"""Loss bands, the min-max band overlay and the landscape probes on synthetic records (no training)."""
import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from cnnreport import plots
from cnnreport.analysis import landscape as LA
from cnnreport.core.landscape import loss_band
from cnnreport.core.store import Result
from synthetic_runs import labelled, no_pyplot_leaks, renders  # noqa: F401 (fixtures)


def _result(lr, losses):
    return Result(key=f"k{lr}", config={"lr": lr}, steps={"loss": losses, "lr": [lr] * len(losses)})


def _probe(n=6, factors=(0.5, 1.0, 2.0), lr=0.1, scale=1.0):
    """A record shaped like landscape_or_load's, with gradient change = scale * eta * ||g||
    (a quadratic along g with curvature ``scale``), NaN at one probe."""
    gnorm = np.linspace(2.0, 1.0, n)
    gp = [[scale * f * lr * g for f in factors] for g in gnorm]
    gp[2][0] = math.nan
    loss = np.linspace(2.3, 1.0, n)
    return {"step": list(range(0, 5 * n, 5)), "lr": [lr] * n, "grad_norm": gnorm.tolist(),
            "eta_factors": list(factors), "grad_pred": gp, "loss": loss.tolist(),
            "loss_min": (loss - 0.1 * scale).tolist(), "loss_max": (loss + 0.2 * scale).tolist(),
            "gradpred_min": [np.nanmin(r) for r in gp], "gradpred_max": [np.nanmax(r) for r in gp],
            "beta_smooth": [scale] * n}


def test_band_measures_and_common_length():
    a = loss_band([_result(1e-3, [3.0, 2.0, 1.0, 0.5]), _result(1e-4, [2.0, 2.5, float("nan"), 1.5])])
    b = loss_band([_result(1e-3, [2.2, 2.1, 2.0])])
    assert LA.common_length({"a": a, "b": b}) == 3
    m = LA.band_measures(a, n=3)
    assert m["width"] == pytest.approx((1.0 + 0.5 + 0.0) / 3)
    assert m["top"] == pytest.approx((3.0 + 2.5 + 1.0) / 3) and m["bottom"] == pytest.approx(5 / 3)
    assert m["steps"] == 3 and LA.band_measures(a)["steps"] == 4
    empty = LA.band_measures({"min": [math.nan], "max": [math.nan]})
    assert empty["steps"] == 0 and math.isnan(empty["width"])


def test_loss_bands_figure():
    a = loss_band([_result(1e-3, [3.0, 2.0, 1.0, 0.5]), _result(1e-4, [2.0, 2.5, 1.2, 1.5])])
    b = loss_band([_result(1e-3, [2.2, 2.1, 2.0]), _result(1e-4, [2.4, 2.3, 2.1])])
    fig = plots.loss_bands({"plain": a, "BN": b}, smooth=2)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.collections) == 2 and len(ax.lines) == 2
    assert all(len(line.get_xdata()) == 3 for line in ax.lines)  # cut to the common steps
    fig = plots.loss_bands({"plain": a, "BN": b}, common=False, show_mean=False, logy=True)
    assert not fig.axes[0].lines and fig.axes[0].get_yscale() == "log"


def test_probe_betas_and_summary():
    p = _probe(scale=3.0)
    betas = LA.probe_betas(p)
    assert betas.shape == (6, 3)
    assert np.allclose(betas[np.isfinite(betas)], 3.0) and np.isnan(betas[2, 0])
    s = LA.probe_summary(p)
    assert s["beta_smooth"] == pytest.approx(3.0) and s["loss_range"] == pytest.approx(0.9)
    assert s["gradpred_max"] == pytest.approx(np.median([3.0 * 2.0 * 0.1 * g for g in np.linspace(2, 1, 6)]))
    assert LA.probe_summary(p, skip=3)["gradpred_max"] < s["gradpred_max"]
    empty = {k: [] for k in ("lr", "grad_norm", "grad_pred", "loss_min", "loss_max", "gradpred_max",
                             "beta_smooth")}
    empty["eta_factors"] = [1.0, 2.0]
    assert LA.probe_betas(empty).shape == (0, 2)
    assert all(math.isnan(v) for v in LA.probe_summary(empty).values())


def test_probe_measures_figure():
    fig = plots.probe_measures({"plain": _probe(scale=5.0), "BN": _probe(scale=1.0)}, smooth=2, title="t")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    loss_ax, grad_ax, beta_ax = fig.axes
    assert [len(ax.collections) for ax in fig.axes] == [2, 2, 2]
    assert len(loss_ax.lines) == 2 and not grad_ax.lines and len(beta_ax.lines) == 2
    assert loss_ax.get_yscale() == "linear" and grad_ax.get_yscale() == beta_ax.get_yscale() == "log"
    assert list(beta_ax.lines[0].get_xdata()) == [1, 6, 11, 16, 21, 26]
    assert beta_ax.get_xlabel() == "optimizer step" and loss_ax.get_xlabel() == ""
    side = plots.probe_measures({"BN": _probe()}, stacked=False)
    assert all(ax.get_xlabel() == "optimizer step" for ax in side.axes)
    # A zero gradient change (eta = 0) must not break the log axis.
    p = _probe()
    p["grad_pred"][0][0], p["gradpred_min"][0] = 0.0, 0.0
    assert isinstance(plots.probe_measures({"x": p}, logy=(True, True, True)), Figure)


def test_band():
    x = np.arange(50)
    fig = renders(plots.band(x, np.sin(x) - 1, np.sin(x) + 1, "a", mid=np.sin(x), ylabel="loss"))
    ax = fig.axes[0]
    same = plots.band(x, np.zeros(50), np.ones(50), "b", ax=ax)
    assert same is fig and len(ax.collections) == 2 and len(labelled(ax)) == 1
    assert ax.collections[0].get_facecolor()[0].tolist() != ax.collections[1].get_facecolor()[0].tolist()
    logfig = renders(plots.band(x, np.linspace(-1, 1, 50), np.linspace(1, 10, 50), logy=True))
    assert logfig.axes[0].get_yscale() == "log"
