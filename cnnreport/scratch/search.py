"""Grid search over runs on a random subsample (report 004: 10% of MNIST's training
images, 27 runs of lr x hidden x weight decay).

Rows report validation *and* test results, but ``best_row`` ranks by validation
accuracy only: the test column is shown for comparison with the report, which ranked
its grid on test accuracy.  The table is a plain list of dicts so the package needs no
pandas; ``to_dataframe`` converts it when pandas is installed and ``format_table``
prints it either way.

A grid point is a NumPy run config (:mod:`cnnreport.scratch.config`, the one schema:
``{"lr": 0.1, "gamma": 0.5}``); what the grid does not set comes from
:data:`GRID_DEFAULTS`, the report's search settings (20 epochs at a constant rate).
"""
from __future__ import annotations

import itertools
import time
from typing import Dict, Iterable, List, Mapping, Optional, Sequence

import numpy as np

from .config import build, normalize
from .train import train

#: What a grid point does not set: report 004's search ran 20 epochs of StepLR(5) with
#: gamma 1 (a constant rate, unless the grid sets gamma).  Every other setting has the
#: schema's default (:data:`cnnreport.scratch.config.DEFAULTS`).
GRID_DEFAULTS: Dict[str, object] = {"epochs": 20, "schedule": "step", "step_size": 5, "gamma": 1.0}


def grid_config(config: Mapping[str, object], dtype=None, seed: int = 0) -> Dict[str, object]:
    """The normalized run config of a grid point (missing settings: :data:`GRID_DEFAULTS`)."""
    return normalize({**GRID_DEFAULTS, **config, "seed": seed,
                      **({} if dtype is None else {"dtype": dtype})})


def build_run(config: Mapping[str, object], dtype=None, seed: int = 0):
    """(model, optimizer, schedule) of a grid point."""
    return build(grid_config(config, dtype, seed))


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
                subsample_fraction: float = 0.1, seed: int = 0,
                base: Optional[Mapping[str, object]] = None, dtype=None,
                progress: bool = False, verbose: bool = True) -> List[Dict[str, object]]:
    """Train one model per grid point on the same seeded subsample of the training
    set (itself split 5:1 into train/val) and evaluate on the full test set.

    param_grid: e.g. {"lr": [1e-1, 1e-2, 1e-3], "hidden": [500, 1000, 2000],
      "weight_decay": [1e-2, 1e-3, 1e-4]}; keys of a NumPy run config.
    base: fixed settings for every run (e.g. {"epochs": 20, "gamma": 1}).
    Returns a list of row dicts: the grid values, then val_acc, val_loss, best_epoch,
    test_acc, test_loss (best validation epoch), final_test_acc, final_test_loss (last
    epoch, report 004's reading), epochs_run and seconds.
    """
    x, y = subsample(data["x_train"], data["y_train"], subsample_fraction, seed)
    sub = {"x_train": x, "y_train": y, "x_test": data["x_test"], "y_test": data["y_test"]}
    rows = []
    combos = expand_grid(param_grid)
    for i, point in enumerate(combos, 1):
        c = grid_config({**(base or {}), **point}, dtype=dtype, seed=seed)
        model, opt, sched = build(c)
        t0 = time.perf_counter()
        # Same seed for every run: identical split, order and init up to the grid values.
        h = train(model, sub, epochs=c["epochs"], batch_size=c["batch_size"], optimizer=opt,
                  schedule=sched, val_fraction=c["val_fraction"], patience=c["patience"],
                  augment=c["augment"], progress=progress, seed=seed)
        row = {**point, "val_acc": h.best_val_acc, "val_loss": h.val_loss[h.best_epoch - 1],
               "best_epoch": h.best_epoch, "test_acc": h.test_acc, "test_loss": h.test_loss,
               "final_test_acc": h.final_test_acc, "final_test_loss": h.final_test_loss,
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
