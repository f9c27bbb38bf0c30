"""The one config schema of a NumPy run: its settings, their defaults, its key.

A run is a plain dict of the settings in :data:`DEFAULTS`; :func:`normalize` fills in the
defaults and writes every value one way (``hidden=1000`` and ``hidden=[1000]``,
``"LeakyReLU"`` and ``"leaky_relu"`` are one run), and drops settings that do not apply
(momentum of plain SGD, hidden sizes of LeNet), so the same run written two ways has one
key.  The settings added after the first results were stored (:data:`LATER`) are written
only when they differ from the behaviour those results had, so a stored result keeps the
key it was stored under and a run that sets them gets a key of its own.  :func:`config_key` is the project's one cache hash (:func:`cnnreport.core.cache.key_of`)
of the normalized config, the key its :class:`~cnnreport.core.store.Result` is stored under;
:func:`build` makes the model, optimizer and schedule.  The results cache
(:mod:`.store`) and the grid search (:mod:`.search`) both read configs through here.

Like the rest of :mod:`cnnreport.scratch` this module never imports torch.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping

import numpy as np

from ..core.cache import key_of
from .model import lenet, mlp
from .optim import make_optimizer, make_schedule

#: Every setting of a run with its default.  ``subsample`` is the fraction of the
#: training images drawn (seeded by ``seed``) before the 5:1 train/validation split.
#: ``init``: "he_normal" (std sqrt(2 / fan-in)) or "normal" (N(0, init_std^2) for every
#: layer, report 004's ``np.random.normal(...) * 0.1``).  ``decay``: "coupled" (an L2 term
#: in the gradient, inside momentum) or "decoupled" (weights shrink by 1 - lr * wd outside
#: it, report 004's optimizers); ``conv_l2`` (LeNet with decoupled decay) also adds the L2
#: term to the conv weights' gradients, as report 004's Conv2D.backward does.
DEFAULTS: Dict[str, Any] = {
    "model": "mlp", "hidden": [1000], "activation": "leaky_relu", "weight_decay": 0.0,
    "optimizer": "momentum", "lr": 0.1, "momentum": 0.9, "schedule": "none",
    "schedule_args": {}, "epochs": 5, "batch_size": 32, "patience": None, "augment": False,
    "subsample": 1.0, "val_fraction": 1 / 6, "seed": 0, "dtype": "float32",
    "init": "he_normal", "init_std": 0.1, "decay": "coupled", "conv_l2": False,
}
#: The settings added after results were first stored, with the value that reproduces the
#: behaviour of those results: a normalized config names them only when it differs.
LATER = {"init": "he_normal", "decay": "coupled", "conv_l2": False}
INITS = ("he_normal", "normal")
DECAYS = ("coupled", "decoupled")
#: Settings with one allowed value, written into every normalized config so that a
#: stored result says what made it (and its config can never be read as a PyTorch one).
FIXED: Dict[str, str] = {"framework": "numpy", "dataset": "mnist"}
#: The arguments each schedule takes.  They may also be given as top-level settings
#: (``{"schedule": "step", "gamma": 0.5}``, the spelling of a grid over gamma); such a
#: setting is dropped when the schedule does not take it, like momentum for plain SGD.
SCHEDULE_ARGS = {"none": (), "step": ("step_size", "gamma"), "multistep": ("milestones", "gamma"),
                 "exponential": ("gamma",)}
_FLAT_SCHEDULE_KEYS = ("step_size", "gamma", "milestones")


def normalize(config: Mapping[str, Any]) -> Dict[str, Any]:
    """The config with defaults filled in and values in canonical form; raises
    ValueError naming an unknown key or a bad value.  ``normalize(normalize(c))``
    equals ``normalize(c)``, so a stored config recomputes its own key."""
    allowed = set(DEFAULTS) | set(FIXED) | set(_FLAT_SCHEDULE_KEYS)
    unknown = set(config) - allowed
    if unknown:
        raise ValueError(f"unknown config keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    for k, v in FIXED.items():
        if config.get(k, v) != v:
            raise ValueError(f"config key {k!r}: {config[k]!r}; a NumPy run is always {v!r}")
    c = {**DEFAULTS, **config}
    out: Dict[str, Any] = dict(FIXED)
    out["model"] = str(c["model"]).lower()
    if out["model"] not in ("mlp", "lenet"):
        raise ValueError(f"model {c['model']!r}: choose 'mlp' or 'lenet'")
    # LeNet's layer sizes are fixed by the report: a hidden setting does not apply.
    out["hidden"] = ([int(h) for h in np.atleast_1d(c["hidden"])] if out["model"] == "mlp" else None)
    act = str(c["activation"]).lower().replace("-", "_")
    out["activation"] = {"leakyrelu": "leaky_relu"}.get(act, act)
    wd = c["weight_decay"]
    out["weight_decay"] = float(wd) if np.ndim(wd) == 0 else [float(v) for v in wd]
    out["optimizer"] = str(c["optimizer"]).lower()
    out["lr"] = float(c["lr"])
    # Momentum only matters to the momentum optimizers.
    out["momentum"] = float(c["momentum"]) if out["optimizer"] in ("momentum", "nesterov") else None
    sched = "none" if c["schedule"] is None else str(c["schedule"]).lower()
    if sched not in SCHEDULE_ARGS:
        raise ValueError(f"schedule {c['schedule']!r}: choose one of {sorted(SCHEDULE_ARGS)}")
    args = dict(c["schedule_args"] or {})
    bad = set(args) - set(SCHEDULE_ARGS[sched])
    if bad:
        raise ValueError(f"schedule {sched!r} takes {list(SCHEDULE_ARGS[sched])}, not {sorted(bad)}")
    for k in _FLAT_SCHEDULE_KEYS:  # the top-level spelling; schedule_args wins
        if k in config and k in SCHEDULE_ARGS[sched]:
            args.setdefault(k, config[k])
    canon = {"step_size": int, "gamma": float, "milestones": lambda m: sorted(int(v) for v in m)}
    out["schedule"], out["schedule_args"] = sched, {k: canon[k](v) for k, v in sorted(args.items())}
    out["epochs"], out["batch_size"] = int(c["epochs"]), int(c["batch_size"])
    out["patience"] = None if c["patience"] is None else int(c["patience"])
    out["augment"] = bool(c["augment"])
    out["subsample"], out["val_fraction"] = float(c["subsample"]), float(c["val_fraction"])
    if not 0 < out["subsample"] <= 1:
        raise ValueError(f"subsample {c['subsample']!r}: a fraction in (0, 1]")
    out["seed"] = int(c["seed"])
    out["dtype"] = np.dtype(c["dtype"]).name
    _later_settings(c, out)
    return out


def _later_settings(c: Mapping[str, Any], out: Dict[str, Any]) -> None:
    """Write the :data:`LATER` settings into ``out`` where they differ from their old
    behaviour; ``init_std`` only with a normal init, the decay form only where a weight
    decays, ``conv_l2`` only for LeNet."""
    init = str(c["init"]).lower().replace("-", "_")
    if init not in INITS:
        raise ValueError(f"init {c['init']!r}: choose one of {INITS}")
    if init != LATER["init"]:
        std = float(c["init_std"])
        if not (np.isfinite(std) and std > 0):
            raise ValueError(f"init_std {c['init_std']!r}: a standard deviation > 0")
        out["init"], out["init_std"] = init, std
    decay = str(c["decay"]).lower()
    if decay not in DECAYS:
        raise ValueError(f"decay {c['decay']!r}: choose one of {DECAYS}")
    conv_l2 = bool(c["conv_l2"]) and out["model"] == "lenet"
    if conv_l2 and decay == "coupled":
        raise ValueError("conv_l2 adds the L2 term to a decoupled decay; with decay 'coupled' "
                         "the conv weights would count it twice")
    decays = np.any(np.asarray(out["weight_decay"], float) != 0)
    if decays and decay != LATER["decay"]:
        out["decay"] = decay
        if conv_l2:
            out["conv_l2"] = True


def config_key(config: Mapping[str, Any]) -> str:
    """The run's key: :func:`cnnreport.core.cache.key_of` of the normalized config."""
    return key_of(normalize(config))


def build(config: Mapping[str, Any]):
    """(model, optimizer, schedule) of a config, normalized first."""
    c = normalize(config)
    kw = {"init_std": c["init_std"] if c.get("init") == "normal" else None,
          "decay_mode": c.get("decay", LATER["decay"])}
    if c["model"] == "mlp":
        model = mlp(hidden=c["hidden"], activation=c["activation"], weight_decay=c["weight_decay"],
                    dtype=c["dtype"], seed=c["seed"], **kw)
    else:
        model = lenet(activation=c["activation"], weight_decay=c["weight_decay"], dtype=c["dtype"],
                      seed=c["seed"], conv_decay_mode="both" if c.get("conv_l2") else None, **kw)
    kw = {} if c["momentum"] is None else {"momentum": c["momentum"]}
    opt = make_optimizer(c["optimizer"], model, lr=c["lr"], **kw)
    return model, opt, make_schedule(c["schedule"], opt, **c["schedule_args"])
