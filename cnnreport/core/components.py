"""Optimizers, learning-rate schedules and losses, each a name -> constructor registry
(:class:`cnnreport.core.registry.Registry`), built with the arguments a config gives::

    OPTIMIZERS.build(cfg.optimizer, model.parameters(), lr=..., weight_decay=..., ...)
    SCHEDULES.build(cfg.schedule, opt, cfg.lr, cfg.epochs, steps_per_epoch, **cfg.schedule_args)
    LOSSES.build(cfg.loss, **cfg.loss_args)   # -> loss_fn(logits, labels)

Loss definitions (``z`` the logits ``(B, K)``, ``y`` integer labels ``(B,)``,
``e_y`` the one-hot row of ``y``, ``p = softmax(z)``), each averaged as stated:

* ``cross_entropy``: ``-log p_y`` averaged over the batch; with ``label_smoothing=s``
  the target is ``(1 - s) e_y + s / K`` (PyTorch's definition).
* ``label_smoothing``: ``cross_entropy`` with ``s = 0.1`` by default (report 000).
* ``mse``: ``mean over B*K of (p - e_y)^2``, squared error of the *softmax* against
  the one-hot target (report 002).
* ``smooth_l1``: Huber loss with ``beta = 1`` between the raw logits and ``e_y``:
  ``0.5 d^2 / beta`` if ``|d| < beta`` else ``|d| - 0.5 beta``, ``d = z - e_y``,
  averaged over B*K (report 001's ``nn.SmoothL1Loss`` on one-hot targets).
* ``bce_with_logits``: ``-[e log sigmoid(z) + (1 - e) log(1 - sigmoid(z))]``
  averaged over B*K, one independent binary problem per class (report 001).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import torch
import torch.nn.functional as F
from torch.optim import lr_scheduler as tls

from .registry import Registry

OPTIMIZERS = Registry("optimizer")
SCHEDULES = Registry("schedule")
LOSSES = Registry("loss")


# -- optimizers ------------------------------------------------------------------------
def _fast_kwargs(params: list) -> dict:
    """Fused kernels where every parameter is on a CUDA device (one launch per step
    instead of one per tensor); the default foreach path elsewhere."""
    on_cuda = all(p.is_cuda for p in params)
    return {"fused": True} if on_cuda else {}


@OPTIMIZERS.register("sgd")
def sgd(params: Iterable, lr: float, momentum: float = 0.0, nesterov: bool = False,
        weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """SGD with optional (Nesterov) momentum and L2 weight decay."""
    params = list(params)
    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov,
                           weight_decay=weight_decay, **_fast_kwargs(params))


@OPTIMIZERS.register("adam")
def adam(params: Iterable, lr: float, betas=(0.9, 0.999), eps: float = 1e-8,
         weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """Adam; weight decay is L2 added to the gradient (coupled)."""
    params = list(params)
    return torch.optim.Adam(params, lr=lr, betas=tuple(betas), eps=eps,
                            weight_decay=weight_decay, **_fast_kwargs(params))


@OPTIMIZERS.register("adamw")
def adamw(params: Iterable, lr: float, betas=(0.9, 0.999), eps: float = 1e-8,
          weight_decay: float = 0.01) -> torch.optim.Optimizer:
    """AdamW: Adam with decoupled weight decay."""
    params = list(params)
    return torch.optim.AdamW(params, lr=lr, betas=tuple(betas), eps=eps,
                             weight_decay=weight_decay, **_fast_kwargs(params))


# -- schedules -------------------------------------------------------------------------
@dataclass
class Schedule:
    """A torch LR scheduler plus when to step it: after every ``"step"`` (batch) or
    every ``"epoch"``."""

    scheduler: Any
    interval: str

    def step_batch(self) -> None:
        if self.interval == "step":
            self.scheduler.step()

    def step_epoch(self) -> None:
        if self.interval == "epoch":
            self.scheduler.step()

    def state_dict(self) -> dict:
        return self.scheduler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.scheduler.load_state_dict(state)


# Every schedule constructor gets (optimizer, lr, epochs, steps_per_epoch, **its args).
@SCHEDULES.register("none")
def none(opt, lr, epochs, steps_per_epoch):
    """Constant learning rate."""
    return Schedule(tls.LambdaLR(opt, lambda _: 1.0), "epoch")


@SCHEDULES.register("step")
def step(opt, lr, epochs, steps_per_epoch, step_size: int = 30, gamma: float = 0.1):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs (StepLR)."""
    return Schedule(tls.StepLR(opt, step_size=step_size, gamma=gamma), "epoch")


@SCHEDULES.register("multistep")
def multistep(opt, lr, epochs, steps_per_epoch, milestones=(30, 60), gamma: float = 0.1):
    """Multiply the lr by ``gamma`` at each milestone epoch (MultiStepLR)."""
    return Schedule(tls.MultiStepLR(opt, milestones=list(milestones), gamma=gamma), "epoch")


@SCHEDULES.register("exponential")
def exponential(opt, lr, epochs, steps_per_epoch, gamma: float = 0.9):
    """Multiply the lr by ``gamma`` after every epoch (ExponentialLR)."""
    return Schedule(tls.ExponentialLR(opt, gamma=gamma), "epoch")


@SCHEDULES.register("cosine")
def cosine(opt, lr, epochs, steps_per_epoch, eta_min: float = 0.0, per_step: bool = False):
    """Cosine annealing from lr to ``eta_min`` over the run (CosineAnnealingLR), stepped
    per epoch (``T_max = epochs``) or, with ``per_step``, per batch."""
    t_max = epochs * steps_per_epoch if per_step else epochs
    return Schedule(tls.CosineAnnealingLR(opt, T_max=max(1, t_max), eta_min=eta_min),
                    "step" if per_step else "epoch")


@SCHEDULES.register("cyclic")
def cyclic(opt, lr, epochs, steps_per_epoch, base_fraction: float = 0.1, cycles: float = 4.0,
           mode: str = "triangular"):
    """Triangular cycles between ``base_fraction * lr`` and ``lr`` (CyclicLR), ``cycles``
    full cycles over the run, stepped per batch."""
    half = max(1, int(epochs * steps_per_epoch / (2 * cycles)))
    return Schedule(tls.CyclicLR(opt, base_lr=lr * base_fraction, max_lr=lr, step_size_up=half,
                                 mode=mode, cycle_momentum=False), "step")


@SCHEDULES.register("onecycle")
def onecycle(opt, lr, epochs, steps_per_epoch, pct_start: float = 0.3,
             div_factor: float = 25.0, final_div_factor: float = 1e4):
    """One cycle (OneCycleLR): warm up to ``lr`` over ``pct_start`` of the steps, then
    cosine down to ``lr / (div_factor * final_div_factor)``; stepped per batch."""
    return Schedule(tls.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch,
                                   pct_start=pct_start, div_factor=div_factor,
                                   final_div_factor=final_div_factor,
                                   cycle_momentum=False), "step")


@SCHEDULES.register("poly")
def poly(opt, lr, epochs, steps_per_epoch, power: float = 1.0):
    """Polynomial decay to zero over the run, ``lr * (1 - epoch / epochs) ** power``
    (PolynomialLR; report 002's scheduler), stepped per epoch."""
    return Schedule(tls.PolynomialLR(opt, total_iters=epochs, power=power), "epoch")


def warmup_cosine_factor(step: int, warmup: int, total: int) -> float:
    """Report 003's per-step multiplier: ``step / warmup + 0.01`` while ``step < warmup``,
    then ``0.5 * (1 + cos(pi * progress))`` with
    ``progress = (step - warmup) / (total - warmup)``."""
    if step < warmup:
        return step / max(1, warmup) + 0.01
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


@SCHEDULES.register("warmup_cosine")
def warmup_cosine(opt, lr, epochs, steps_per_epoch, warmup_epochs: float = 1.0):
    """Report 003's cosine decay with linear warmup, per step (see ``warmup_cosine_factor``)."""
    total = epochs * steps_per_epoch
    warmup = int(round(warmup_epochs * steps_per_epoch))
    return Schedule(tls.LambdaLR(opt, lambda s: warmup_cosine_factor(s, warmup, total)), "step")


def lr_curve(name: str, lr: float, epochs: int, steps_per_epoch: int, **args) -> list:
    """The lr at every step of a run, computed without training (for plots)."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr)
    sch = SCHEDULES.build(name, opt, lr, epochs, steps_per_epoch, **args)
    out = []
    for _ in range(epochs):
        for _ in range(steps_per_epoch):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sch.step_batch()
        sch.step_epoch()
    return out


# -- losses ----------------------------------------------------------------------------
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _one_hot(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.one_hot(y, z.shape[1]).to(z.dtype)


@LOSSES.register("cross_entropy")
def cross_entropy(label_smoothing: float = 0.0) -> LossFn:
    """Cross-entropy of softmax(logits) against the label, optionally label-smoothed."""
    return lambda z, y: F.cross_entropy(z, y, label_smoothing=label_smoothing)


@LOSSES.register("label_smoothing")
def label_smoothing(label_smoothing: float = 0.1) -> LossFn:
    """Cross-entropy with label smoothing (default 0.1, report 000's ImprovedCNN)."""
    return cross_entropy(label_smoothing)


@LOSSES.register("mse")
def mse() -> LossFn:
    """Mean squared error of softmax(logits) against the one-hot label (report 002)."""
    return lambda z, y: F.mse_loss(torch.softmax(z, 1), _one_hot(z, y))


@LOSSES.register("smooth_l1")
def smooth_l1(beta: float = 1.0) -> LossFn:
    """SmoothL1 (Huber, beta 1) of the raw logits against the one-hot label (report 001)."""
    return lambda z, y: F.smooth_l1_loss(z, _one_hot(z, y), beta=beta)


@LOSSES.register("bce_with_logits")
def bce_with_logits() -> LossFn:
    """Binary cross-entropy of sigmoid(logits) against the one-hot label (report 001)."""
    return lambda z, y: F.binary_cross_entropy_with_logits(z, _one_hot(z, y))
