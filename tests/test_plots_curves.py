"""Curves over a run (training curves, one metric, per-step loss, lr schedules) and the
one smoothing, on synthetic Results (no training); diverged runs and NaNs included."""
import numpy as np
import pytest

from cnnreport import plots
from synthetic_runs import labelled, no_pyplot_leaks, renders, runs, store  # noqa: F401 (fixtures)


def test_training_curves(runs):
    fig = renders(plots.training_curves(runs, title="demo"))
    loss, acc = fig.axes
    # loss: 2 splits x 3 runs + 1 diverged marker; acc: + test curves of a1 and c3 (b2 has none)
    assert len(loss.lines) == 7 and len(acc.lines) == 9
    assert "accuracy (%)" in acc.get_ylabel() and loss.get_xlabel() == "epoch"
    ymax = max(np.nanmax(ln.get_ydata()) for ln in acc.lines)
    assert 50 < ymax <= 100  # fractions drawn in percent
    assert any("diverged" in t.get_text() for t in fig.legends[0].get_texts())
    assert any("test (monitor only)" in t.get_text() for t in loss.get_legend().get_texts())
    assert len(renders(plots.training_curves(runs[0], metrics=("acc",), labels=["x"])).axes) == 1
    renders(plots.training_curves(runs, logy_loss=True, show_test=False))
    with pytest.raises(ValueError):
        plots.training_curves(runs, labels=["too", "few"])


def test_metric_curves(runs):
    fig = renders(plots.metric_curves(runs, "val_acc"))
    assert len(labelled(fig.axes[0])) == 3
    fig = renders(plots.metric_curves(runs, "step_loss"))
    assert fig.axes[0].get_xlabel() == "optimizer step"


def test_step_loss(runs):
    fig = renders(plots.step_loss(runs, smooth=10))
    top, bottom = fig.axes[:2]
    assert len(labelled(top)) == 3 and len(bottom.lines) == 3
    assert bottom.get_ylabel() == "learning rate"
    assert top.child_axes  # an epoch axis, since all runs share steps per epoch
    assert len(renders(plots.step_loss(runs[:1], show_lr=False, logy=True)).axes) == 1


def test_lr_curves():
    curves = {"cosine": np.cos(np.linspace(0, np.pi / 2, 100)) * 0.1, "const": [0.05] * 80}
    fig = renders(plots.lr_curves(curves, steps_per_epoch=20))
    assert len(fig.axes[0].get_legend().get_texts()) == 2
    assert len(labelled(fig.axes[0])) == 2


def test_store_roundtrip_plots(store):
    res = list(store)  # NaN/inf come back as None
    assert any(v is None for v in res[-1].history["train_loss"])
    renders(plots.training_curves(res))
    renders(plots.step_loss(res))


def test_moving_average_skips_nan_and_averages_what_exists_at_the_edges():
    y = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    np.testing.assert_allclose(plots.moving_average(y, 3), [1.5, 1.5, 3.0, 4.5, 4.5])
    assert np.isnan(plots.moving_average(np.array([np.nan, np.nan, 1.0]), 2)[0])


def test_moving_average_window_none_one_or_too_long():
    y = np.array([1.0, np.inf, 3.0])
    assert plots.moving_average(y, None) is y and plots.moving_average(y, 1) is y  # untouched
    assert plots.moving_average(np.zeros(0), 5).size == 0
    long = plots.moving_average(np.array([1.0, 2.0, 3.0, 4.0]), 50)  # cut to the series
    assert long.shape == (4,) and np.isfinite(long).all()
    with pytest.raises(TypeError):
        plots.moving_average(y)  # the window is always said
