"""Loss-landscape probes of Santurkar et al. 2018, "How Does Batch Normalization Help
Optimization?", and the loss band of report 000.

At a training step with weights w, batch (x, y), loss L and gradient g = grad L(w), the
paper looks along the step direction at a few step sizes eta:

* loss variation: the range of L(w - eta g) over eta;
* gradient predictiveness: ||grad L(w) - grad L(w - eta g)||_2 over eta;
* effective beta-smoothness: max over eta of ||grad L(w) - grad L(w - eta g)|| / ||eta g||.

:func:`probe_step` measures these without disturbing training: weights, buffers (BatchNorm
running statistics), ``.grad`` fields, train/eval flags and the torch RNG are restored
bit for bit, and the optimizer is never touched.  :func:`train_with_probes` runs the one
trainer (:func:`cnnreport.training.fit`) with a callback (:class:`LandscapeProbes`) that
probes every k-th step, and :func:`landscape_or_load` caches its arrays as JSON under the
results store so the book re-renders without retraining.  :func:`loss_band` gives the per-step min/max
training loss over several runs, the band report 000 fills.
"""
from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Optional, Sequence, Union

import numpy as np
import torch

from .cache import key_of, read_json, write_json
from .config import RunConfig
from .store import ResultStore
from ..training.callbacks import Callback

DEFAULT_ETA_FACTORS = (0.5, 1.0, 2.0, 3.0, 4.0)   # step sizes as multiples of the lr
PROBE_KEYS = ("step", "lr", "loss", "grad_norm", "loss_min", "loss_max", "gradpred_min",
              "gradpred_max", "beta_smooth")
CACHE_VERSION = 1


def _norm(tensors: Iterable[torch.Tensor]) -> float:
    """Global l2 norm over a list of tensors, summed in float64 so it is exact enough to
    compare against closed forms."""
    sq = [t.detach().double().pow(2).sum() for t in tensors]
    return math.sqrt(float(torch.stack(sq).sum())) if sq else 0.0


def _diff_norm(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> float:
    return _norm(u.double() - v.double() for u, v in zip(a, b))


def probe_step(model: torch.nn.Module, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor,
               lr: float, etas: Optional[Sequence[float]] = None, *, train_mode: Optional[bool] = True,
               autocast: Optional[Callable[[], Any]] = None) -> Dict[str, Any]:
    """Probe the loss and gradient along -grad L(w) on the batch (x, y).

    ``etas`` are absolute step sizes (default ``lr`` times :data:`DEFAULT_ETA_FACTORS`);
    the step is the raw batch gradient (no momentum, no weight decay), as in the paper.
    ``train_mode=True`` runs the probes in train mode, so BatchNorm normalizes with the
    batch statistics as the training step does (None: keep the model's mode).  Every
    forward starts from the same torch RNG state, so dropout/RReLU draw the same masks
    in all probes (and in the training step that follows, since the RNG is restored).
    ``autocast`` is a context factory for the forward (None: full precision).

    Returns ``loss`` L(w), ``grad_norm`` ||g||, ``etas``, ``losses`` L(w - eta g) with
    ``loss_range``/``loss_min``/``loss_max``, ``grad_pred`` ||g - grad L(w - eta g)|| with
    ``gradpred_min``/``gradpred_max``, ``betas`` (that over ||eta g||; NaN for eta = 0)
    and ``beta_smooth`` their max.
    """
    etas = [float(e) for e in (etas if etas is not None else [f * lr for f in DEFAULT_ETA_FACTORS])]
    if not etas:
        raise ValueError("probe_step: etas is empty")
    autocast = autocast or contextlib.nullcontext
    params = [p for p in model.parameters() if p.requires_grad]
    w0 = [p.detach().clone() for p in params]
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    flags = [(m, m.training) for m in model.modules()]
    cpu_rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state(x.device) if x.is_cuda else None

    def set_rng() -> None:
        torch.set_rng_state(cpu_rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state(cuda_rng, x.device)

    def loss_and_grad():
        set_rng()
        with torch.enable_grad():
            with autocast():
                out = model(x)
            # Half-precision logits are upcast like the trainer does; fp64 stays fp64.
            if out.is_floating_point() and out.dtype not in (torch.float32, torch.float64):
                out = out.float()
            loss = loss_fn(out, y)
            # autograd.grad leaves every .grad field alone, unlike backward().
            grads = torch.autograd.grad(loss, params, allow_unused=True)
        # A train-mode forward updates BN running stats; the probes must not.
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
        grads = [torch.zeros_like(p) if g is None else g.detach() for p, g in zip(params, grads)]
        return float(loss.detach()), grads

    try:
        if train_mode is not None:
            model.train(train_mode)
        loss0, g0 = loss_and_grad()
        gnorm = _norm(g0)
        losses, gpred, betas = [], [], []
        for eta in etas:
            with torch.no_grad():
                for p, w, g in zip(params, w0, g0):
                    p.copy_(w).add_(g.to(p.dtype), alpha=-eta)
            le, ge = loss_and_grad()
            d = _diff_norm(g0, ge)
            losses.append(le)
            gpred.append(d)
            step = abs(eta) * gnorm
            betas.append(d / step if step > 0 else float("nan"))
    finally:
        with torch.no_grad():
            for p, w in zip(params, w0):
                p.copy_(w)
            for b, saved in buffers:
                b.copy_(saved)
        for m, f in flags:
            m.training = f
        set_rng()
    finite_betas = [b for b in betas if not math.isnan(b)]
    return {
        "lr": float(lr), "etas": etas, "loss": loss0, "grad_norm": gnorm,
        "losses": losses, "loss_range": (min(losses), max(losses)),
        "loss_min": min(losses), "loss_max": max(losses),
        "grad_pred": gpred, "gradpred_min": min(gpred), "gradpred_max": max(gpred),
        "betas": betas, "beta_smooth": max(finite_betas) if finite_betas else float("nan"),
    }


class LandscapeProbes(Callback):
    """The training hook of :func:`train_with_probes`: :func:`probe_step` before every
    ``probe_every``-th step's update, at etas = ``eta_factors`` x the step's lr.  Probes
    restore everything they touch, but a callback that runs forward passes is not marked
    ``observes_only``, so a probed run is never stored as a plain one."""

    def __init__(self, probe_every: int, eta_factors: Sequence[float]):
        if int(probe_every) < 1:
            raise ValueError(f"probe_every must be >= 1, got {probe_every!r}")
        self.probe_every, self.factors = int(probe_every), [float(f) for f in eta_factors]
        self.record: Dict[str, list] = {k: [] for k in PROBE_KEYS + ("losses", "grad_pred")}

    def on_step(self, ts, step: int, x: torch.Tensor, y: torch.Tensor) -> None:
        if step % self.probe_every:
            return
        s = ts.setup
        lr = s.optimizer.param_groups[0]["lr"]
        p = probe_step(s.model, s.loss_fn, x, y, lr, [f * lr for f in self.factors])
        p["step"] = step
        for k in self.record:
            self.record[k].append(p[k])


def train_with_probes(config, probe_every: int = 10, eta_factors: Sequence[float] = DEFAULT_ETA_FACTORS,
                      data=None, progress: bool = True) -> Dict[str, Any]:
    """Train ``config`` with :func:`cnnreport.training.fit` and probe every ``probe_every``-th
    step (steps 0, k, 2k, ...) before its update, at etas = ``eta_factors`` x current lr.

    The paper's setting is SGD at a fixed lr (``optimizer="sgd", schedule="none"``); the
    config is used as given.  Probes run in fp32 even where training uses bf16 autocast.
    Returns per-probe lists under :data:`PROBE_KEYS` (``step`` indexes ``train_loss``,
    the per-step training loss of the whole run), per-probe ``losses``/``grad_pred``
    lists, and the run's ``key``, ``config``, ``status``, ``test_acc``.
    """
    from ..training import fit

    probes = LandscapeProbes(probe_every, eta_factors)
    cfg = RunConfig.from_dict(config)
    res = fit(cfg, store=None, progress=progress, data=data, callbacks=[probes])
    return {**probes.record, "train_loss": list(res.steps["loss"]), "probe_every": probes.probe_every,
            "eta_factors": probes.factors, "key": cfg.key(), "config": cfg.to_dict(),
            "status": res.status, "test_acc": res.test_acc}


def _from_json(o: Any) -> Any:
    """Undo :func:`cnnreport.core.cache.json_safe` in the probe lists: null back to NaN."""
    if isinstance(o, list):
        return [float("nan") if v is None else _from_json(v) for v in o]
    return o


def cache_path(config, probe_every: int, eta_factors: Sequence[float],
               store: Union[ResultStore, str, os.PathLike, None] = None) -> Path:
    """``<store root>/landscape/<config key>-<settings key>.json``: the run's
    :meth:`RunConfig.key`, then the one cache hash (:func:`cnnreport.core.cache.key_of`) of the
    probe settings.  A subfolder, so the store never mistakes it for a Result."""
    root = store.root if isinstance(store, ResultStore) else ResultStore(store).root
    key = RunConfig.from_dict(config).key()
    settings = key_of({"probe_every": int(probe_every), "eta_factors": [float(f) for f in eta_factors],
                       "version": CACHE_VERSION})
    return root / "landscape" / f"{key}-{settings}.json"


def landscape_or_load(config, probe_every: int = 10, eta_factors: Sequence[float] = DEFAULT_ETA_FACTORS,
                      store: Union[ResultStore, str, os.PathLike, None] = None, force: bool = False, *,
                      data=None, progress: bool = True) -> Dict[str, Any]:
    """The cached :func:`train_with_probes` arrays of ``config``, training first if absent."""
    path = cache_path(config, probe_every, eta_factors, store)
    d = None if force else read_json(path, "landscape cache")
    if d is not None:
        return {k: _from_json(v) if k != "config" else v for k, v in d.items()}
    out = train_with_probes(config, probe_every, eta_factors, data=data, progress=progress)
    write_json(path, out)
    return out


def loss_band(results) -> Dict[str, Any]:
    """Per-step min and max of ``result.steps["loss"]`` across ``results`` (e.g. one model
    at several lrs), truncated to the shortest run.  Non-finite losses (a diverged step)
    are ignored at that step; a step where every run is non-finite gives NaN.

    Returns ``step`` (0-based indices), ``min``, ``max``, ``mean`` as arrays, plus
    ``n_runs``, ``lrs`` and ``keys`` of the runs in order.
    """
    results = list(results)
    if not results:
        raise ValueError("loss_band: no results given")
    runs = []
    for r in results:
        loss = (r.steps or {}).get("loss") or []
        runs.append(np.array([np.nan if v is None else v for v in loss], dtype=np.float64))
    n = min(len(a) for a in runs)
    stack = np.stack([a[:n] for a in runs])  # (runs, steps)
    stack[~np.isfinite(stack)] = np.nan
    # fmin/fmax skip NaN without the all-NaN warnings of nanmin/nanmax.
    lo = np.fmin.reduce(stack, axis=0) if n else np.zeros(0)
    hi = np.fmax.reduce(stack, axis=0) if n else np.zeros(0)
    count = np.isfinite(stack).sum(0)
    mean = np.where(count > 0, np.nansum(stack, 0) / np.maximum(count, 1), np.nan)
    return {"step": np.arange(n), "min": lo, "max": hi, "mean": mean, "n_runs": len(runs),
            "lrs": [r.config.get("lr") for r in results], "keys": [r.key for r in results]}


class Probes(dict):
    """A :func:`landscape_or_load` record (a dict) that also answers ``pending``, like a
    :class:`~cnnreport.core.store.Result`, so audit rows can name it in ``needs``."""

    @property
    def pending(self) -> bool:
        return self.get("status") == "pending"


def probes_placeholder(config, probe_every: int, eta_factors: Sequence[float]) -> Probes:
    """The stand-in for a probed run that is neither cached nor trained here: every
    per-probe list empty, ``status`` "pending"."""
    cfg = RunConfig.from_dict(config)
    empty = {k: [] for k in PROBE_KEYS + ("losses", "grad_pred")}
    return Probes({**empty, "train_loss": [], "probe_every": int(probe_every),
                   "eta_factors": [float(f) for f in eta_factors], "key": cfg.key(),
                   "config": cfg.to_dict(), "status": "pending", "test_acc": None})


def probes_or_pending(config, probe_every: int, eta_factors: Sequence[float],
                      store: Union[ResultStore, str, os.PathLike, None] = None, *, train: bool = True,
                      data: Optional[Callable[[], Any]] = None, progress: bool = True) -> Probes:
    """:func:`landscape_or_load` where training is allowed (``train``) or the record is
    cached, else :func:`probes_placeholder`.  ``data`` is called for the dataset only when
    the run trains, so a page that only reads stored probes never loads it."""
    path = cache_path(config, probe_every, eta_factors, store)
    if not path.is_file() and not train:
        return probes_placeholder(config, probe_every, eta_factors)
    loaded = data() if (data is not None and not path.is_file()) else None
    return Probes(landscape_or_load(config, probe_every, eta_factors, store, data=loaded,
                                    progress=progress))
