"""Optimizers (SGD, momentum, Nesterov, Adam) and epoch-stepped LR schedules.

The update rules follow torch.optim to the letter, so the tests can compare them step
by step:

* SGD with momentum mu keeps ``buf = mu * buf + g`` (``buf = g`` on the first step, no
  dampening) and steps ``p -= lr * buf``; Nesterov steps ``p -= lr * (g + mu * buf)``.
  Note this is PyTorch's convention, where lr multiplies the buffer, not the
  "velocity" convention ``v = mu * v - lr * g`` of some textbooks; the two differ
  once the learning rate changes during training.
* Adam uses bias-corrected moments and adds eps *after* the square root.

Weight decay is read from each layer's ``weight_decay`` and ``decay_mode`` attributes at
every step and acts on the *weights only* (``layer.decay_names``).  Biases are not
decayed: shrinking a bias towards 0 does not reduce the layer's capacity, and this is
also what report 004 did (one coefficient per layer, on its weight matrix).  Two forms:

* coupled (``decay_mode="coupled"``, the default): ``g += wd * W``, added to the gradient
  and so inside the momentum buffer (and rescaled by Adam), as torch's ``weight_decay``;
* decoupled (``"decoupled"``): ``W *= 1 - lr * wd`` before the update, outside the
  buffer, as report 004's ``SGD`` and ``SGDMomentum`` do (and torch's AdamW for Adam).
  At momentum 0.9 a coupled term accumulates in the buffer to about ten times the
  decoupled shrink, so the two forms with one coefficient are not the same regularizer.

``"both"`` applies the two: report 004's Conv2D adds the L2 term to its gradient and its
optimizer then shrinks the same weights.  The gradient's decay term uses the weights as
the backward pass saw them, before the shrink, as in that code.

Gradients are modified in place by ``step`` (the decay term is added to them); they are
overwritten by the next backward pass anyway, and this saves a temporary per step.
"""
from __future__ import annotations

import bisect
import math
from typing import List, Sequence

import numpy as np


class _Slot:
    """One parameter array with its gradient buffer, owner layer and optimizer state."""

    __slots__ = ("layer", "name", "decay", "state", "tmp")

    def __init__(self, layer, name):
        self.layer, self.name = layer, name
        self.decay = name in getattr(layer, "decay_names", ())
        self.state = {}
        self.tmp = np.empty_like(layer.params[name])  # scratch, avoids per-step allocation

    @property
    def param(self) -> np.ndarray:
        return self.layer.params[self.name]

    def _wd(self, modes) -> float:
        if not self.decay or getattr(self.layer, "decay_mode", "coupled") not in modes:
            return 0.0
        return self.layer.weight_decay

    def grad_with_decay(self) -> np.ndarray:
        """The gradient with the coupled L2 term added (in place)."""
        g = self.layer.grads[self.name]
        wd = self._wd(("coupled", "both"))
        if wd:
            np.multiply(self.param, wd, out=self.tmp)
            g += self.tmp
        return g

    def shrink(self, lr: float) -> None:
        """The decoupled decay: the weights shrink by ``1 - lr * wd`` (in place)."""
        wd = self._wd(("decoupled", "both"))
        if wd:
            p = self.param  # updated in place: the layer and its owners keep the array
            p *= p.dtype.type(1 - lr * wd)


def _layers_of(model) -> list:
    return list(model.layers) if hasattr(model, "layers") else list(model)


class Optimizer:
    def __init__(self, model, lr: float):
        if lr <= 0:
            raise ValueError(f"learning rate must be > 0, got {lr}")
        self.lr = float(lr)
        self.slots: List[_Slot] = [_Slot(layer, name) for layer in _layers_of(model)
                                   for name in layer.params]

    def step(self) -> None:
        for s in self.slots:
            g = s.grad_with_decay()  # before the shrink: the L2 term sees the backward's weights
            s.shrink(self.lr)
            self._update(s, g)

    def _update(self, s: _Slot, g: np.ndarray) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Plain SGD, or momentum / Nesterov SGD when ``momentum > 0`` (torch semantics)."""

    def __init__(self, model, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False):
        super().__init__(model, lr)
        if momentum < 0 or (nesterov and momentum == 0):
            raise ValueError("momentum must be >= 0, and > 0 for Nesterov")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _update(self, s, g):
        p, tmp, mu = s.param, s.tmp, self.momentum
        if mu:
            buf = s.state.get("buf")
            if buf is None:
                buf = s.state["buf"] = g.copy()
            else:
                buf *= mu
                buf += g
            if self.nesterov:
                np.multiply(buf, mu, out=tmp)
                tmp += g
                g = tmp
            else:
                g = buf
        np.multiply(g, self.lr, out=tmp)
        p -= tmp


class Momentum(SGD):
    """SGD with momentum 0.9 by default; report 004's "SGDMomentum"."""

    def __init__(self, model, lr: float = 0.01, momentum: float = 0.9, nesterov: bool = False):
        super().__init__(model, lr, momentum, nesterov)


class Nesterov(SGD):
    def __init__(self, model, lr: float = 0.01, momentum: float = 0.9):
        super().__init__(model, lr, momentum, nesterov=True)


class Adam(Optimizer):
    def __init__(self, model, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(model, lr)
        self.beta1, self.beta2 = map(float, betas)
        self.eps = float(eps)
        self.t = 0

    def step(self) -> None:
        self.t += 1  # one shared step count, as every parameter is updated every step
        super().step()

    def _update(self, s, g):
        p, tmp, b1, b2 = s.param, s.tmp, self.beta1, self.beta2
        if "m" not in s.state:
            s.state["m"], s.state["v"] = np.zeros_like(p), np.zeros_like(p)
        m, v = s.state["m"], s.state["v"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        step_size = self.lr / (1 - b1 ** self.t)
        np.sqrt(v, out=tmp)
        tmp /= math.sqrt(1 - b2 ** self.t)
        tmp += self.eps  # (sqrt(v_hat) + eps), eps outside the root like torch
        np.divide(m, tmp, out=tmp)
        tmp *= step_size
        p -= tmp


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov, "adam": Adam}


def make_optimizer(name: str, model, lr: float, **kwargs) -> Optimizer:
    key = name.lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[key](model, lr=lr, **kwargs)


# ----------------------------------------------------------------------------- schedules
class LRSchedule:
    """Epoch-stepped schedule with PyTorch semantics: the optimizer starts at its own lr
    (epoch 0); call ``step()`` once at the end of every epoch.  The lr is computed in
    closed form from the base lr, so it does not drift from repeated multiplication."""

    def __init__(self, optimizer: Optimizer):
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> float:
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)
        return self.optimizer.lr

    def get_last_lr(self) -> float:
        return self.optimizer.lr


class StepLR(LRSchedule):
    """lr = base * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer)
        if step_size < 1:
            raise ValueError("step_size must be >= 1")
        self.step_size, self.gamma = int(step_size), float(gamma)

    def lr_at(self, epoch):
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRSchedule):
    """lr = base * gamma ** (number of milestones <= epoch)."""

    def __init__(self, optimizer, milestones: Sequence[int], gamma: float = 0.1):
        super().__init__(optimizer)
        self.milestones, self.gamma = sorted(int(m) for m in milestones), float(gamma)

    def lr_at(self, epoch):
        return self.base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRSchedule):
    """lr = base * gamma ** epoch."""

    def __init__(self, optimizer, gamma: float):
        super().__init__(optimizer)
        self.gamma = float(gamma)

    def lr_at(self, epoch):
        return self.base_lr * self.gamma ** epoch


SCHEDULES = {"step": StepLR, "multistep": MultiStepLR, "exponential": ExponentialLR}


def make_schedule(name, optimizer: Optimizer, **kwargs):
    """Schedule by name ("step", "multistep", "exponential"); None or "none" -> None."""
    if name is None or str(name).lower() == "none":
        return None
    key = str(name).lower().replace("lr", "").replace("_", "")
    if key not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of {sorted(SCHEDULES)}")
    return SCHEDULES[key](optimizer, **kwargs)
