"""Architectures chapter: seven models with three reports' recipes.

Groups: ``"000"`` (BasicCNN, ImprovedCNN, ResidualCNN with report 000's recipe), ``"001"``
(ResNet-18, Res9, simp_Res9 with report 001's; simp_Res9 is exactly report 001's base
recipe, the config other chapters vary) and ``"003"`` (ResNet-9 and a plain 3-layer CNN
with report 003's).
"""
from __future__ import annotations

from typing import Any, List, Mapping

from . import EXPERIMENTS, Run, seeded
from .recipes import report000, report001, report003

CLAIMS_000 = ("BasicCNN test accuracy", "ImprovedCNN test accuracy", "ResidualCNN test accuracy",
              "Training-time order", "ResidualCNN confuses cat and dog most",
              "plane, car and ship have the highest per-class accuracy",
              "BasicCNN converges slowly, ImprovedCNN fast early on")
CLAIMS_001 = ("ResNet-18, Res9, simp_Res9 test accuracy", "accuracy order Res18 > Res9 > simp_Res9",
              "smaller models: less training time and smaller weights",
              "smaller models' loss falls faster early on")
CLAIMS_001_BASE = CLAIMS_001 + ("the base recipe's four quotes are run-to-run noise",)
CLAIMS_003 = ("ResNet-9 without augmentation: 87.64", "ResNet-9 test loss 0.555",
              "above 80% validation accuracy within five epochs")


@EXPERIMENTS.register("architectures")
def architectures(p: Mapping[str, Any]) -> List[Run]:
    big = {"width": p["width"]}
    seeds = p["seeds"]
    r000 = {
        "BasicCNN": report000(p, model="basic_cnn"),
        "ImprovedCNN": report000(p, model="improved_cnn", model_args=big, loss="label_smoothing"),
        "ResidualCNN": report000(p, model="residual_cnn", model_args=big),
    }
    r001 = {
        "ResNet-18": report001(p, model="resnet18"),
        "Res9": report001(p, model="res9"),
    }
    base = {"simp_Res9": report001(p)}  # report 001's base recipe, unchanged
    r003 = {"ResNet-9": report003(p)}
    # BasicCNN at its own size (report 003 gives its plain CNN no layers).
    control = {"3-layer CNN (003 recipe)": {**report003(p, model="basic_cnn"), "model_args": {}}}
    # Rows on each seed's curves, times and confusions (convergence, training time, the most
    # confused pair, a level passed within five epochs) borrow no pooled noise: every seed of
    # the runs they read is tier 1 (Run.every_seed).
    return (seeded("architectures", "000", r000, seeds, report="000", claims=CLAIMS_000, every_seed=True)
            + seeded("architectures", "001", r001, seeds, report="001", claims=CLAIMS_001, every_seed=True)
            + seeded("architectures", "001", base, seeds, report="001", claims=CLAIMS_001_BASE, every_seed=True)
            + seeded("architectures", "003", r003, seeds, report="003", claims=CLAIMS_003, every_seed=True)
            + seeded("architectures", "003", control, seeds, report="003",
                     claims=("A plain 3-layer CNN stalls at 65-75%",)))
