"""The NumPy runs' results (cnnreport.scratch.store, .config): keys, Results, reuse, weights."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnreport.core.cache import key_of
from cnnreport.scratch import config as C
from cnnreport.scratch import search
from cnnreport.scratch import store as St
from cnnreport.core.store import Result


def tiny_mnist(n_train=120, n_test=40, seed=0):
    """Learnable 28x28 digits stand-ins: class c lights up row band c."""
    rng = np.random.default_rng(seed)

    def make(n):
        y = np.arange(n) % 10
        x = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for c in range(10):
            x[y == c, 2 * c + 4:2 * c + 7] = 255
        return x, y.astype(np.int64)

    (xtr, ytr), (xte, yte) = make(n_train), make(n_test)
    return {"x_train": xtr, "y_train": ytr, "x_test": xte, "y_test": yte}


SMALL = {"hidden": [16], "epochs": 2, "batch_size": 16, "lr": 0.05, "schedule": "step",
         "schedule_args": {"step_size": 1, "gamma": 0.5}}


def test_key_ignores_spelling_and_defaults():
    a = St.config_key({"hidden": 1000, "activation": "LeakyReLU", "lr": 0.1})
    b = St.config_key({"hidden": [1000], "activation": "leaky_relu", "lr": 1e-1, "epochs": 5,
                       "momentum": 0.9, "schedule": None})
    assert a == b and len(a) == 16
    # Settings that do not apply are dropped: momentum for plain SGD, hidden for LeNet.
    assert St.config_key({"optimizer": "sgd", "momentum": 0.5}) == St.config_key({"optimizer": "sgd"})
    assert St.config_key({"model": "lenet", "hidden": [5]}) == St.config_key({"model": "lenet"})


def test_key_changes_with_every_setting():
    base = St.config_key({})
    changed = [{"model": "lenet"}, {"hidden": [500]}, {"activation": "relu"},
               {"weight_decay": 1e-3}, {"optimizer": "sgd"}, {"lr": 0.01}, {"momentum": 0.5},
               {"schedule": "step", "schedule_args": {"step_size": 2, "gamma": 0.1}},
               {"epochs": 6}, {"batch_size": 64}, {"patience": 2}, {"augment": True},
               {"subsample": 0.1}, {"seed": 1}, {"dtype": "float64"}, {"val_fraction": 0.2}]
    keys = [St.config_key(c) for c in changed]
    assert base not in keys and len(set(keys)) == len(keys)
    g1 = St.config_key({"schedule": "step", "schedule_args": {"step_size": 5, "gamma": 1.0}})
    g2 = St.config_key({"schedule": "step", "schedule_args": {"step_size": 5, "gamma": 0.5}})
    assert g1 != g2


def test_key_is_the_one_cache_hash_of_the_normalized_config():
    c = St.normalize(SMALL)
    assert St.config_key(SMALL) == key_of(c) and St.normalize(c) == c  # a stored config re-keys
    assert c["framework"] == "numpy" and c["dataset"] == "mnist"
    assert St.normalize(dict(SMALL, framework="numpy", dataset="mnist")) == c
    with pytest.raises(ValueError, match="always 'numpy'"):
        St.normalize({"framework": "torch"})


def test_top_level_schedule_args_are_the_same_run():
    a = C.normalize({"schedule": "step", "step_size": 5, "gamma": 0.5, "milestones": [3]})
    b = C.normalize({"schedule": "step", "schedule_args": {"step_size": 5, "gamma": 0.5}})
    assert a == b  # milestones do not apply to StepLR: dropped, like momentum of plain SGD
    assert C.normalize({"gamma": 0.5})["schedule_args"] == {}


def test_grid_points_are_run_configs():
    c = search.grid_config({"lr": 0.01, "hidden": 500}, seed=3)
    assert c == C.normalize({"lr": 0.01, "hidden": [500], "epochs": 20, "schedule": "step",
                             "schedule_args": {"step_size": 5, "gamma": 1.0}, "seed": 3})
    with pytest.raises(ValueError, match="unknown config keys"):
        search.grid_config({"colour": 1})


@pytest.mark.parametrize("bad, match", [({"colour": 1}, "unknown config keys"),
                                        ({"model": "vgg"}, "choose 'mlp' or 'lenet'"),
                                        ({"schedule": "cosine"}, "choose one of"),
                                        ({"schedule": "step", "schedule_args": {"milestones": [1]}},
                                         "takes"),
                                        ({"subsample": 0}, "fraction")])
def test_bad_configs_are_rejected(bad, match):
    with pytest.raises(ValueError, match=match):
        St.normalize(bad)


def test_run_or_load_trains_once_and_reuses(tmp_path, monkeypatch):
    data = tiny_mnist()
    rec = St.run_or_load(SMALL, tmp_path, data=data)
    path = tmp_path / "scratch" / f"{St.config_key(SMALL)}.json"
    assert path.is_file() and not list(path.parent.glob("*.tmp"))
    assert isinstance(rec, Result) and rec.key == path.stem
    assert Result.from_dict(json.loads(path.read_text())) == rec
    h = rec.history
    assert rec.stopped_epoch == 2 and len(h["val_acc"]) == 2 and 0 <= rec.test_acc <= 1
    assert h["lr"] == [0.05, 0.025]  # the schedule reached the optimizer
    assert rec.n_train == 100 and rec.n_val == 20 and rec.n_test == 40  # 5:1 split
    assert np.array(rec.confusion).sum() == 40 and rec.num_params == 784 * 16 + 16 + 170
    assert rec.config == St.normalize(SMALL) and rec.total_time > 0 and rec.extra["cpu_time"] > 0

    def boom(*a, **k):
        raise AssertionError("trained again")
    monkeypatch.setattr(St, "execute", boom)
    assert St.run_or_load(dict(SMALL, momentum=0.9), tmp_path) == rec  # same key, no data needed


def test_runs_are_deterministic_and_subsample_is_seeded(tmp_path):
    data = tiny_mnist(n_train=200)
    cfg = dict(SMALL, subsample=0.5)
    a = St.execute(cfg, data)
    b = St.execute(cfg, data)
    assert a.history["train_loss"] == b.history["train_loss"]
    assert a.n_train + a.n_val == 100
    c = St.execute(dict(cfg, seed=1), data)
    assert c.history["train_loss"] != a.history["train_loss"]


def test_first_layer_weights_mlp_and_lenet(tmp_path):
    data = tiny_mnist(n_train=60, n_test=20)
    rec = St.run_or_load(dict(SMALL, hidden=[80], epochs=1), tmp_path, data=data)
    W = St.decode_first_layer(rec)
    assert W.shape == (St.N_UNITS, 784) and rec.extra["first_layer"]["of_units"] == 80
    model, _, _ = St.build(dict(SMALL, hidden=[80]))  # same seed: the initial weights
    full = model.layers[1].params["W"].T[:St.N_UNITS]
    assert not np.allclose(W, full, atol=1e-3)  # trained, so it moved ...
    assert np.abs(W).max() < 10 * np.abs(full).max()  # ... but stays the same scale
    # Quantization error is at most half a step of each unit's own range.
    enc = St.encode_first_layer(model)
    err = np.abs(St.decode_first_layer({"first_layer": enc}) - full).max(axis=1)
    assert (err <= np.abs(full).max(axis=1) / 254 + 1e-7).all()
    cnn = St.run_or_load({"model": "lenet", "epochs": 1, "lr": 0.01}, tmp_path, data=data)
    K = St.decode_first_layer(cnn)
    assert K.shape == (6, 1, 5, 5) and np.array(cnn.first_conv).shape == (6, 1, 5, 5)
    assert "first_layer" not in cnn.extra  # the kernels live in the Result's own field


def test_weights_false_keeps_none_and_later_request_retrains(tmp_path):
    data = tiny_mnist(n_train=60, n_test=20)
    cfg = dict(SMALL, epochs=1)
    rec = St.run_or_load(cfg, tmp_path, data=data, weights=False)
    assert "first_layer" not in rec.extra and St.decode_first_layer(rec) is None
    assert St.run_or_load(cfg, tmp_path, weights=False) == rec
    again = St.run_or_load(cfg, tmp_path, data=data, weights=True)
    assert again.extra["first_layer"]["shape"] == [16, 784]  # fewer units than N_UNITS: all kept


def test_records_stay_small(tmp_path):
    data = tiny_mnist(n_train=60, n_test=20)
    St.run_or_load(dict(SMALL, hidden=[1000], epochs=1), tmp_path, data=data)
    (path,) = (tmp_path / "scratch").glob("*.json")
    assert path.stat().st_size < 100_000


def test_as_result_feeds_the_book_plots(tmp_path):
    data = tiny_mnist(n_train=60, n_test=20)
    rec = St.run_or_load(dict(SMALL, patience=1), tmp_path, data=data)
    r = St.as_result(rec)
    assert r.status == "ok" and r.test_acc == rec.test_acc and r.key == rec.key
    assert r.history["epoch"] == list(range(1, rec.stopped_epoch + 1))
    assert len(r.per_class_acc) == 10 and r.config["model"] == "mlp (NumPy)"
    assert rec.config["model"] == "mlp"  # the stored Result is not relabelled
    cnn = St.as_result(St.run_or_load({"model": "lenet", "epochs": 1, "lr": 0.01}, tmp_path, data=data))
    assert np.array(cnn.first_conv).shape == (6, 1, 5, 5)


def test_store_never_imports_torch():
    code = ("import sys, tempfile, numpy as np\n"
            "from cnnreport.scratch import store\n"
            "d = {'x_train': np.zeros((60, 28, 28), np.uint8), 'y_train': np.arange(60) % 10,\n"
            "     'x_test': np.zeros((10, 28, 28), np.uint8), 'y_test': np.arange(10)}\n"
            "store.run_or_load({'hidden': [8], 'epochs': 1}, tempfile.mkdtemp(), data=d)\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    root = Path(__file__).resolve().parents[1]
    res = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr


def test_run_or_pending_trains_only_when_allowed(tmp_path):
    cfg = dict(SMALL, epochs=1)
    waiting = St.run_or_pending(cfg, tmp_path, train=False)
    assert waiting.pending and "CNNREPORT_TRAIN=1" in waiting.reason
    assert St.load(cfg, tmp_path) is None            # nothing was trained or written
    done = St.run_or_pending(cfg, tmp_path, train=True, data=tiny_mnist(n_train=60, n_test=20))
    assert done.status == "ok" and done.config["model"] == "mlp (NumPy)"
    again = St.run_or_pending(cfg, tmp_path, train=False)  # stored now: loaded, not pending
    assert again.status == "ok" and again.key == done.key


def test_later_settings_keep_stored_keys_and_key_the_runs_that_set_them():
    old = {"weight_decay": 1e-3, "model": "lenet"}
    same = dict(old, init="he_normal", init_std=0.3, decay="coupled", conv_l2=False)
    assert St.config_key(same) == St.config_key(old)  # a result stored before they existed keeps its key
    assert "init" not in C.normalize(same) and "decay" not in C.normalize(same)
    code = dict(old, init="normal", decay="decoupled", conv_l2=True)
    c = C.normalize(code)
    assert (c["init"], c["init_std"], c["decay"], c["conv_l2"]) == ("normal", 0.1, "decoupled", True)
    assert C.normalize(c) == c  # a stored config re-keys
    keys = {St.config_key(k) for k in (old, code, dict(code, conv_l2=False), dict(code, init_std=0.2),
                                      dict(code, decay="coupled", conv_l2=False))}
    assert len(keys) == 5
    # Settings that do not apply are dropped: the decay form without a decay, conv_l2 for an MLP.
    assert St.config_key({"decay": "decoupled"}) == St.config_key({})
    assert St.config_key({"weight_decay": 1e-3, "decay": "decoupled", "conv_l2": True}) == \
        St.config_key({"weight_decay": 1e-3, "decay": "decoupled"})
    with pytest.raises(ValueError, match="twice"):
        C.normalize(dict(old, conv_l2=True))
    with pytest.raises(ValueError, match="init"):
        C.normalize({"init": "uniform"})
    with pytest.raises(ValueError, match="decay"):
        C.normalize({"decay": "l1"})


def test_build_follows_the_later_settings():
    model, _, _ = C.build({"model": "lenet", "weight_decay": 1e-3, "init": "normal", "decay": "decoupled",
                           "conv_l2": True})
    layers = [l for l in model.layers if l.has_params]
    assert [l.decay_mode for l in layers] == ["both", "both", "decoupled", "decoupled", "decoupled"]
    assert abs(float(layers[-2].params["W"].std()) - 0.1) < 0.01  # N(0, 0.1^2) whatever the fan-in
    he, _, _ = C.build({"weight_decay": 1e-3})
    assert {l.decay_mode for l in he.layers if l.has_params} == {"coupled"}


def test_last_epoch_test_reading_is_recorded_and_a_record_without_it_is_incomplete(tmp_path):
    data = tiny_mnist()
    cfg = dict(SMALL, epochs=3)
    rec = St.run_or_load(cfg, tmp_path, data=data, weights=False)
    assert 0 <= rec.final_test_acc <= 1 and rec.final_test_loss > 0 and St.complete(rec)
    if rec.best_epoch == rec.stopped_epoch:  # the last epoch is the selected one: one reading
        assert rec.final_test_acc == rec.test_acc
    # A record stored before the last epoch's reading existed is waiting at full, and retrained
    # where training is allowed.
    path = tmp_path / "scratch" / f"{rec.key}.json"
    d = json.loads(path.read_text())
    d["final_test_acc"] = d["final_test_loss"] = None
    path.write_text(json.dumps(d))
    assert not St.complete(St.load(cfg, tmp_path))
    assert St.run_or_pending(cfg, tmp_path, train=False).pending
    again = St.run_or_load(cfg, tmp_path, data=data, weights=False)
    assert again.final_test_acc == rec.final_test_acc
