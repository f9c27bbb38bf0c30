"""BatchNorm chapter: VGG-A with and without BatchNorm.

Two groups of runs:

* ``band``: report 000's Adam runs, one per model and learning rate, as its linked code
  ``pj2/vgg_experiments_full.py`` trains them (Adam without weight decay, batch 128, crop
  + flip, up to 200 epochs, early stopping after 10 epochs without a better accuracy,
  PyTorch's default initialisation).  The code stops on the test set; we stop on a
  held-out validation split, so the quoted test accuracy is not chosen on the test set.
  Their per-step training losses give the loss band, their curves report 000's figures,
  and report 001's table is read off the same runs.
* ``probes``: plain SGD runs probed along the gradient every few steps (Santurkar et al.'s
  measures).  These are our own settings; VGG-A is He-initialised here because under the
  default initialisation its logits barely depend on the input, and plain SGD can sit on
  that chance-level plateau, where the probes would read flatness as smoothness.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping

from . import EXPERIMENTS, Run, seeded
from .recipes import cifar10

MODELS = {"VGG-A": "vgg_a", "VGG-A-BN": "vgg_a_bn"}

BAND_CLAIMS = (
    "The BN loss band is narrower and lower",
    "At every step BN's loss mean and spread across lrs are smaller",
    "The VGG-A band is widest in the first 4,000 steps",
    "VGG-A plateaus near 84% after about 100 epochs",
    "VGG-A-BN reaches about 89% and early-stops at about 45 epochs",
    "VGG-A overfits: a gap between training and test loss",
    "BN narrows the gap between training and test loss",
    "VGG-A-BN passes 88% test accuracy within 20 epochs",
    "Report 001's table of test accuracy with and without BN",
)
PROBE_CLAIMS = ("BN smooths the loss landscape (Santurkar et al.'s three measures)",)


def band_label(model: str, lr: float) -> str:
    return f"{model}, lr {lr:g}"


def adam_run(p: Mapping[str, Any], model: str, lr: float) -> Dict[str, Any]:
    """One of report 000's Adam runs of VGG-A (``model`` a builder name)."""
    base = dict(cifar10(p, validation=True), model=model, model_args={"width": p["width"]},
                optimizer="adam", lr=float(lr), weight_decay=0.0, epochs=p["epochs"],
                early_stopping=p["patience"], augment=list(p["augment"]),
                # The linked code trains every run until early stopping ends it; a run stuck
                # at chance ends the same way here instead of being cut off as diverged.
                divergence_patience=0)
    return base


def probe_run(p: Mapping[str, Any], model: str) -> Dict[str, Any]:
    """A plain SGD run at a fixed rate, probed along the gradient.  It selects nothing, so
    it trains on the whole (sub)set and holds out no validation split."""
    return dict(dataset="cifar10", train_subset=p["probe_subset"], val_fraction=0.0,
                test_subset=p["test_subset"], model=model,
                model_args={"width": p["width"], "init": p["probe_init"]},
                optimizer="sgd", lr=p["sgd_lr"], momentum=0.0, weight_decay=0.0, schedule="none",
                batch_size=p["probe_batch_size"], epochs=p["probe_epochs"], augment=[],
                divergence_patience=0)  # a run on the plateau keeps going: the probes read it


@EXPERIMENTS.register("batchnorm")
def batchnorm(p: Mapping[str, Any]) -> List[Run]:
    seeds = p["seeds"]
    band = {band_label(m, lr): adam_run(p, name, lr) for m, name in MODELS.items() for lr in p["lrs"]}
    probes = {f"{m} probes": probe_run(p, name) for m, name in MODELS.items()}
    # the band and landscape rows read each seed's own loss curves (no pooled noise): every seed
    return (seeded("batchnorm", "band", band, seeds, report="000", claims=BAND_CLAIMS, every_seed=True)
            + seeded("batchnorm", "probes", probes, seeds, report="000", claims=PROBE_CLAIMS, every_seed=True,
                     probe={"probe_every": p["probe_every"], "eta_factors": list(p["eta_factors"])}))
