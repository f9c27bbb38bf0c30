"""Hyperparameters chapter: report 002's 33 runs on Fashion-MNIST.

Two groups: ``this`` is the page's own run (its parameters are one row of the report's
table) and ``table`` the runs of the sweep file the ``grid`` parameter names
(``params/sweeps/hyperparams_<profile>.yaml``; all 33 at the full profile), each built
with :func:`.recipes.report002` so the losses and augmentation chapters' runs of the
same experiment have the same key.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Tuple

from ..core.store import CONTROLS_DIR
from . import EXPERIMENTS, Run, seeded
from .recipes import report002

# The page's parameters that make up one run of report 002.
SETTINGS = ("model", "loss", "batch_size", "epochs", "optimizer", "lr", "momentum", "dropout",
            "scheduler", "width", "train_subset", "val_subset", "test_subset")

# Which audit rows of the chapter read which of the report's runs (the noise runs 2, 15 and
# 28 also lend their seed spread to every one-seed measurement of the chapter).
CLAIMS: Dict[str, Tuple[str, ...]] = {}
for _claim, _runs in {
    **{f"Run {_n}: test accuracy": (_n,) for _n in (1, 2, 4, 5, 6, 7, 8, 10, 11, 12, *range(17, 28))},
    "Adam lr 0.01 learns nothing (run 3)": (3,),
    "Adam lr 1e-4 is the best of runs 3-7": (3, 4, 5, 6, 7),
    "Runs 6 and 7 converge better than runs 4 and 5": (4, 5, 6, 7),
    "SGD lr 0.05's loss does not converge, lr 0.01 and 0.008 do (runs 17, 2, 18)": (2, 17, 18),
    "SGD lr 0.01 beats 0.008 (runs 2, 18, 19)": (2, 18, 19),
    "Larger batches narrow the gap (runs 9-12)": (9, 10, 11, 12),
    "Batch 128 has the highest accuracy (runs 9-12)": (9, 10, 11, 12),
    "With SGD batch 64 overfits, 128 and 256 generalise well (runs 2, 22, 24)": (2, 22, 24),
    "At batch 256, 30 epochs is best and 40 overfit (runs 20-23)": (20, 21, 22, 23),
    "With SGD dropout barely matters, 0.5 highest (runs 2, 25-27)": (2, 25, 26, 27),
    "With Adam the gap shrinks as dropout rises (runs 9, 13-16)": (9, 13, 14, 15, 16),
    "The scheduler improves accuracy (runs 1, 2, 6, 9)": (1, 2, 6, 9),
    "The scheduler improves Adam's validation curves (runs 6, 9)": (6, 9),
    "The scheduler damps oscillation with SGD (runs 1, 2)": (1, 2),
    "Best Adam and best SGD are close; SGD generalises slightly better (runs 2, 15)": (2, 15),
    "AlexNet against VGG matters little (runs 2, 15, 28, 33)": (2, 15, 28, 33),
}.items():
    for _n in _runs:
        CLAIMS[f"run {_n}"] = CLAIMS.get(f"run {_n}", ()) + (_claim,)

# The claims whose rules read each seed's own validation-loss curve (how far it ends above its
# lowest, its late jitter) or stopping point: such a measure varies with the setting far more
# than between the noise runs' seeds, so no pooled spread is borrowed, and every seed of their
# runs is needed for a verdict (:attr:`cnnreport.experiments.Run.every_seed`).
EVERY_SEED = ("Adam lr 0.01 learns nothing (run 3)", "Runs 6 and 7 converge better than runs 4 and 5",
              "SGD lr 0.05's loss does not converge, lr 0.01 and 0.008 do (runs 17, 2, 18)",
              "The scheduler improves Adam's validation curves (runs 6, 9)",
              "The scheduler damps oscillation with SGD (runs 1, 2)")


def every_seed(label: str) -> bool:
    """Whether a run of the table serves a claim that needs all its seeds (:data:`EVERY_SEED`)."""
    return any(c in EVERY_SEED for c in CLAIMS.get(label, ()))


# Our controls of run 2 (AlexNet, plain SGD at lr 0.01, cross-entropy), one seed each, tier 3:
# label -> (changes to run 2's config, the store's subfolder).  The fp32 twin differs only in
# precision, which is not part of a key, so it lives in the controls folder beside the bf16 run;
# the others each test one assumption that could explain run 2's gap to the report's table.
CONTROL_OF = "run 2"
CONTROLS: Dict[str, Tuple[Dict[str, Any], str]] = {
    "run 2, fp32": ({"precision": "fp32"}, CONTROLS_DIR),
    "run 2, momentum 0.9": ({"momentum": 0.9}, ""),
    "run 2, PyTorch default init": ({"model_args": {"init": "default"}}, ""),
    "run 2, weight decay 5e-4": ({"weight_decay": 5e-4}, ""),
}


def this_run(p: Mapping[str, Any]) -> Dict[str, Any]:
    """The page's own run as report-002 settings."""
    return {k: p[k] for k in SETTINGS}


def table_runs(p: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
    """label -> the settings of every run in the chapter's sweep file (none without one).

    Each entry of the file is a set of this chapter's parameters; the page's own values
    fill what an entry leaves out, as the sweep command does."""
    if not p.get("grid"):
        return {}
    from ..core.paths import repo_root
    from .grids import expand, load_grid
    spec = load_grid(repo_root() / p["grid"])
    return {q["label"]: q for q in expand(spec, defaults=dict(p))}


@EXPERIMENTS.register("hyperparams")
def hyperparams(p: Mapping[str, Any]) -> List[Run]:
    seeds = p["seeds"]
    runs = seeded("hyperparams", "this", {p["label"]: report002(this_run(p))}, seeds,
                  report="002", claims=CLAIMS.get(p["label"], ()), every_seed=every_seed(p["label"]))
    table = table_runs(p)
    for label, q in table.items():
        runs += seeded("hyperparams", "table", {label: report002(q)}, seeds, report="002",
                       claims=CLAIMS.get(label, ()), every_seed=every_seed(label))
    if p.get("controls") and CONTROL_OF in table:
        for label, (changes, store) in CONTROLS.items():
            runs += seeded("hyperparams", "controls", {label: report002(table[CONTROL_OF], **changes)},
                           seeds[:1], report="002", extra=True, store=store)
    return runs
