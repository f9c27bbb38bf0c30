"""A results cache for NumPy runs: one small JSON file per run, keyed by its config.

The torch trainer's store (:mod:`cnnreport.store`) keys a ``RunConfig``; the NumPy runs
have their own, smaller set of settings, so they get their own cache here, in
``<root>/scratch/<key>.json``.  The key hashes the canonical JSON of the normalized
config (every default filled in, numbers as numbers, settings that do not apply
dropped) plus :data:`SCHEMA_VERSION`, so the same run written two ways shares one file
and a change in what a record holds invalidates old files.

A record holds the :class:`~cnnreport.scratch.train.History` dict, the test confusion
matrix, timing (wall and CPU seconds, load average, thread settings) and, unless
``weights=False``, a compact copy of the first layer's weights for the pictures:

* a Linear layer: the first :data:`N_UNITS` hidden units' 784 weights, quantized to
  int8 per unit (value = q * scale / 127) and base64-encoded: ~70 KB instead of
  ~400 KB as decimal text, and 1/254 of a unit's range is far finer than a picture shows;
* a Conv2D layer: all kernels, rounded to 4 decimals.

Like the rest of :mod:`cnnreport.scratch` this module never imports torch.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import platform
import time
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

import numpy as np

from ..store import atomic_write_bytes, json_safe
from .conv import Conv2D
from .layers import Linear
from .model import lenet, mlp
from .optim import make_optimizer, make_schedule
from .search import subsample
from .train import load_mnist, prepare_images, train

SCHEMA_VERSION = 1
N_UNITS = 64  # hidden units whose weights a record keeps for the pictures

#: Every setting of a run with its default.  ``subsample`` is the fraction of the
#: training images drawn (seeded by ``seed``) before the 5:1 train/validation split.
DEFAULTS: Dict[str, Any] = {
    "model": "mlp", "hidden": [1000], "activation": "leaky_relu", "weight_decay": 0.0,
    "optimizer": "momentum", "lr": 0.1, "momentum": 0.9, "schedule": "none",
    "schedule_args": {}, "epochs": 5, "batch_size": 32, "patience": None, "augment": False,
    "subsample": 1.0, "val_fraction": 1 / 6, "seed": 0, "dtype": "float32",
}
_SCHEDULE_ARGS = {"none": (), "step": ("step_size", "gamma"), "multistep": ("milestones", "gamma"),
                  "exponential": ("gamma",)}


def normalize(config: Mapping[str, Any]) -> Dict[str, Any]:
    """The config with defaults filled in and values in canonical form; raises
    ValueError naming an unknown key or a bad value."""
    unknown = set(config) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown config keys {sorted(unknown)}; allowed: {sorted(DEFAULTS)}")
    c = {**DEFAULTS, **config}
    out: Dict[str, Any] = {}
    out["model"] = str(c["model"]).lower()
    if out["model"] not in ("mlp", "lenet"):
        raise ValueError(f"model {c['model']!r}: choose 'mlp' or 'lenet'")
    # LeNet's layer sizes are fixed by the report: a hidden setting does not apply.
    out["hidden"] = ([int(h) for h in np.atleast_1d(c["hidden"])] if out["model"] == "mlp" else None)
    act = str(c["activation"]).lower().replace("-", "_")
    out["activation"] = {"leakyrelu": "leaky_relu"}.get(act, act)
    wd = c["weight_decay"]
    out["weight_decay"] = float(wd) if np.ndim(wd) == 0 else [float(v) for v in wd]
    out["optimizer"] = str(c["optimizer"]).lower()
    out["lr"] = float(c["lr"])
    # Momentum only matters to the momentum optimizers.
    out["momentum"] = float(c["momentum"]) if out["optimizer"] in ("momentum", "nesterov") else None
    sched = "none" if c["schedule"] is None else str(c["schedule"]).lower()
    if sched not in _SCHEDULE_ARGS:
        raise ValueError(f"schedule {c['schedule']!r}: choose one of {sorted(_SCHEDULE_ARGS)}")
    args = dict(c["schedule_args"] or {})
    bad = set(args) - set(_SCHEDULE_ARGS[sched])
    if bad:
        raise ValueError(f"schedule {sched!r} takes {list(_SCHEDULE_ARGS[sched])}, not {sorted(bad)}")
    canon = {"step_size": int, "gamma": float, "milestones": lambda m: sorted(int(v) for v in m)}
    out["schedule"], out["schedule_args"] = sched, {k: canon[k](v) for k, v in sorted(args.items())}
    out["epochs"], out["batch_size"] = int(c["epochs"]), int(c["batch_size"])
    out["patience"] = None if c["patience"] is None else int(c["patience"])
    out["augment"] = bool(c["augment"])
    out["subsample"], out["val_fraction"] = float(c["subsample"]), float(c["val_fraction"])
    if not 0 < out["subsample"] <= 1:
        raise ValueError(f"subsample {c['subsample']!r}: a fraction in (0, 1]")
    out["seed"] = int(c["seed"])
    out["dtype"] = np.dtype(c["dtype"]).name
    return out


def config_key(config: Mapping[str, Any]) -> str:
    """16 hex digits of the SHA-256 of the canonical JSON of the normalized config."""
    text = json.dumps({"schema": SCHEMA_VERSION, "config": normalize(config)}, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record_path(config: Mapping[str, Any], root: Union[str, os.PathLike]) -> Path:
    return Path(root) / "scratch" / f"{config_key(config)}.json"


def build(config: Mapping[str, Any]):
    """(model, optimizer, schedule) of a normalized config."""
    c = normalize(config)
    if c["model"] == "mlp":
        model = mlp(hidden=c["hidden"], activation=c["activation"], weight_decay=c["weight_decay"],
                    dtype=c["dtype"], seed=c["seed"])
    else:
        model = lenet(activation=c["activation"], weight_decay=c["weight_decay"], dtype=c["dtype"],
                      seed=c["seed"])
    kw = {} if c["momentum"] is None else {"momentum": c["momentum"]}
    opt = make_optimizer(c["optimizer"], model, lr=c["lr"], **kw)
    return model, opt, make_schedule(c["schedule"], opt, **c["schedule_args"])


# ----------------------------------------------------------------------------- weights
def encode_first_layer(model, n_units: int = N_UNITS) -> Dict[str, Any]:
    """A compact, JSON-able copy of the first parameterized layer's weights."""
    layer = next(l for l in model.layers if l.has_params)
    W = np.asarray(layer.params["W"], np.float64)
    if isinstance(layer, Conv2D):  # (O, C, k, k): small, kept whole
        return {"kind": "conv", "shape": list(W.shape), "values": np.round(W, 4).tolist()}
    if not isinstance(layer, Linear):
        raise TypeError(f"cannot encode a first layer of type {type(layer).__name__}")
    units = W.T[:n_units]  # (n, in): row j is hidden unit j's input weights
    scale = np.abs(units).max(axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    q = np.rint(units / scale[:, None] * 127).astype(np.int8)
    return {"kind": "linear", "shape": list(q.shape), "of_units": int(W.shape[1]),
            "encoding": "int8 per unit, base64; value = q * scale / 127",
            "scale": [float(f"{s:.6g}") for s in scale],
            "data": base64.b64encode(q.tobytes()).decode("ascii")}


def decode_first_layer(record: Mapping[str, Any]) -> Optional[np.ndarray]:
    """The stored first-layer weights: (n_units, in_features) for an MLP, (O, C, k, k)
    for a CNN; None when the record kept none."""
    enc = record.get("first_layer")
    if not enc:
        return None
    if enc["kind"] == "conv":
        return np.array(enc["values"], np.float32)
    q = np.frombuffer(base64.b64decode(enc["data"]), np.int8).reshape(enc["shape"])
    return (q.astype(np.float32) * np.array(enc["scale"], np.float32)[:, None] / 127)


# ----------------------------------------------------------------------------- runs
def _environment() -> Dict[str, Any]:
    env = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    return {"numpy": np.__version__, "python": platform.python_version(),
            "platform": platform.platform(), "cpu_count": os.cpu_count(), "threads": env,
            "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}


def execute(config: Mapping[str, Any], data: Optional[Mapping[str, np.ndarray]] = None,
            progress: bool = False, weights: bool = True) -> Dict[str, Any]:
    """Train one run (no caching) and return its record."""
    c = normalize(config)
    data = data if data is not None else load_mnist()
    x, y = data["x_train"], data["y_train"]
    if c["subsample"] < 1:  # same draw as grid_search for the same seed
        x, y = subsample(x, y, c["subsample"], c["seed"])
    sub = {"x_train": x, "y_train": y, "x_test": data["x_test"], "y_test": data["y_test"]}
    model, opt, sched = build(c)
    env = _environment()
    t0, cpu0 = time.perf_counter(), time.process_time()
    hist = train(model, sub, epochs=c["epochs"], batch_size=c["batch_size"], optimizer=opt,
                 schedule=sched, val_fraction=c["val_fraction"], patience=c["patience"],
                 augment=c["augment"], progress=progress, seed=c["seed"])
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    pred = model.predict(prepare_images(data["x_test"], model.dtype))
    yt = np.asarray(data["y_test"], np.int64)
    confusion = np.bincount(yt * 10 + pred, minlength=100).reshape(10, 10)
    env["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    record = {"schema": SCHEMA_VERSION, "key": config_key(c), "config": c,
              "history": hist.to_dict(), "num_params": model.num_params(),
              "confusion": confusion.tolist(), "n_test": int(len(yt)),
              "wall_time": wall, "cpu_time": cpu, "environment": env,
              "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if weights:
        record["first_layer"] = encode_first_layer(model)
    return json_safe(record)


def load(config: Mapping[str, Any], root: Union[str, os.PathLike]) -> Optional[Dict[str, Any]]:
    """The stored record of ``config``, or None."""
    p = record_path(config, root)
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{p}: unreadable record ({e}); delete it to recompute") from e


def run_or_load(config: Mapping[str, Any], root: Union[str, os.PathLike], *,
                data: Optional[Mapping[str, np.ndarray]] = None, progress: bool = False,
                weights: bool = True, force: bool = False) -> Dict[str, Any]:
    """The stored record of ``config`` under ``<root>/scratch/``, training it first if
    it is missing (or if ``weights`` are wanted and the stored record kept none).

    data: MNIST arrays (x_train, y_train, x_test, y_test); loaded with
      :func:`~cnnreport.scratch.train.load_mnist` only when a run must train.
    """
    if not force:
        found = load(config, root)
        if found is not None and (found.get("first_layer") or not weights):
            return found
    record = execute(config, data, progress=progress, weights=weights)
    atomic_write_bytes(record_path(config, root), json.dumps(record, separators=(",", ":")).encode())
    return record


def as_result(record: Mapping[str, Any]):
    """The record as a :class:`cnnreport.store.Result`, so the book's plots and tables
    take NumPy and torch runs alike.  (Imported lazily: that module is torch-free too,
    but the training code here never needs it.)"""
    from ..store import Result
    h, c = record["history"], record["config"]
    n = len(h["train_loss"])
    conf = np.array(record["confusion"], float)
    per_class = (np.diag(conf) / np.maximum(conf.sum(1), 1)).tolist()
    bad = any(v is None or not math.isfinite(v) for v in h["train_loss"])
    cfg = {"dataset": "mnist", "framework": "numpy", **c,
           "model": f"{c['model']} (NumPy)"}
    first = decode_first_layer(record)
    return Result(
        key=record["key"], config=cfg, status="diverged" if bad else "ok",
        reason="early stopped" if h["stopped_early"] else "",
        history={"epoch": list(range(1, n + 1)), "train_loss": h["train_loss"],
                 "train_acc": h["train_acc"], "val_loss": h["val_loss"], "val_acc": h["val_acc"],
                 "lr": h["lr"], "epoch_time": h["epoch_time"]},
        best_epoch=h["best_epoch"], stopped_epoch=n, early_stopped=h["stopped_early"],
        test_loss=h["test_loss"], test_acc=h["test_acc"], per_class_acc=per_class,
        confusion=record["confusion"], classes=[str(i) for i in range(10)],
        num_params=record["num_params"], train_time=h["train_time"],
        total_time=record["wall_time"], environment=record["environment"],
        n_train=h["train_size"], n_val=h["val_size"], n_test=record["n_test"],
        first_conv=first.tolist() if first is not None and first.ndim == 4 else [])
