"""Synthetic Results and checks shared by the plot and explorer tests (no training).

``make_result`` builds a plausible run, diverged if asked (NaN loss from an epoch on);
``runs`` is three of them (one diverged); ``no_pyplot_leaks`` is autouse wherever it is
imported, so every plot test also checks that figures stay detached from pyplot.
"""
import math

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere in this process

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from cnnreport.core.store import Result, ResultStore  # noqa: E402

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


@pytest.fixture
def store(tmp_path):
    """Four runs in a real store, so NaN/inf come back from JSON as None."""
    st = ResultStore(tmp_path / "results")
    st.put(make_result("k1", name="ch2", optimizer="sgd", lr=0.01, activation="relu"))
    st.put(make_result("k2", name="ch2", optimizer="adam", lr=0.001, activation="gelu", seed=1))
    st.put(make_result("k3", name="ch2", optimizer="adam", lr=0.01, activation="relu", seed=2))
    st.put(make_result("k4", name="ch3", optimizer="adam", lr=0.1, diverge_at=3, seed=3))
    return st


def labelled(ax):
    """The lines that carry a legend label (matplotlib names the others "_child...")."""
    return [ln for ln in ax.lines if not ln.get_label().startswith("_")]


def renders(fig):
    assert isinstance(fig, Figure)
    fig.canvas.draw()  # catches errors that only show at draw time
    return fig
