"""Schedules chapter: report 001's three schedulers on simp_Res9, report 003's warmup
on ResNet-9, and per-epoch decays on report 004's MLP."""
from __future__ import annotations

from typing import Any, Dict, List, Mapping

from . import EXPERIMENTS, Run, seeded
from .recipes import report001, report003, report004

# Per-epoch decays on the MLP: label -> (schedule, schedule_args).  Report 004 ran StepLR;
# it implemented MultiStepLR and ExponentialLR without reporting their arguments (ours),
# and report 002's polynomial decay is tried here only as our own illustration.
MLP_CLAIMED = {"constant": ("none", {}), "StepLR (2, 0.1)": ("step", {"step_size": 2, "gamma": 0.1})}
MLP_EXTRA = {"MultiStepLR ([3, 4], 0.1)": ("multistep", {"milestones": [3, 4], "gamma": 0.1}),
             "ExponentialLR (0.5)": ("exponential", {"gamma": 0.5}),
             "polynomial (power 1)": ("poly", {"power": 1.0})}
MLP_SCHEDULES = {**MLP_CLAIMED, **MLP_EXTRA}

SCHEDULES_001 = {"CyclicLR": "cyclic", "OneCycleLR": "onecycle", "CosineAnnealingLR": "cosine"}


def _mlp(p: Mapping[str, Any], table: Mapping[str, tuple]) -> Dict[str, Dict[str, Any]]:
    return {k: report004(p, schedule=s, schedule_args=a) for k, (s, a) in table.items()}


@EXPERIMENTS.register("schedules")
def schedules(p: Mapping[str, Any]) -> List[Run]:
    seeds = p["seeds"]
    r001 = {k: report001(p, schedule=s) for k, s in SCHEDULES_001.items()}
    r003 = {"cosine with warmup": report003(p),
            "constant (the report's 'without')": report003(p, schedule="none")}
    control003 = {"cosine, no warmup": report003(p, schedule="cosine", schedule_args={"per_step": True})}
    # the rows on how a loss falls, how a curve swings or oscillates read each seed's own
    # curve (no pooled noise): every seed of their runs is tier 1
    return (seeded("schedules", "001", r001, seeds, report="001",
                   claims=("test and training accuracy per schedule", "training-accuracy order",
                           "CyclicLR's loss falls fastest", "OneCycleLR is unstable"), every_seed=True)
            + seeded("schedules", "003", r003, seeds, report="003",
                     claims=("warmup speeds up early convergence", "warmup does not raise the final accuracy",
                             "validation loss oscillates more with warmup"), every_seed=True)
            + seeded("schedules", "003", control003, seeds, report="003", extra=True)
            + seeded("schedules", "004", _mlp(p, MLP_CLAIMED), seeds, report="004",
                     claims=("accuracy jumps where StepLR lowers the rate",))
            + seeded("schedules", "004", _mlp(p, MLP_EXTRA), seeds, report="004", extra=True))
