"""Activations chapter: report 001's activations in simp_Res9, and report 004's in its
MLP trained with the torch trainer (our illustration: report 004's own comparison, on its
NumPy MLP, is judged in the NumPy chapter)."""
from __future__ import annotations

from typing import Any, List, Mapping

from . import EXPERIMENTS, Run, seeded
from .recipes import report001, report004

ACTS_001 = {"ReLU": "relu", "Mish": "mish", "ELU": "elu", "RReLU": "rrelu", "GELU": "gelu"}
ACTS_004 = {"Sigmoid": "sigmoid", "Tanh": "tanh", "ReLU": "relu", "LeakyReLU": "leaky_relu"}


@EXPERIMENTS.register("activations")
def activations(p: Mapping[str, Any]) -> List[Run]:
    seeds = p["seeds"]
    # ReLU is simp_Res9's own activation: the base recipe, one key with every other chapter.
    r001 = {k: report001(p) if a == "relu" else report001(p, model_args={"activation": a})
            for k, a in ACTS_001.items()}
    sigmoid = {"Sigmoid": report001(p, model_args={"activation": "sigmoid"})}
    # Report 004's activation comparison: lr 0.01, weight decay 1e-4, a constant rate
    # (its StepLR with gamma 1), 20 epochs at full.
    r004 = {k: report004(p, lr=0.01, weight_decay=1e-4, schedule="none", model_args={"activation": a})
            for k, a in ACTS_004.items()}
    # the stability row counts each seed's setbacks (no pooled noise): every seed is tier 1
    return (seeded("activations", "001", r001, seeds, report="001",
                   claims=("test and training accuracy per activation", "ranking", "stability"), every_seed=True)
            + seeded("activations", "001", sigmoid, seeds, report="001",
                     claims=("Sigmoid is left out because its gradients vanish in a deep net",))
            + seeded("activations", "004", r004, seeds, report="004", extra=True))
