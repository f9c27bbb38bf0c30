"""The callbacks around the loop: checkpoint and resume, the CSV log, step hooks, and
which callbacks may run with a results store."""
import csv
from types import SimpleNamespace

import pytest
import torch

from cnnreport.core.store import ResultStore
from cnnreport.training import Callback, Checkpoint, CsvLog, StepProbe, fit
from cnnreport.training.callbacks import overrides

CFG = dict(dataset="tiny", model="mlp", model_args={"hidden": [32], "input_shape": [3, 32, 32]}, epochs=4,
           batch_size=16, optimizer="sgd", momentum=0.9, lr=0.05, schedule="onecycle", val_fraction=0.25,
           device="cpu", seed=3)


class Stop(Exception):
    pass


class StopBefore(Callback):
    """Interrupts the run before epoch ``epoch`` (0-based), as a crash would."""
    observes_only = True

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_start(self, ts, epoch):
        if epoch == self.epoch:
            raise Stop


def test_checkpoint_resumes_an_interrupted_run_bit_identically(tiny, tmp_path):
    whole = fit(CFG, progress=False, data=tiny)
    store = ResultStore(tmp_path)
    with pytest.raises(Stop):
        fit(CFG, store=store, progress=False, data=tiny, callbacks=[StopBefore(2)])
    path = store.checkpoint_dir(whole.key) / "last.pt"
    saved = torch.load(path, weights_only=False)
    # The format archive.py checks and older checkpoints have.
    assert set(saved) == {"key", "model", "optimizer", "schedule", "history", "steps", "state", "rng"}
    assert set(saved["state"]) == {"epoch", "best_val", "best_epoch", "bad", "chance_epochs", "best_state",
                                   "train_time"}
    assert saved["key"] == whole.key and saved["state"]["epoch"] == 2 and len(saved["history"]["epoch"]) == 2
    resumed = fit(CFG, store=store, progress=False, data=tiny)
    assert resumed.steps == whole.steps and resumed.history["val_loss"] == whole.history["val_loss"]
    assert resumed.test_acc == whole.test_acc and resumed.confusion == whole.confusion
    assert not path.exists() and store.get(whole.key) is not None  # deleted once stored


def test_a_checkpoint_of_another_config_is_ignored(tiny, tmp_path):
    store = ResultStore(tmp_path)
    with pytest.raises(Stop):
        fit(CFG, store=store, progress=False, data=tiny, callbacks=[StopBefore(1)])
    other = dict(CFG, seed=4)
    key = fit(other, progress=False, data=tiny).key
    src = next((tmp_path / "checkpoints").glob("*/last.pt"))
    (tmp_path / "checkpoints" / key).mkdir()
    src.rename(tmp_path / "checkpoints" / key / "last.pt")
    r = fit(other, store=store, progress=False, data=tiny)
    assert r.history["epoch"] == [1, 2, 3, 4]  # trained from the start


def test_csv_log_writes_one_row_per_epoch_of_the_non_empty_series(tmp_path):
    ts = SimpleNamespace(setup=SimpleNamespace(key="k"),
                         history={"epoch": [1, 2], "train_loss": [0.9, 0.5], "val_acc": [0.4, 0.6], "lr": []})
    log = CsvLog(ResultStore(tmp_path))
    log.on_epoch_end(ts, 1, False)
    rows = list(csv.reader(open(tmp_path / "logs" / "k.csv")))
    assert rows == [["epoch", "train_loss", "val_acc"], ["1", "0.9", "0.4"], ["2", "0.5", "0.6"]]


def test_a_stored_run_writes_its_csv_log(tiny, tmp_path):
    r = fit(dict(CFG, epochs=2), store=ResultStore(tmp_path), progress=False, data=tiny)
    rows = list(csv.DictReader(open(tmp_path / "logs" / f"{r.key}.csv")))
    assert [float(row["val_acc"]) for row in rows] == r.history["val_acc"]


def test_step_hooks_see_every_step_before_its_update(tiny):
    seen = []

    def probe(step, model, x, y, loss_fn, opt):
        with torch.no_grad():
            seen.append((step, float(loss_fn(model(x).float(), y)), opt.param_groups[0]["lr"]))

    model_train = {}

    class Watch(Callback):
        observes_only = True

        def on_step(self, ts, step, x, y):
            model_train[step] = ts.setup.model.training

    # fp32, so that the probe's fp32 loss and the step's loss agree to rounding (bf16 differs by ~1e-4)
    r = fit(dict(CFG, epochs=2, precision="fp32"), progress=False, data=tiny, step_callback=probe,
            callbacks=[Watch()])
    assert [s for s, _, _ in seen] == list(range(len(r.steps["loss"])))
    assert [lr for _, _, lr in seen] == r.steps["lr"]
    # The mlp has no dropout or BatchNorm: the probe's loss is the step's training loss.
    assert [l for _, l, _ in seen] == pytest.approx(r.steps["loss"], abs=1e-5)
    assert all(model_train.values()) and len(model_train) == len(seen)


def test_only_observing_callbacks_run_with_a_store(tiny, tmp_path):
    store = ResultStore(tmp_path / "store")
    with pytest.raises(ValueError, match="cannot be combined with a store"):
        fit(CFG, store=store, data=tiny, callbacks=[StepProbe(lambda *a: None)])
    with pytest.raises(ValueError, match="cannot be combined with a store"):
        fit(CFG, store=store, data=tiny, step_callback=lambda *a: None)
    assert not store.root.exists()


def test_the_loop_calls_per_step_hooks_only_of_callbacks_that_have_them():
    assert overrides(StepProbe(print), "on_step") and not overrides(CsvLog(ResultStore("x")), "on_step")
    assert overrides(Checkpoint(ResultStore("x")), "on_epoch_start")
