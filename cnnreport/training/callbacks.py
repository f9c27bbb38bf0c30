"""What happens around the loop: checkpoints, logs, the progress bar, step probes.

:func:`cnnreport.training.fit` keeps the loop small and calls each callback at fixed
points.  A callback that only watches sets ``observes_only = True``; any other may change
training, so :func:`fit` refuses to combine it with a results store (the result would be
stored under the plain config's key).
"""
from __future__ import annotations

import contextlib
import csv
import io
import random
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch

from ..core.cache import atomic_write_bytes
from ..core.store import Result, ResultStore
from .loop import TrainState


class OutOfTime(RuntimeError):
    """Raised by :func:`fit` when the next epoch would end past its ``deadline``.

    The run's checkpoint holds every finished epoch, so calling ``fit`` again with the
    same config and store resumes where it stopped."""

    def __init__(self, key: str, epochs_done: int, epochs: int):
        super().__init__(f"run {key}: out of time after epoch {epochs_done} of {epochs}; "
                         f"checkpointed, the next call resumes")
        self.key, self.epochs_done, self.epochs = key, epochs_done, epochs


class Callback:
    """Hooks of one run; each gets the run's :class:`TrainState`.  All do nothing by default."""

    observes_only = False

    def on_fit_start(self, ts: TrainState) -> None: ...
    def on_epoch_start(self, ts: TrainState, epoch: int) -> None: ...
    def on_step(self, ts: TrainState, step: int, x: torch.Tensor, y: torch.Tensor) -> None:
        """Before the forward pass of ``step`` (0-based over the run) on batch ``x`` (B, C, H, W)."""
    def on_epoch_end(self, ts: TrainState, epoch: int, stopping: bool) -> None:
        """After ``epoch`` was trained, evaluated and judged; ``stopping``: the policy ends
        the run here (diverged or early-stopped).  Not called for an epoch whose loss
        went non-finite."""
    def on_fit_end(self, ts: TrainState, result: Result) -> None: ...
    def close(self) -> None:
        """Always called, also when the run raised."""


def overrides(cb: Callback, hook: str) -> bool:
    """Whether ``cb`` implements ``hook``: the loop calls per-step hooks only where needed."""
    return getattr(type(cb), hook) is not getattr(Callback, hook)


def rng_state(device: torch.device) -> Dict[str, Any]:
    s = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if device.type == "cuda":
        s["cuda"] = torch.cuda.get_rng_state(device)
    return s


def set_rng_state(s: Dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(s["torch"])
    np.random.set_state(s["numpy"])
    random.setstate(s["python"])
    if "cuda" in s and device.type == "cuda":
        torch.cuda.set_rng_state(s["cuda"], device)


class Checkpoint(Callback):
    """``<store>/checkpoints/<key>/last.pt``: resume on start, save every ``checkpoint_every``
    epochs, save and raise :class:`OutOfTime` before an epoch that would end past
    ``deadline`` (a ``time.monotonic()`` value), delete once the result is stored.

    The file holds weights, optimizer, schedule, history, steps, the :class:`TrainState`
    ledger and every RNG state, so a resumed run is bit-identical to an unbroken one."""

    observes_only = True

    def __init__(self, store: ResultStore, deadline: Optional[float] = None):
        self.store, self.deadline = store, deadline
        self.walls: List[float] = []  # seconds per epoch in this call, training and evaluation
        self._t = 0.0

    def _path(self, ts: TrainState) -> Path:
        return self.store.checkpoint_dir(ts.setup.key) / "last.pt"

    def on_fit_start(self, ts: TrainState) -> None:
        s, path = ts.setup, self._path(ts)
        if not path.is_file():
            return
        saved = torch.load(path, map_location=s.device, weights_only=False)
        if saved.get("key") != s.key:
            return
        s.model.load_state_dict(saved["model"])
        s.optimizer.load_state_dict(saved["optimizer"])
        s.schedule.load_state_dict(saved["schedule"])
        ts.restore(saved["history"], saved["steps"], saved["state"])
        set_rng_state(saved["rng"], s.device)

    def save(self, ts: TrainState) -> None:
        s, buf = ts.setup, io.BytesIO()
        torch.save({"key": s.key, "model": s.model.state_dict(), "optimizer": s.optimizer.state_dict(),
                    "schedule": s.schedule.state_dict(), "history": ts.history, "steps": ts.steps,
                    "state": ts.ledger(), "rng": rng_state(s.device)}, buf)
        atomic_write_bytes(self._path(ts), buf.getvalue())

    def on_epoch_start(self, ts: TrainState, epoch: int) -> None:
        if self.deadline is not None and self.walls and \
                time.monotonic() + sum(self.walls) / len(self.walls) > self.deadline:
            self.save(ts)
            raise OutOfTime(ts.setup.key, epoch, ts.setup.cfg.epochs)
        self._t = time.monotonic()

    def on_epoch_end(self, ts: TrainState, epoch: int, stopping: bool) -> None:
        if stopping:
            return
        every, epochs = ts.setup.cfg.checkpoint_every, ts.setup.cfg.epochs
        if every and (epoch + 1) % every == 0 and epoch + 1 < epochs:
            self.save(ts)
        self.walls.append(time.monotonic() - self._t)

    def on_fit_end(self, ts: TrainState, result: Result) -> None:
        path = self._path(ts)
        if path.exists():
            path.unlink()
            with contextlib.suppress(OSError):
                path.parent.rmdir()


class CsvLog(Callback):
    """The per-epoch history as ``<store>/logs/<key>.csv``, rewritten after every epoch."""

    observes_only = True

    def __init__(self, store: ResultStore):
        self.store = store

    def on_epoch_end(self, ts: TrainState, epoch: int, stopping: bool) -> None:
        h = ts.history
        keys = [k for k in h if h[k]]
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(keys)
        for row in zip(*(h[k] for k in keys)):
            w.writerow(row)
        atomic_write_bytes(self.store.log_dir() / f"{ts.setup.key}.csv", buf.getvalue().encode())


class TensorBoardLog(Callback):
    """Scalars under ``<store>/logs/<key>/`` when the optional tensorboard package is there."""

    observes_only = True
    KEYS = ("train_loss", "train_acc", "val_loss", "val_acc", "lr")

    def __init__(self, store: ResultStore):
        self.store, self.writer = store, None

    def on_fit_start(self, ts: TrainState) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except Exception:  # noqa: BLE001 - optional: no tensorboard, no event files
            return
        self.writer = SummaryWriter(str(self.store.log_dir() / ts.setup.key))

    def on_epoch_end(self, ts: TrainState, epoch: int, stopping: bool) -> None:
        if self.writer is not None:
            for k in self.KEYS:
                self.writer.add_scalar(k, ts.history[k][-1], epoch + 1)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class ProgressBar(Callback):
    """A tqdm bar over the run's steps (disabled: no output)."""

    observes_only = True

    def __init__(self, enabled: bool = True):
        self.enabled, self.bar = enabled, None

    def on_fit_start(self, ts: TrainState) -> None:
        from tqdm.auto import tqdm
        s = ts.setup
        self.bar = tqdm(total=s.cfg.epochs * s.steps_per_epoch, desc=f"{s.cfg.name or s.cfg.model}",
                        disable=not self.enabled, leave=False, unit="step")
        self.bar.update(ts.epoch * s.steps_per_epoch)

    def on_step(self, ts: TrainState, step: int, x, y) -> None:
        self.bar.update(1)

    def on_epoch_end(self, ts: TrainState, epoch: int, stopping: bool) -> None:
        h = ts.history
        self.bar.set_postfix(epoch=epoch + 1, loss=f"{h['train_loss'][-1]:.3f}",
                             acc=f"{h['train_acc'][-1]:.3f}", val=f"{h['val_acc'][-1]:.3f}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class StepProbe(Callback):
    """Calls ``fn(step, model, x, y, loss_fn, optimizer)`` before every step's forward pass.

    Called before the forward, ``fn`` may change and restore weights in place without
    breaking the step's autograd graph.  It may alter training, so no store with it."""

    def __init__(self, fn: Callable[..., None]):
        self.fn = fn

    def on_step(self, ts: TrainState, step: int, x, y) -> None:
        s = ts.setup
        self.fn(step, s.model, x, y, s.loss_fn, s.optimizer)
