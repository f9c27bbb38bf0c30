"""One epoch of training, evaluation, and the state a run carries from epoch to epoch.

The step runs entirely on the device: the step losses and the correct count stay in
device tensors and are read once per epoch, so the GPU never waits for the host.  The
one exception is a host sync every 50 steps, enough to stop a run that has blown up.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import torch

from ..core.loader import DeviceLoader
from ..core.store import HISTORY_KEYS
from .policy import OK, PolicyState
from .setup import Autocast, Setup

NONFINITE_CHECK_EVERY = 50  # steps between host syncs that look for a NaN/inf loss


@dataclass
class TrainState:
    """What a run has done so far; a checkpoint saves exactly this (plus the weights)."""

    setup: Setup
    history: Dict[str, list] = field(default_factory=lambda: {k: [] for k in HISTORY_KEYS})  # per epoch
    steps: Dict[str, list] = field(default_factory=lambda: {"loss": [], "lr": []})            # per step
    epoch: int = 0                          # epochs finished
    policy: PolicyState = field(default_factory=PolicyState)
    best_state: Optional[Dict[str, torch.Tensor]] = None  # weights of the selected epoch
    train_time: float = 0.0                 # seconds in training epochs, over every resumed call
    status: str = OK
    reason: str = ""
    diverged_step: Optional[int] = None     # 1-based
    early_stopped: bool = False

    def ledger(self) -> Dict[str, Any]:
        """The checkpoint's ``state`` entry (its keys are the checkpoint format)."""
        return {"epoch": self.epoch, **self.policy.to_dict(), "best_state": self.best_state,
                "train_time": self.train_time}

    def restore(self, history: Dict[str, list], steps: Dict[str, list], ledger: Dict[str, Any]) -> None:
        self.history, self.steps = history, steps
        self.epoch, self.best_state, self.train_time = ledger["epoch"], ledger["best_state"], ledger["train_time"]
        self.policy = PolicyState.from_dict(ledger)


@dataclass
class EpochStats:
    """One epoch's training numbers, read from the device once."""

    step_losses: List[float]  # the steps run: fewer than an epoch after a non-finite stop
    lrs: List[float]          # lr of each step, read before its update
    train_loss: float
    train_acc: float
    seconds: float
    images: int


def train_epoch(ts: TrainState, epoch: int, hooks: Sequence[Any] = ()) -> EpochStats:
    """Train one epoch.  Each of ``hooks`` gets ``on_step(ts, step, x, y)`` before the step's
    forward pass, so it sees exactly the batch and weights the step uses."""
    s = ts.setup
    model, opt, sched, loss_fn, autocast = s.step_model, s.optimizer, s.schedule, s.loss_fn, s.autocast
    spe, device = s.steps_per_epoch, s.device
    s.model.train()
    s.train_loader.set_epoch(epoch)
    step_loss = torch.full((spe,), float("nan"), device=device)  # (steps,)
    correct = torch.zeros((), dtype=torch.long, device=device)
    seen, lrs = 0, []
    t0 = time.perf_counter()
    for i, (x, y) in enumerate(s.train_loader):  # x (B, C, H, W) normalised, y (B,)
        lrs.append(opt.param_groups[0]["lr"])
        for h in hooks:
            h.on_step(ts, epoch * spe + i, x, y)
        with autocast():
            out = model(x)  # (B, K)
        loss = loss_fn(out.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if s.cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(s.model.parameters(), s.cfg.grad_clip)
        opt.step()
        sched.step_batch()
        step_loss[i] = loss.detach()
        correct += (out.detach().argmax(1) == y).sum()
        seen += len(y)
        if (i + 1) % NONFINITE_CHECK_EVERY == 0 and not bool(torch.isfinite(step_loss[i])):
            break
    sched.step_epoch()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    dt = time.perf_counter() - t0
    sl = step_loss[: len(lrs)].cpu()
    return EpochStats(step_losses=[float(v) for v in sl], lrs=lrs, train_loss=float(sl.mean()),
                      train_acc=int(correct) / max(1, seen), seconds=dt, images=seen)


@torch.no_grad()
def evaluate(model, loader: DeviceLoader, loss_fn, num_classes: int, autocast: Autocast, tta: bool = False):
    """Mean loss, accuracy and the confusion matrix (K, K) (rows true, cols predicted).

    ``tta`` averages the logits of each image and its horizontal flip."""
    was_training = model.training
    model.eval()
    dev = loader.device
    loss_sum = torch.zeros((), device=dev)
    conf = torch.zeros(num_classes * num_classes, dtype=torch.long, device=dev)  # (K*K,)
    for x, y in loader:
        with autocast():
            z = model(x)  # (B, K)
            if tta:
                z = 0.5 * (z + model(x.flip(3)))
        z = z.float()
        loss_sum += loss_fn(z, y) * len(y)
        conf += torch.bincount(y * num_classes + z.argmax(1), minlength=num_classes ** 2)
    model.train(was_training)
    conf = conf.view(num_classes, num_classes).cpu()
    n = int(conf.sum())
    return float(loss_sum) / max(1, n), float(conf.trace()) / max(1, n), conf


def evaluate_split(s: Setup, loader: Optional[DeviceLoader]):
    """:func:`evaluate` of the run's model on one of its loaders."""
    return evaluate(s.model, loader, s.loss_fn, s.num_classes, s.autocast, s.cfg.tta)
