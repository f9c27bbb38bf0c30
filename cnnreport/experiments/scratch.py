"""NumPy chapter: its PyTorch comparison runs (the NumPy runs themselves have their own
store, :mod:`cnnreport.scratch.store`, and are computed on a CPU, not queued)."""
from __future__ import annotations

from typing import Any, Dict, List, Mapping

from . import EXPERIMENTS, Run, seeded
from .recipes import report004


def twin_scale(p: Mapping[str, Any]) -> Dict[str, Any]:
    """The torch runs' data sizes and epochs: as many training and validation images as
    the NumPy runs draw (a ``subsample`` of the 60,000, split 5:1), all 10,000 test images."""
    sub = p["subsample"]
    return {"mnist_subset": None if sub >= 1 else round(60000 * sub * 5 / 6),
            "val_subset": None if sub >= 1 else round(60000 * sub / 6),
            "test_subset": None, "epochs_004": p["epochs_final"]}


@EXPERIMENTS.register("scratch")
def scratch(p: Mapping[str, Any]) -> List[Run]:
    q = twin_scale(p)
    twins = {
        "MLP": report004(q, model_args={"hidden": [p["hidden"]]},
                         schedule_args={"step_size": p["final_step"], "gamma": 0.1}),
        "CNN": report004(q, model="lenet", lr=0.01,
                         schedule_args={"step_size": p["cnn_step"], "gamma": 0.1}),
    }
    return seeded("scratch", "twins", twins, p["seeds"], report="004", extra=True)
