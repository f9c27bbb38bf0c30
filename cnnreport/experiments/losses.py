"""Losses chapter: report 001's three losses on simp_Res9, report 002's MSE against
cross-entropy on its two Fashion-MNIST nets with Adam and with SGD.

The report-002 runs are runs 2, 15 and 28-33 of its table, built with
:func:`.recipes.report002` exactly as the hyperparameter chapter builds them, so at the
full profile the two chapters share their keys.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping

from . import EXPERIMENTS, Run, seeded
from .recipes import REPORT002_RUN2, REPORT002_RUN15, report001, report002

LOSSES001 = {"cross-entropy": "cross_entropy", "SmoothL1": "smooth_l1", "BCEWithLogits": "bce_with_logits"}
NETS = {"alexnet_fmnist": "AlexNet", "vgg_fmnist": "VGG"}
LOSSES002 = {"CE": "cross_entropy", "MSE": "mse"}
# Report 002's settings for each optimizer's comparison: its runs 15 (Adam) and 2 (SGD).
RECIPES002 = {"Adam": REPORT002_RUN15, "SGD": REPORT002_RUN2}
# (optimizer, net, loss) -> report 002's run number.
RUN_NUMBER = {("Adam", "AlexNet", "CE"): 15, ("Adam", "VGG", "CE"): 28, ("Adam", "VGG", "MSE"): 29,
              ("Adam", "AlexNet", "MSE"): 30, ("SGD", "AlexNet", "MSE"): 31, ("SGD", "VGG", "MSE"): 32,
              ("SGD", "VGG", "CE"): 33, ("SGD", "AlexNet", "CE"): 2}


def scale002(p: Mapping[str, Any]) -> Dict[str, Any]:
    """This chapter's scale for report 002's runs, in the hyperparameter chapter's names."""
    return dict(width=p["width"], train_subset=p["fmnist_subset"], val_subset=p["val_subset"],
                test_subset=p["test_subset"], epochs=p["epochs_002"], momentum=p["sgd_momentum_002"])


def label002(opt: str, net: str, loss: str) -> str:
    return f"{net}, {opt}, {loss}"


@EXPERIMENTS.register("losses")
def losses(p: Mapping[str, Any]) -> List[Run]:
    seeds = p["seeds"]
    r001 = {label: report001(p, loss=loss) for label, loss in LOSSES001.items()}
    runs = seeded("losses", "001", r001, seeds, report="001",
                  claims=("test and training accuracy by loss", "cross-entropy > BCEWithLogits > SmoothL1"))
    for opt, recipe in RECIPES002.items():
        for model in p["fmnist_models"]:
            for ln, loss in LOSSES002.items():
                cfg = report002({**recipe, **scale002(p), "model": model, "loss": loss})
                claims = ["test accuracy by optimizer and loss", "MSE beats CE with Adam, fails with SGD",
                          "MSE with SGD converges very slowly" if opt == "SGD" else "the shirt class stays below 80%"]
                # each of those last two reads every seed's own curve or class accuracy, which
                # borrows no pooled noise: all seeds are needed for its verdict
                runs += seeded("losses", "002", {label002(opt, NETS[model], ln): cfg}, seeds,
                               report="002", claims=claims, every_seed=True)
    return runs
