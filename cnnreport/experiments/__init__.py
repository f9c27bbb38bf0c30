"""Every training run of every chapter, as data.

Each chapter with training runs has a module here with one function registered under
the chapter's name: it maps the chapter's parameters (a dict, see
:func:`cnnreport.experiments.params.resolve`) to a list of :class:`Run`, one per config and seed,
labelled for the chapter's tables and tagged with the report and claims it serves.  The
chapter page calls it through :meth:`cnnreport.pages.chapter.Chapter.experiments` and keeps
the presentation; the planner (:mod:`cnnreport.compute.plan`) calls it for every profile to list,
deduplicate and queue the runs without starting a kernel.

Configs that two chapters share come from :mod:`.recipes`, so the same training has one
config, one key, and trains once.

Nothing here imports torch: building the list is instant and works on the GPU machine's
plain stack.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ..core.registry import Registry

EXPERIMENTS = Registry("experiment")

# Chapter name -> module under cnnreport.experiments (imported on first use).
MODULES = ("architectures", "schedules", "activations", "losses", "kernels", "augmentation",
           "batchnorm", "hyperparams", "scratch")

TIER_CLAIM, TIER_SEEDS, TIER_EXTRA = 1, 2, 3

# The noise runs of each report: (chapter, group, label) of a few of its runs that the audit
# needs at every seed of the profile, so that a measurement made at one seed borrows the pooled
# seed sd of the same report and model (cnnreport.core.stats.Noise).  Each model a report trains has
# one here.  Their later seeds are tier 2 runs that the planner selects with ``noise=True``
# (``--noise``) and orders with tier 1, by the audit rows they unlock.
NOISE_RUNS: Dict[str, Tuple[Tuple[str, str, str], ...]] = {
    "000": (("architectures", "000", "BasicCNN"), ("architectures", "000", "ImprovedCNN"),
            ("architectures", "000", "ResidualCNN"), ("batchnorm", "band", "VGG-A, lr 0.001"),
            ("batchnorm", "band", "VGG-A-BN, lr 0.001")),
    "001": (("architectures", "001", "simp_Res9"), ("architectures", "001", "Res9"),
            ("architectures", "001", "ResNet-18")),
    "002": (("hyperparams", "table", "run 2"), ("hyperparams", "table", "run 15"),
            ("hyperparams", "table", "run 28")),
    "003": (("architectures", "003", "3-layer CNN (003 recipe)"), ("architectures", "003", "ResNet-9")),
    "004": (("schedules", "004", "constant"),),
}
_NOISE = {(report, *where) for report, runs in NOISE_RUNS.items() for where in runs}


@dataclass(frozen=True)
class Run:
    """One training run a chapter needs."""

    chapter: str
    group: str                    # a set of runs one table or figure compares, e.g. "001"
    label: str                    # the row or legend entry within the group
    config: Mapping[str, Any]     # a run config (cnnreport.core.config.RunConfig fields)
    seed: int
    replica: int = 0              # 0 for the first seed of the chapter's list, then 1, 2, ...
    report: str = ""              # "000" .. "004": the report whose claim the run serves
    claims: Tuple[str, ...] = ()  # the audit claims that read this run
    extra: bool = False           # our own control or ablation, not a report's experiment
    probe: Optional[Mapping[str, Any]] = None  # loss-landscape probes: landscape_or_load kwargs
                                               # (probe_every, eta_factors); None = a plain run
    store: str = ""               # a subfolder of the results store ("controls"): for a twin that
                                  # differs from a stored run only in how it executes (precision),
                                  # which is not part of the key, so it must live apart
    every_seed: bool = False      # an audit row it serves reads each seed's own curve (or class
                                  # accuracy), a measure with no pooled noise to borrow: the row has
                                  # no verdict until every seed is stored, so every seed is tier 1

    @property
    def tier(self) -> int:
        """1: what an audit row of a report's claim needs for a verdict, one seed of each
        run (every seed of an ``every_seed`` run); 2: the other seeds, which turn an interim
        verdict final; 3: our own extras."""
        if self.extra or not self.report:
            return TIER_EXTRA
        return TIER_CLAIM if self.replica == 0 or self.every_seed else TIER_SEEDS

    @property
    def noise(self) -> bool:
        """One of its report's noise runs (:data:`NOISE_RUNS`)."""
        return (self.report, self.chapter, self.group, self.label) in _NOISE

    def run_config(self) -> Dict[str, Any]:
        """The config with its seed, its provenance (the ``chapter`` and ``label``
        fields, which do not change the key) and a display name ``chapter: label``."""
        return {**self.config, "seed": self.seed, "name": f"{self.chapter}: {self.label}",
                "chapter": self.chapter, "label": self.label}


def seeded(chapter: str, group: str, configs: Mapping[str, Mapping[str, Any]], seeds: Sequence[int],
           report: str = "", claims: Sequence[str] = (), extra: bool = False,
           probe: Optional[Mapping[str, Any]] = None, store: str = "", every_seed: bool = False) -> List[Run]:
    """One :class:`Run` per labelled config and seed."""
    return [Run(chapter, group, label, dict(cfg), int(s), i, report, tuple(claims), extra,
                dict(probe) if probe else None, store, every_seed)
            for label, cfg in configs.items() for i, s in enumerate(seeds)]


def _load(chapter: str) -> Callable[[Mapping[str, Any]], List[Run]]:
    if chapter not in EXPERIMENTS and chapter in MODULES:
        importlib.import_module(f"{__name__}.{chapter}")
    return EXPERIMENTS.get(chapter)


def has_experiments(chapter: str) -> bool:
    return chapter in MODULES


def runs_for(chapter: str, params: Mapping[str, Any]) -> List[Run]:
    """The runs of ``chapter`` with these parameter values."""
    runs = _load(chapter)(params)
    for r in runs:
        if r.chapter != chapter:
            raise ValueError(f"experiments of {chapter!r} returned a run of chapter {r.chapter!r}")
    return runs


def group(runs: Sequence[Run], name: Optional[str] = None) -> Dict[str, List[Run]]:
    """``{label: [Run per seed]}`` of one group (all runs when ``name`` is None)."""
    out: Dict[str, List[Run]] = {}
    for r in runs:
        if name is None or r.group == name:
            out.setdefault(r.label, []).append(r)
    return out
