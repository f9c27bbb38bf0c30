"""Augmentation chapter: report 001's crop, flip and random erasing on simp_Res9 and its
best recipe; report 002's dropout sweep; label smoothing and weight decay as our own
additions.

Groups: ``001`` (augmentations on the base recipe), ``best`` (report 001's best recipe and
its controls), ``reg`` (our label-smoothing and weight-decay runs), ``dropout`` (report
002's Adam runs 13, 9, 14, 15, 16, built with :func:`.recipes.report002` as the
hyperparameter chapter builds them).
"""
from __future__ import annotations

from typing import Any, List, Mapping

from . import EXPERIMENTS, Run, seeded
from .recipes import REPORT002_RUN15, report001, report002

CROP_FLIP, ERASING = ["crop", "flip"], ["crop", "flip", "erasing"]
BEST_ARGS = {"first_block": [3, 3], "activation": "gelu"}
CONTROL = "crop + flip, erasing's epochs"


def best_recipe(p: Mapping[str, Any], augment=ERASING) -> dict:
    """Report 001's best recipe: [3x3, 3x3] first block, GELU, cosine decay, augmentation,
    ``epochs_best`` epochs.  Its "augmentation" follows the section that introduced random
    erasing as the added augmentation, so crop + flip + erasing."""
    return report001(p, model_args=BEST_ARGS, schedule="cosine", augment=list(augment),
                     epochs=p["epochs_best"])


def dropout_label(q: float) -> str:
    return f"p = {q:g}"


@EXPERIMENTS.register("augmentation")
def augmentation(p: Mapping[str, Any]) -> List[Run]:
    seeds = p["seeds"]
    runs = seeded("augmentation", "001", {"crop + flip": report001(p)}, seeds, report="001",
                  claims=("with crop + flip, training accuracy near 100%, test near 90%",
                          "random erasing improves generalisation"))
    # the overfitting row reads each seed's own gap (no pooled noise): every seed is tier 1
    runs += seeded("augmentation", "001",
                   {"crop + flip + erasing": report001(p, augment=ERASING, epochs=p["epochs_erasing"])},
                   seeds, report="001", claims=("random erasing, 70 epochs: train and test accuracy",
                                               "no visible overfitting with random erasing",
                                               "random erasing improves generalisation"), every_seed=True)
    controls = {"no augmentation": report001(p, augment=[])}
    if p["epochs_erasing"] != p["epochs_001"]:  # the erasing run's length without erasing
        controls[CONTROL] = report001(p, epochs=p["epochs_erasing"])
    runs += seeded("augmentation", "001", controls, seeds, extra=True)
    runs += seeded("augmentation", "best", {"best recipe": best_recipe(p)}, seeds, report="001",
                   claims=("best recipe: train and test accuracy",))
    runs += seeded("augmentation", "best",
                   {"best recipe, crop + flip only": best_recipe(p, CROP_FLIP),
                    "base recipe, same epochs": report001(p, epochs=p["epochs_best"])}, seeds, extra=True)
    reg = {f"label smoothing {p['label_smoothing']:g}":
           report001(p, loss_args={"label_smoothing": p["label_smoothing"]})}
    reg.update({f"weight decay {wd:g}": report001(p, weight_decay=wd) for wd in p["weight_decays"]})
    runs += seeded("augmentation", "reg", reg, seeds, extra=True)
    scale = dict(width=p["width"], train_subset=p["fmnist_subset"], val_subset=p["val_subset"],
                 test_subset=p["test_subset"], epochs=p["epochs_002"])
    drop = {dropout_label(q): report002({**REPORT002_RUN15, **scale, "dropout": q}) for q in p["dropouts"]}
    runs += seeded("augmentation", "dropout", drop, seeds, report="002",
                   claims=("dropout with Adam: test accuracy", "dropout 0.7 is best with Adam"))
    return runs
