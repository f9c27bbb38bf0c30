"""Kernels chapter: report 001's base recipe with four first blocks.

One group, ``"001"``: each run is ``report001(p, model_args={"first_block": ...})``, so the
[3x3] run is report 001's base recipe itself and shares its key with the architectures
chapter's simp_Res9 (and every other chapter's base run).
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping

from . import EXPERIMENTS, Run, seeded
from .recipes import report001

# Label -> kernel sizes of the first block, in the order of the report's table.
FIRST_BLOCKS: Dict[str, List[int]] = {"[3x3]": [3], "[7x7]": [7], "[3x3, 3x3, 3x3]": [3, 3, 3],
                                      "[3x3, 3x3]": [3, 3]}
CLAIMS = ("first block test and training accuracy", "a single 3x3 is best and 7x7 is worst",
          "3x3 beats 7x7 by more than run-to-run noise")


@EXPERIMENTS.register("kernels")
def kernels(p: Mapping[str, Any]) -> List[Run]:
    configs = {label: report001(p, model_args={"first_block": list(fb)})
               for label, fb in FIRST_BLOCKS.items()}
    # the overfitting and convergence rows read each seed's curves (no pooled noise): every seed
    return seeded("kernels", "001", configs, p["seeds"], report="001", claims=CLAIMS, every_seed=True)
