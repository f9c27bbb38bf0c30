"""The training core, one concept per module.

* :mod:`.setup` — a run built from a validated config and data (:class:`Setup`), the
  device, precision, normalisation, split, and :func:`run_scope` (per-run global state);
* :mod:`.loop` — one training epoch, :func:`evaluate`, and the :class:`TrainState`;
* :mod:`.policy` — selection, early stopping and divergence rules, pure Python;
* :mod:`.callbacks` — checkpoints and deadline, CSV and TensorBoard logs, progress bar,
  step probes;
* :mod:`.fit` — :func:`fit`, which puts them together.
"""
from .callbacks import (Callback, Checkpoint, CsvLog, OutOfTime, ProgressBar, StepProbe,
                        TensorBoardLog)
from .fit import fit
from .loop import EpochStats, TrainState, evaluate, evaluate_split, train_epoch
from .policy import Decision, Policy, PolicyState
from .setup import (Setup, autocast_for, build_setup, cudnn_scope, normalization, resolve_device,
                    rng_scope, run_scope, seed_everything, split_data)

__all__ = ["Callback", "Checkpoint", "CsvLog", "Decision", "EpochStats", "OutOfTime", "Policy",
           "PolicyState", "ProgressBar", "Setup", "StepProbe", "TensorBoardLog", "TrainState",
           "autocast_for", "build_setup", "cudnn_scope", "evaluate", "evaluate_split", "fit",
           "normalization", "resolve_device", "rng_scope", "run_scope", "seed_everything",
           "split_data", "train_epoch"]
