"""NumPy runs as ordinary results: trained once, stored as a :class:`~cnnreport.core.store.Result`.

A NumPy run's :class:`~cnnreport.core.store.Result` lives in the profile's results folder
under the subfolder :data:`SUBFOLDER`, ``<root>/scratch/<key>.json``, read and written by
the same :class:`~cnnreport.core.store.ResultStore` as the PyTorch runs.  The subfolder keeps
the two key spaces apart: a PyTorch result's key hashes a ``RunConfig``, a NumPy one's
hashes the normalized NumPy config (:func:`~cnnreport.scratch.config.config_key`), and
its ``config`` field is that normalized config, so the key can be checked against it.

The Result holds the curves, the test results of the best validation epoch
(``test_*``) and of the last epoch trained (``final_test_*``, what report 004's code
scores), the confusion matrix of the best validation epoch's weights, timing
(``train_time``, wall ``total_time``, and ``extra["cpu_time"]``) and the environment
(thread settings, load average); unless ``weights=False`` also a compact copy of the
first layer's weights (the best validation epoch's) for the pictures:

* LeNet's first convolution: all kernels, rounded to 4 decimals, in ``first_conv``;
* the MLP's first Linear layer: in ``extra["first_layer"]``, the first :data:`N_UNITS`
  hidden units' 784 weights quantized to int8 per unit (value = q * scale / 127) and
  base64-encoded: ~70 KB instead of ~400 KB as decimal text, and 1/254 of a unit's range
  is far finer than a picture shows.

Like the rest of :mod:`cnnreport.scratch` this module never imports torch.
"""
from __future__ import annotations

import base64
import math
import os
import platform
import time
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

import numpy as np

from ..core.cache import json_safe
from ..core.store import Result, ResultStore
from .config import DEFAULTS, build, config_key, normalize  # noqa: F401 (the schema, re-exported)
from .conv import Conv2D
from .layers import Linear
from .search import subsample
from .train import load_mnist, prepare_images, train

SUBFOLDER = "scratch"  # NumPy results: <results root>/scratch/<key>.json
N_UNITS = 64  # hidden units whose weights a result keeps for the pictures
CLASSES = [str(i) for i in range(10)]


def results_store(root: Union[str, os.PathLike]) -> ResultStore:
    """The store of NumPy results of the results folder ``root``."""
    return ResultStore(Path(root) / SUBFOLDER)


def record_path(config: Mapping[str, Any], root: Union[str, os.PathLike]) -> Path:
    """Where the result of ``config`` is stored under the results folder ``root``."""
    return results_store(root).path(config_key(config))


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


def _decode(enc: Mapping[str, Any]) -> np.ndarray:
    if enc["kind"] == "conv":
        return np.array(enc["values"], np.float32)
    q = np.frombuffer(base64.b64decode(enc["data"]), np.int8).reshape(enc["shape"])
    return q.astype(np.float32) * np.array(enc["scale"], np.float32)[:, None] / 127


def decode_first_layer(result: Union[Result, Mapping[str, Any]]) -> Optional[np.ndarray]:
    """The stored first-layer weights of a NumPy Result: (n_units, in_features) for an
    MLP, (O, C, k, k) for a CNN; None when it kept none.  Also takes a mapping
    ``{"first_layer": <encoding>}`` (an :func:`encode_first_layer` value)."""
    if isinstance(result, Result):
        if result.first_conv:
            return np.array(result.first_conv, np.float32)
        enc = result.extra.get("first_layer")
    else:
        enc = result.get("first_layer")
    return _decode(enc) if enc else None


def has_weights(result: Result) -> bool:
    return bool(result.first_conv or result.extra.get("first_layer"))


# ----------------------------------------------------------------------------- runs
def _environment() -> Dict[str, Any]:
    env = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    return {"numpy": np.__version__, "python": platform.python_version(),
            "platform": platform.platform(), "cpu_count": os.cpu_count(), "threads": env,
            "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}


def make_result(config: Mapping[str, Any], history: Mapping[str, Any], *, confusion, num_params: int,
                wall_time: float, cpu_time: float, environment: Mapping[str, Any], created: str,
                first_layer: Optional[Mapping[str, Any]] = None) -> Result:
    """The Result of one NumPy run from what it measured.

    history: a :meth:`cnnreport.scratch.train.History.to_dict`; its test results are the
      best validation epoch's (``test_*``) and the last epoch's (``final_test_*``).
    first_layer: an :func:`encode_first_layer` value, or None to keep no weights."""
    c = normalize(config)
    h = history
    n = len(h["train_loss"])
    conf = np.asarray(confusion, np.int64)
    per_class = (np.diag(conf) / np.maximum(conf.sum(1), 1)).tolist()
    bad = any(v is None or not math.isfinite(v) for v in h["train_loss"])
    extra: Dict[str, Any] = {"cpu_time": cpu_time, "created": created}
    first_conv = []
    if first_layer and first_layer["kind"] == "conv":
        first_conv = first_layer["values"]
    elif first_layer:
        extra["first_layer"] = dict(first_layer)
    return Result(
        key=config_key(c), config=c, status="diverged" if bad else "ok",
        reason="early stopped" if h["stopped_early"] else "",
        history={"epoch": list(range(1, n + 1)), "train_loss": h["train_loss"],
                 "train_acc": h["train_acc"], "val_loss": h["val_loss"], "val_acc": h["val_acc"],
                 "lr": h["lr"], "epoch_time": h["epoch_time"]},
        best_epoch=h["best_epoch"], stopped_epoch=n, early_stopped=bool(h["stopped_early"]),
        test_loss=h["test_loss"], test_acc=h["test_acc"], final_test_loss=h.get("final_test_loss"),
        final_test_acc=h.get("final_test_acc"), per_class_acc=per_class,
        confusion=conf.tolist(), classes=list(CLASSES), num_params=int(num_params),
        train_time=h["train_time"], total_time=wall_time, environment=dict(environment),
        n_train=h["train_size"], n_val=h["val_size"], n_test=int(conf.sum()),
        first_conv=first_conv, extra=extra)


def execute(config: Mapping[str, Any], data: Optional[Mapping[str, np.ndarray]] = None,
            progress: bool = False, weights: bool = True) -> Result:
    """Train one run (no caching) and return its Result."""
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
    result = make_result(c, json_safe(hist.to_dict()), confusion=confusion,
                         num_params=model.num_params(), wall_time=wall, cpu_time=cpu,
                         environment=env, created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                         first_layer=encode_first_layer(model) if weights else None)
    # What a reader gets back from the file: JSON values (NaN as None), not NumPy ones.
    return Result.from_dict(json_safe(result.to_dict()))


def load(config: Mapping[str, Any], root: Union[str, os.PathLike]) -> Optional[Result]:
    """The stored Result of ``config`` under the results folder ``root``, or None."""
    return results_store(root).get(config_key(config))


def complete(result: Result) -> bool:
    """Whether a stored Result has every reading a page takes from it: a finished run made
    before the last epoch's test result was recorded (``final_test_acc`` None) lacks the
    reading report 004's code makes, and is trained again."""
    return not result.done or result.final_test_acc is not None


def run_or_load(config: Mapping[str, Any], root: Union[str, os.PathLike], *,
                data: Optional[Mapping[str, np.ndarray]] = None, progress: bool = False,
                weights: bool = True, force: bool = False) -> Result:
    """The stored Result of ``config`` under ``<root>/scratch/``, training it first if
    it is missing (or if ``weights`` are wanted and the stored one kept none).

    data: MNIST arrays (x_train, y_train, x_test, y_test); loaded with
      :func:`~cnnreport.scratch.train.load_mnist` only when a run must train.
    """
    if not force:
        found = load(config, root)
        if found is not None and complete(found) and (has_weights(found) or not weights):
            return found
    result = execute(config, data, progress=progress, weights=weights)
    results_store(root).put(result)
    return result


def as_result(result: Result) -> Result:
    """A copy for the book's tables and plots, beside the PyTorch twins: the model is
    named "<model> (NumPy)" and the CNN's kernels are float32 values, as the pictures
    take them.  (The stored Result stays as it is: its config recomputes its key.)"""
    cfg = {**result.config, "model": f"{result.config['model']} (NumPy)"}
    first = decode_first_layer(result)
    return Result(**{**{k: getattr(result, k) for k in Result.__dataclass_fields__}, "config": cfg,
                     "first_conv": first.tolist() if first is not None and first.ndim == 4 else []})


PENDING_REASON = "not computed yet: NumPy runs compute on a CPU with CNNREPORT_TRAIN=1"


def run_or_pending(config: Mapping[str, Any], root: Union[str, os.PathLike], *, train: bool,
                   data: Optional[Mapping[str, np.ndarray]] = None, weights: bool = False) -> Result:
    """What a chapter page shows for one NumPy run: the stored run (as :func:`as_result`
    gives it), trained first if ``train`` allows; else, when it is not stored (or stored
    without a reading the page takes, see :func:`complete`), a pending placeholder whose reason names how to compute it (the full profile trains only when
    asked, see :func:`cnnreport.pages.chapter.may_train`)."""
    if not train:
        found = load(config, root)
        if found is None or not complete(found):
            return Result(key=config_key(config), config=dict(config), status="pending",
                          reason=PENDING_REASON)
    return as_result(run_or_load(config, root, data=data, weights=weights))
