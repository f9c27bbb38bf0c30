"""The trainer end to end on the tiny dataset: what fit records, selection, divergence,
bit-identical reruns and resumes, deadlines, and that a run leaves the caller's state alone."""
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnreport.core import data as D
from cnnreport.core.config import ConfigError
from cnnreport.core.runs import run_or_load
from cnnreport.core.store import ResultStore
from cnnreport.training import fit
from conftest import DATA, needs_data

TINY = dict(dataset="tiny", model="basic_cnn", model_args={}, epochs=3, batch_size=16, optimizer="adam",
            lr=3e-3, val_fraction=0.25, device="cpu", seed=1)


def small_mlp(**kw):
    d = dict(TINY, model="mlp", model_args={"hidden": [32], "input_shape": [3, 32, 32]})
    d.update(kw)
    return d


def test_fit_learns_and_reports_everything(tiny, tmp_path):
    store = ResultStore(tmp_path)
    r = fit(small_mlp(epochs=8, augment=[{"name": "crop", "padding": 1}]), store=store, progress=False, data=tiny)
    assert r.status == "ok" and r.test_acc > 0.8
    h = r.history
    assert len(h["train_loss"]) == 8 and len(h["val_acc"]) == 8 and len(h["test_acc_curve"]) == 8
    assert len(r.steps["loss"]) == len(r.steps["lr"]) == 8 * math.ceil(90 / 16)
    assert r.best_epoch == 1 + int(np.argmax(h["val_acc"]))
    assert np.array(r.confusion).sum() == 32 and len(r.per_class_acc) == 4
    assert r.n_train + r.n_val == 120 and r.n_test == 32
    assert all(t > 0 for t in h["epoch_time"]) and all(v > 0 for v in h["images_per_sec"])
    assert (tmp_path / "logs" / f"{r.key}.csv").is_file()
    assert not (tmp_path / "checkpoints" / r.key).exists()  # cleaned after a finished run


def test_selection_follows_validation_and_the_test_set_is_scored_on_the_selected_weights(tiny):
    """The rules themselves are in tests/test_policy.py; here the wiring: the best epoch is
    the first best validation accuracy, and test_acc is the test curve at that epoch."""
    r = fit(small_mlp(epochs=5, val_fraction=0.2, lr=3e-2), progress=False, data=tiny)
    va = r.history["val_acc"]
    assert r.best_epoch == 1 + int(np.argmax(va))
    assert r.test_acc == pytest.approx(r.history["test_acc_curve"][r.best_epoch - 1])
    # the last epoch's weights are scored too, per class (a report that reads its final model)
    final = np.array(r.final_confusion)
    assert final.sum() == 32 and len(r.final_per_class_acc) == 4
    assert np.trace(final) / final.sum() == pytest.approx(r.final_test_acc)
    if r.best_epoch == r.stopped_epoch:
        assert r.final_confusion == r.confusion


def test_early_stopping_restores_best(tiny):
    r = fit(small_mlp(epochs=8, early_stopping=2, lr=3e-2), progress=False, data=tiny)
    va = r.history["val_acc"]
    assert r.early_stopped and "early stop" in r.reason and r.status == "ok"
    assert r.stopped_epoch == r.best_epoch + 2 == len(va) and max(va[r.best_epoch:]) <= va[r.best_epoch - 1]
    assert r.test_acc == pytest.approx(r.history["test_acc_curve"][r.best_epoch - 1])


def test_divergence_is_recorded_not_raised(tiny):
    r = fit(small_mlp(optimizer="sgd", lr=1e6, epochs=3), progress=False, data=tiny)
    assert r.status == "diverged" and r.diverged_step is not None and "non-finite" in r.reason
    assert r.test_acc is None and r.config["lr"] == 1e6


def test_collapse_to_chance_counts_as_diverged(tiny):
    # At lr 1e-9 the MLP stays at its initialisation: loss ~ ln 4, accuracy ~ 1/4.
    r = fit(small_mlp(epochs=6, divergence_patience=2, lr=1e-9), progress=False, data=tiny)
    assert r.status == "diverged" and "chance" in r.reason and r.stopped_epoch == 2
    assert all(tl >= 0.98 * math.log(4) for tl in r.history["train_loss"])


def test_fit_leaves_the_callers_rng_and_cudnn_flag_alone(tiny):
    def draws():
        return torch.rand(3).tolist(), np.random.rand(3).tolist(), random.random()

    def seed():
        torch.manual_seed(123), np.random.seed(5), random.seed(7)

    seed()
    expected = draws()
    for flag in (False, True):
        seed()
        torch.backends.cudnn.benchmark = flag
        r = fit(small_mlp(epochs=1, augment=["flip"]), progress=False, data=tiny)
        assert draws() == expected and torch.backends.cudnn.benchmark is flag
    torch.backends.cudnn.benchmark = False
    # ... and the run's numbers do not depend on what the caller drew before.
    torch.rand(100), np.random.rand(7)
    assert fit(small_mlp(epochs=1, augment=["flip"]), progress=False, data=tiny).steps == r.steps


def test_a_cuda_run_turns_cudnn_autotuning_on_only_inside(tiny):
    from cnnreport.training import cudnn_scope
    torch.backends.cudnn.benchmark = False
    with cudnn_scope(torch.device("cuda")):
        assert torch.backends.cudnn.benchmark
    with cudnn_scope(torch.device("cpu")):
        assert not torch.backends.cudnn.benchmark
    assert not torch.backends.cudnn.benchmark


def test_cpu_runs_are_bit_identical(tiny):
    cfg = dict(TINY, epochs=2, augment=["crop", "flip", "erasing"])
    a, b = fit(cfg, progress=False, data=tiny), fit(cfg, progress=False, data=tiny)
    assert a.steps["loss"] == b.steps["loss"] and a.history["val_loss"] == b.history["val_loss"]
    c = fit(dict(cfg, seed=2), progress=False, data=tiny)
    assert c.steps["loss"] != a.steps["loss"]


def test_rejected_config_writes_nothing(tmp_path):
    with pytest.raises(ConfigError):
        run_or_load({"lr": -1}, store=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_run_or_load_caches(tiny, tmp_path):
    cfg = small_mlp(epochs=1)
    r1 = run_or_load(cfg, store=tmp_path, progress=False, data=tiny)
    t = time.perf_counter()
    r2 = run_or_load(cfg, store=tmp_path, progress=False, data=tiny)
    assert time.perf_counter() - t < 0.5
    assert r2.to_dict() == json.loads(json.dumps(r1.to_dict()))
    r3 = run_or_load(cfg, store=tmp_path, progress=False, data=tiny, force=True)
    assert r3.total_time != r1.total_time


# -- kill and resume -------------------------------------------------------------------
RESUME_SCRIPT = r"""
import json, os, sys
from cnnreport.core.store import ResultStore
from cnnreport.training import Callback, fit
cfg = json.loads(sys.argv[1]); kill_after = int(sys.argv[3])

class Kill(Callback):
    observes_only = True  # it ends the process; the steps it lets run are untouched
    def on_step(self, ts, step, x, y):
        # Die hard in the middle of epoch kill_after + 1, no cleanup.
        if kill_after and step == kill_after * ts.setup.steps_per_epoch + 2:
            os.kill(os.getpid(), 9)

fit(cfg, store=ResultStore(sys.argv[2]), progress=False, save_weights=True, callbacks=[Kill()])
print(json.dumps({"ok": True}))
"""


@pytest.mark.slow
def test_kill_and_resume_is_bit_identical(tiny_root, tmp_path):
    cfg = json.dumps(dict(TINY, epochs=5, model="basic_cnn", model_args={"activation": "rrelu"},
                          augment=["crop", "flip"], optimizer="sgd", momentum=0.9, lr=0.02,
                          schedule="onecycle"))
    env = dict(os.environ, CNNREPORT_DATA=str(tiny_root), PYTHONPATH=str(Path(__file__).parents[1]))
    run = lambda store, kill: subprocess.run([sys.executable, "-c", RESUME_SCRIPT, cfg, str(store), str(kill)],
                                             env=env, capture_output=True, text=True)
    ref = run(tmp_path / "ref", 0)
    assert ref.returncode == 0, ref.stderr
    store = tmp_path / "killed"
    for kill in (1, 3):  # killed in epoch 2 (checkpoint at 1), then again in epoch 4
        p = run(store, kill)
        assert p.returncode == -signal.SIGKILL, p.stderr
        assert list((store / "checkpoints").glob("*/last.pt"))
    assert run(store, 0).returncode == 0
    a, b = ResultStore(tmp_path / "ref").results()[0], ResultStore(store).results()[0]
    assert a.steps == b.steps and a.history["val_loss"] == b.history["val_loss"] and a.test_acc == b.test_acc
    wa = torch.load(tmp_path / "ref" / f"{a.key}.pt")
    wb = torch.load(store / f"{b.key}.pt")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


@needs_data
def test_smoke_runs_on_real_data(tmp_path, monkeypatch):
    monkeypatch.setenv(D.ENV_VAR, str(DATA))
    runs = [dict(dataset="cifar10", model="basic_cnn", train_subset=500, val_subset=200, test_subset=500,
                 epochs=1, batch_size=64, optimizer="adamw", lr=1e-3, augment=["crop", "flip"], device="cpu"),
            dict(dataset="mnist", model="lenet", train_subset=1000, val_subset=200, test_subset=500,
                 epochs=2, batch_size=32, optimizer="sgd", lr=0.05, momentum=0.9, device="cpu",
                 val_fraction=1 / 6)]
    for cfg in runs:
        r = run_or_load(cfg, store=tmp_path, progress=False)
        assert r.status == "ok" and r.test_acc > 0.15
        t = time.perf_counter()
        run_or_load(cfg, store=tmp_path, progress=False)
        assert time.perf_counter() - t < 1.0


def test_final_and_selected_test_accuracy_are_both_recorded(tiny):
    r = fit(small_mlp(epochs=5), progress=False, data=tiny)
    h = r.history
    assert len(h["test_loss_curve"]) == len(h["test_acc_curve"]) == 5
    assert r.final_test_acc == h["test_acc_curve"][-1] and r.final_test_loss == h["test_loss_curve"][-1]
    assert r.test_acc == pytest.approx(h["test_acc_curve"][r.best_epoch - 1])


def test_without_a_validation_split_selected_is_the_last_epoch(tiny):
    r = fit(small_mlp(epochs=3, val_fraction=0.0), progress=False, data=tiny)
    assert r.n_val == 0 and r.n_train == 120
    assert r.best_epoch == 3 and r.test_acc == pytest.approx(r.final_test_acc)


def test_deadline_checkpoints_and_the_next_call_finishes_identically(tiny, tmp_path):
    from cnnreport.training import OutOfTime
    cfg = small_mlp(epochs=6)
    whole = fit(cfg, progress=False, data=tiny)
    store = ResultStore(tmp_path)
    calls, res = 0, None
    while res is None:
        calls += 1
        try:  # a deadline that allows about one epoch per call
            res = fit(cfg, store=store, progress=False, data=tiny, deadline=time.monotonic() + 1e-3)
        except OutOfTime as e:
            assert e.epochs_done == calls and (tmp_path / "checkpoints" / e.key / "last.pt").is_file()
        assert calls <= 6
    assert calls == 6 and store.get(res.key) is not None
    assert res.history["train_loss"] == whole.history["train_loss"] and res.test_acc == whole.test_acc


def test_a_deadline_needs_a_store(tiny):
    with pytest.raises(ValueError, match="needs a store"):
        fit(small_mlp(), progress=False, data=tiny, deadline=time.monotonic() + 10)
