"""Grid search over runs on a random subsample (report 004: 10% of MNIST's training
images, 27 runs of lr x hidden x weight decay).

Rows report validation *and* test results, but ``best_row`` ranks by validation
accuracy only: the test column is shown for comparison with the report, which ranked
its grid on test accuracy.  The table is a plain list of dicts so the package needs no
pandas; ``to_dataframe`` converts it when pandas is installed and ``format_table``
prints it either way.
"""
from __future__ import annotations

import itertools
import time
from typing import Dict, Iterable, List, Mapping, Optional, Sequence

import numpy as np

from .model import lenet, mlp
from .optim import make_optimizer, make_schedule
from .train import train

#: Every key a grid or a base config may set, with its default.
DEFAULTS: Dict[str, object] = {
    "model": "mlp", "hidden": (1000,), "activation": "leaky_relu", "weight_decay": 0.0,
    "optimizer": "momentum", "lr": 0.1, "momentum": 0.9,
    "schedule": "step", "step_size": 5, "gamma": 1.0, "milestones": (),
    "epochs": 20, "batch_size": 32, "patience": None, "augment": False,
}


def build_run(config: Mapping[str, object], dtype=None, seed: Optional[int] = 0):
    """(model, optimizer, schedule) for one configuration (missing keys: DEFAULTS)."""
    unknown = set(config) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown config keys {sorted(unknown)}; allowed: {sorted(DEFAULTS)}")
    c = {**DEFAULTS, **config}
    if c["model"] == "mlp":
        model = mlp(hidden=c["hidden"], activation=c["activation"],
                    weight_decay=c["weight_decay"], dtype=dtype, seed=seed)
    elif c["model"] == "lenet":
        model = lenet(activation=c["activation"], weight_decay=c["weight_decay"],
                      dtype=dtype, seed=seed)
    else:
        raise ValueError(f"unknown model {c['model']!r}; choose 'mlp' or 'lenet'")
    opt_kw = {"momentum": c["momentum"]} if c["optimizer"] in ("momentum", "nesterov") else {}
    optimizer = make_optimizer(str(c["optimizer"]), model, lr=float(c["lr"]), **opt_kw)
    sched = c["schedule"]
    kw = {"step": {"step_size": c["step_size"], "gamma": c["gamma"]},
          "multistep": {"milestones": c["milestones"], "gamma": c["gamma"]},
          "exponential": {"gamma": c["gamma"]}}.get(str(sched).lower(), {})
    return model, optimizer, make_schedule(sched, optimizer, **kw)


def expand_grid(param_grid: Mapping[str, Sequence]) -> List[Dict[str, object]]:
    """Cartesian product, in the order the keys and values are given."""
    keys = list(param_grid)
    for k in keys:
        if isinstance(param_grid[k], (str, bytes)) or not isinstance(param_grid[k], Iterable):
            raise ValueError(f"grid values for {k!r} must be a list, got {param_grid[k]!r}")
    return [dict(zip(keys, combo)) for combo in itertools.product(*(param_grid[k] for k in keys))]


def subsample(x: np.ndarray, y: np.ndarray, fraction: float, seed: Optional[int] = 0):
    """A seeded random fraction of a set (without replacement)."""
    if not 0 < fraction <= 1:
        raise ValueError("subsample_fraction must be in (0, 1]")
    n = max(1, int(round(len(x) * fraction)))
    idx = np.random.default_rng(seed).choice(len(x), size=n, replace=False)
    return x[idx], y[idx]


def grid_search(param_grid: Mapping[str, Sequence], data: Mapping[str, np.ndarray],
                subsample_fraction: float = 0.1, seed: Optional[int] = 0,
                base: Optional[Mapping[str, object]] = None, dtype=None,
                progress: bool = False, verbose: bool = True) -> List[Dict[str, object]]:
    """Train one model per grid point on the same seeded subsample of the training
    set (itself split 5:1 into train/val) and evaluate on the full test set.

    param_grid: e.g. {"lr": [1e-1, 1e-2, 1e-3], "hidden": [500, 1000, 2000],
      "weight_decay": [1e-2, 1e-3, 1e-4]}; keys from :data:`DEFAULTS`.
    base: fixed settings for every run (e.g. {"epochs": 20, "gamma": 1}).
    Returns a list of row dicts: the grid values, then val_acc, val_loss, best_epoch,
    test_acc, test_loss, epochs_run and seconds.
    """
    x, y = subsample(data["x_train"], data["y_train"], subsample_fraction, seed)
    sub = {"x_train": x, "y_train": y, "x_test": data["x_test"], "y_test": data["y_test"]}
    rows = []
    combos = expand_grid(param_grid)
    for i, point in enumerate(combos, 1):
        cfg = {**(base or {}), **point}
        model, opt, sched = build_run(cfg, dtype=dtype, seed=seed)
        c = {**DEFAULTS, **cfg}
        t0 = time.perf_counter()
        # Same seed for every run: identical split, order and init up to the grid values.
        h = train(model, sub, epochs=int(c["epochs"]), batch_size=int(c["batch_size"]),
                  optimizer=opt, schedule=sched, patience=c["patience"],
                  augment=bool(c["augment"]), progress=progress, seed=seed)
        row = {**point, "val_acc": h.best_val_acc, "val_loss": h.val_loss[h.best_epoch - 1],
               "best_epoch": h.best_epoch, "test_acc": h.test_acc, "test_loss": h.test_loss,
               "epochs_run": h.epochs_run, "seconds": time.perf_counter() - t0}
        rows.append(row)
        if verbose:
            print(f"[{i}/{len(combos)}] " + ", ".join(f"{k}={v}" for k, v in point.items())
                  + f" -> val {row['val_acc']:.4f}, test {row['test_acc']:.4f}", flush=True)
    return rows


def best_row(rows: List[Mapping[str, object]], key: str = "val_acc") -> Mapping[str, object]:
    """The row with the highest ``key`` (validation accuracy by default)."""
    if not rows:
        raise ValueError("empty table")
    return max(rows, key=lambda r: r[key])


def to_dataframe(rows: List[Mapping[str, object]]):
    """pandas DataFrame of the rows (raises ImportError if pandas is missing)."""
    import pandas as pd
    return pd.DataFrame(list(rows))


def format_table(rows: List[Mapping[str, object]], columns: Optional[Sequence[str]] = None,
                 floatfmt: str = ".4f") -> str:
    """Fixed-width text table (no pandas needed)."""
    if not rows:
        return "(empty)"
    columns = list(columns or dict.fromkeys(k for r in rows for k in r))

    def cell(v):
        if isinstance(v, float):
            return format(v, floatfmt if 1e-3 <= abs(v) < 1e5 or v == 0 else ".3g")
        return str(v)

    table = [columns] + [[cell(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    lines = ["  ".join(s.rjust(w) for s, w in zip(row, widths)) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
