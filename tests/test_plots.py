"""Plots and widgets on synthetic Results (no training): every function returns a Figure
with the expected axes/lines/images, diverged runs and NaNs included."""
import math

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere in this process

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cnnreport import plots  # noqa: E402
from cnnreport.explorer import Explorer, results_table, static_figure_switcher  # noqa: E402
from cnnreport.plot_style import run_labels  # noqa: E402
from cnnreport.store import Result, ResultStore  # noqa: E402

K = 10
CLASSES = [f"class{i}" for i in range(K)]
SPE = 20  # steps per epoch


def make_result(key, *, epochs=8, name="ch1", model="basic_cnn", optimizer="sgd", lr=0.01,
                activation="relu", diverge_at=None, test_curve=True, eval_every=1, seed=0):
    """A plausible Result; ``diverge_at`` (epoch) makes the loss NaN from there on."""
    rng = np.random.default_rng(seed)
    ep = np.arange(1, epochs + 1)
    tl = 2.3 * np.exp(-ep / 4) + 0.3 + 0.02 * rng.standard_normal(epochs)
    vl = tl + 0.1 + 0.02 * ep
    ta = 1 - tl / 3
    va = ta - 0.05
    hist = {"epoch": ep.tolist(), "train_loss": tl.tolist(), "train_acc": ta.tolist(),
            "val_loss": vl.tolist(), "val_acc": va.tolist(),
            "test_acc_curve": (va - 0.01).tolist() if test_curve else [math.nan] * epochs,
            "lr": [lr] * epochs, "epoch_time": [1.5] * epochs, "images_per_sec": [3000.0] * epochs}
    if eval_every > 1:
        for k in ("val_loss", "val_acc", "test_acc_curve"):
            hist[k] = [v if (i + 1) % eval_every == 0 else math.nan for i, v in enumerate(hist[k])]
    n = epochs * SPE
    sl = (2.3 * np.exp(-np.arange(n) / (4 * SPE)) + 0.3 + 0.1 * rng.standard_normal(n)).tolist()
    steps = {"loss": sl, "lr": list(np.linspace(lr, lr / 10, n))}
    extra = dict(status="ok", best_epoch=int(np.argmax(va)) + 1, test_acc=float(va.max() - 0.01),
                 test_loss=0.5, per_class_acc=list(rng.uniform(0.6, 0.95, K)),
                 confusion=(np.eye(K, dtype=int) * 80 + rng.integers(0, 5, (K, K))).tolist())
    if diverge_at is not None:
        d = diverge_at
        hist = {k: v[:d] for k, v in hist.items()}
        hist["train_loss"][-1] = math.nan  # the epoch that blew up
        for k in ("val_loss", "val_acc", "test_acc_curve"):
            hist[k] = hist[k][:d - 1]  # no evaluation after the bad epoch
        steps = {"loss": sl[:d * SPE - 5] + [1e6, math.inf, math.nan], "lr": steps["lr"][:d * SPE - 2]}
        extra = dict(status="diverged", reason="non-finite loss", diverged_step=d * SPE - 3)
    return Result(key=key, config={"name": name, "dataset": "cifar10", "model": model,
                                   "model_args": {"activation": activation}, "optimizer": optimizer,
                                   "lr": lr, "batch_size": 128, "epochs": epochs, "seed": seed,
                                   "augment": ["flip"], "device": "auto"},
                  history=hist, steps=steps, classes=CLASSES, num_params=100_000 * (seed + 1),
                  train_time=30.0 * (seed + 1), total_time=35.0 * (seed + 1), n_train=SPE * 128,
                  stopped_epoch=len(hist["epoch"]), **extra)


@pytest.fixture
def runs():
    return [make_result("a1", optimizer="sgd", lr=0.01, seed=0),
            make_result("b2", optimizer="adam", lr=0.001, seed=1, eval_every=2, test_curve=False),
            make_result("c3", optimizer="adam", lr=0.1, seed=2, diverge_at=3)]


@pytest.fixture(autouse=True)
def no_pyplot_leaks():
    """Plot functions hand back detached figures: nothing piles up in pyplot."""
    before = set(plt.get_fignums())
    yield
    assert set(plt.get_fignums()) == before
    plt.close("all")


def labelled(ax):
    return [ln for ln in ax.lines if not ln.get_label().startswith("_")]


def renders(fig):
    assert isinstance(fig, Figure)
    fig.canvas.draw()  # catches errors that only show at draw time
    return fig


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


def test_figures_display_and_style_is_local(runs):
    before = dict(matplotlib.rcParams)
    fig = plots.training_curves(runs)
    assert fig._repr_png_().startswith(b"\x89PNG")  # shown as an image even under Agg in a kernel
    assert dict(matplotlib.rcParams) == before  # the book style never leaks into the caller


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


def test_confusion_and_per_class(runs):
    fig = renders(plots.confusion_matrix(runs[0].confusion, CLASSES))
    assert len(fig.axes) == 2 and len(fig.axes[0].images) == 1 and len(fig.axes[0].texts) == K * K
    assert fig.axes[0].images[0].get_array().max() <= 100
    renders(plots.confusion_matrix(runs[0], normalize=False))
    fig = renders(plots.per_class_accuracy(runs[:2], CLASSES))
    assert len(fig.axes[0].patches) == 2 * K
    fig = renders(plots.per_class_accuracy(np.full((3, 4), 0.5), ["a", "b", "c", "d"], ["x", "y", "z"]))
    assert len(fig.axes[0].patches) == 12 and fig.axes[0].patches[0].get_height() == 50
    # a diverged run has no per-class numbers: an empty group, no crash
    assert len(renders(plots.per_class_accuracy(runs, CLASSES)).axes[0].patches) == 3 * K
    renders(plots.per_class_accuracy([], CLASSES))


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


def test_band():
    x = np.arange(50)
    fig = renders(plots.band(x, np.sin(x) - 1, np.sin(x) + 1, "a", mid=np.sin(x), ylabel="loss"))
    ax = fig.axes[0]
    same = plots.band(x, np.zeros(50), np.ones(50), "b", ax=ax)
    assert same is fig and len(ax.collections) == 2 and len(labelled(ax)) == 1
    assert ax.collections[0].get_facecolor()[0].tolist() != ax.collections[1].get_facecolor()[0].tolist()
    logfig = renders(plots.band(x, np.linspace(-1, 1, 50), np.linspace(1, 10, 50), logy=True))
    assert logfig.axes[0].get_yscale() == "log"


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


def test_run_labels_and_table(runs):
    labs = run_labels(runs)
    assert len(set(labs)) == 3 and all("optimizer=" in lab for lab in labs)
    df = results_table(runs)
    assert list(df["status"]) == ["ok", "ok", "diverged"]
    assert df["test acc (%)"].iloc[0] == pytest.approx(100 * runs[0].test_acc, abs=0.01)
    assert math.isnan(df["test acc (%)"].iloc[2]) and df["params"].iloc[1] == 200_000
    df = results_table(runs, columns=("run", "model_args.activation", "augment", "lr", "key"))
    assert list(df.columns) == ["run", "model_args.activation", "augment", "lr", "key"]
    assert df["model_args.activation"].iloc[0] == "relu" and df["lr"].iloc[2] == 0.1


@pytest.fixture
def store(tmp_path):
    st = ResultStore(tmp_path / "results")
    st.put(make_result("k1", name="ch2", optimizer="sgd", lr=0.01, activation="relu"))
    st.put(make_result("k2", name="ch2", optimizer="adam", lr=0.001, activation="gelu", seed=1))
    st.put(make_result("k3", name="ch2", optimizer="adam", lr=0.01, activation="relu", seed=2))
    st.put(make_result("k4", name="ch3", optimizer="adam", lr=0.1, diverge_at=3, seed=3))
    return st


def test_store_roundtrip_plots(store):
    res = list(store)  # NaN/inf come back as None
    assert any(v is None for v in res[-1].history["train_loss"])
    renders(plots.training_curves(res))
    renders(plots.step_loss(res))


def test_explorer(store):
    ex = Explorer(store)
    assert set(ex.filters) == {"name", "optimizer", "lr", "model_args.activation", "seed"}
    assert [o[1] for o in ex.filters["optimizer"].options] == [None, "adam", "sgd"]
    assert [o[1] for o in ex.filters["lr"].options] == [None, "0.001", "0.01", "0.1"]  # numeric order
    assert len(ex.selected) == 4 and len(ex.out.outputs) == 1
    assert "4 of 4" in ex.count.value and ex.table.value.count("<tr") == 5
    ex.set_filter("optimizer", "adam")
    assert {r.key for r in ex.selected} == {"k2", "k3", "k4"} and len(ex.runs.options) == 3
    ex.filters["name"].value = "ch2"
    assert {r.key for r in ex.matching} == {"k2", "k3"}
    ex.runs.value = (ex.runs.options[0][1],)  # untick one run
    assert len(ex.selected) == 1 and ex.table.value.count("<tr") == 2
    ex.metric.value = "train_loss"
    ex.set_filter("lr", 0.1)  # nothing left
    assert ex.selected == [] and "No run" in str(ex.out.outputs)
    ex.set_filter("lr", None)
    ex.set_filter("name", None)
    assert len(ex.selected) == 3
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert ex.widget.children[-1] is ex.table
    assert "Explorer(4 runs" in repr(Explorer(list(store), metric="step_loss"))


def test_static_figure_switcher(runs):
    import ipywidgets as W
    from ipywidgets.widgets.widget_link import Link
    figs = {"loss": plots.training_curves(runs, metrics=("loss",)),
            "acc": plots.training_curves(runs, metrics=("acc",))}
    managed = plt.figure()  # a pyplot figure: the switcher must close it
    figs["pyplot"] = managed
    box = static_figure_switcher(figs, description="view")
    sel, stack = box.children
    assert isinstance(stack, W.Stack) and len(stack.children) == 3 and stack.selected_index == 0
    assert all('src="data:image/png;base64,' in c.value for c in stack.children)
    assert [o[0] for o in sel.options] == ["loss", "acc", "pyplot"]
    link = box.link
    assert isinstance(link, Link)
    assert link.source == (sel, "index") and link.target == (stack, "selected_index")
    assert not plt.fignum_exists(managed.number)
    slider = static_figure_switcher({"a": plots.lr_curves({"x": [1, 2]})}, kind="slider")
    assert isinstance(slider.children[0], W.SelectionSlider)
    with pytest.raises(ValueError):
        static_figure_switcher({})
