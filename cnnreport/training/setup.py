"""Everything a run needs before its first step, built from a validated config and data.

:func:`build_setup` is the one building step: the benchmarks and the tests call it
instead of repeating the trainer's set-up, so what they time or check is what
:func:`cnnreport.training.fit` trains.  :func:`run_scope` keeps a run's process-wide
settings (global RNG seeds, ``cudnn.benchmark``) inside the run.
"""
from __future__ import annotations

import contextlib
import random
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Tuple

import numpy as np
import torch

from ..core import data as D
from ..core.components import LOSSES, OPTIMIZERS, SCHEDULES, Schedule
from ..core.config import RunConfig
from ..core.loader import DeviceLoader
from ..models import MODELS, count_params
from ..core.hardware import resolve_precision

Autocast = Callable[[], Any]  # a zero-argument context factory: ``with autocast(): ...``


def resolve_device(name: str) -> torch.device:
    """``"auto"`` is CUDA when there is one; asking for CUDA without one is an error,
    not a silent fall-back, so a GPU run never quietly trains on the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} asked for, but CUDA is not available; use device='auto' or 'cpu'")
    return dev


def autocast_for(device: torch.device, precision: str) -> Autocast:
    """bf16 autocast (fp32 master weights) where the hardware multiplies bf16 natively under
    ``"auto"`` (CUDA, a CPU with AMX-BF16 or AVX512-BF16: :mod:`cnnreport.core.hardware`); fp32 elsewhere,
    where emulated bf16 would be slower than fp32."""
    if resolve_precision(device, precision) == "bf16":
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


def _is_compile_error(e: BaseException) -> bool:
    """True for an error raised by Dynamo or Inductor while compiling (no C++ compiler, an
    unsupported op, a backend failure on another torch version), not by the model itself."""
    return any(type(c).__module__.startswith(("torch._dynamo", "torch._inductor"))
               for c in (e, e.__cause__) if c is not None)


class CompiledOrEager:
    """The training step's model under ``torch.compile``, or the eager model where compiling
    fails: the first call compiles; a compile error is warned about once, kept in ``.failed``
    (the result's environment records it) and the run goes on eagerly with the same weights."""

    def __init__(self, model: torch.nn.Module, compiler: Optional[Callable[[torch.nn.Module], Any]] = None):
        self.model, self.failed = model, None
        self._compiled = (compiler or torch.compile)(model)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.failed is None:
            try:
                return self._compiled(x)
            except Exception as e:  # noqa: BLE001 - only a compile error falls back
                if not _is_compile_error(e):
                    raise
                first_line = next(iter(str(e).splitlines()), "")
                self.failed = f"{type(e).__name__}: {first_line[:200]}"
                warnings.warn(f"torch.compile failed ({self.failed}); training eagerly instead", RuntimeWarning)
        return self.model(x)


def normalization(cfg: RunConfig, ds: D.Dataset) -> Tuple[tuple, tuple]:
    """Per-channel (mean, std): 0.5/0.5 when a report used that, else the dataset's known
    statistics, else those of its training images."""
    C = ds.image_shape[0]
    if cfg.normalization == "half":
        return (0.5,) * C, (0.5,) * C
    if ds.name in D.NORMALIZATION:
        return D.NORMALIZATION[ds.name]
    x = ds.x_train.reshape(len(ds.x_train), -1, C).astype(np.float64) / 255.0  # (N, H*W, C)
    return tuple(x.mean((0, 1))), tuple(x.std((0, 1)))


def split_data(cfg: RunConfig, ds: D.Dataset):
    """(x, y) of train, validation and test after the seeded split and the subsets."""
    if cfg.split == "random":
        tr, va = D.random_split(len(ds.y_train), cfg.val_fraction, cfg.seed)
    else:
        tr, va = D.stratified_split(ds.y_train, cfg.val_fraction, cfg.seed)
    tr = tr[D.subset_indices(ds.y_train[tr], cfg.train_subset, cfg.subset_mode, cfg.seed)]
    va = va[D.subset_indices(ds.y_train[va], cfg.val_subset, cfg.subset_mode, cfg.seed)]
    te = D.subset_indices(ds.y_test, cfg.test_subset, cfg.subset_mode, cfg.seed)
    return ((ds.x_train[tr], ds.y_train[tr]), (ds.x_train[va], ds.y_train[va]),
            (ds.x_test[te], ds.y_test[te]))


@dataclass
class Setup:
    """One run, ready to train: what :func:`build_setup` made from a config and a dataset."""

    cfg: RunConfig
    key: str
    device: torch.device
    dataset: D.Dataset
    model: torch.nn.Module           # the module whose weights are saved and evaluated
    step_model: Callable[[torch.Tensor], torch.Tensor]  # what the step calls: ``model`` or CompiledOrEager
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (logits (B, K), labels (B,)) -> scalar
    autocast: Autocast
    channels_last: bool
    train_loader: DeviceLoader
    val_loader: Optional[DeviceLoader]  # None without a validation split: the last epoch is kept
    test_loader: DeviceLoader
    num_params: int

    @property
    def num_classes(self) -> int:
        return self.dataset.num_classes

    @property
    def steps_per_epoch(self) -> int:
        return len(self.train_loader)

    @property
    def compile_failed(self) -> Optional[str]:
        """Why ``torch.compile`` fell back to eager in this run, if it did."""
        return getattr(self.step_model, "failed", None)

    @property
    def bf16(self) -> bool:
        return self.autocast is not contextlib.nullcontext


def seed_everything(seed: int) -> None:
    """Seed the global torch, NumPy and Python generators, as every run always has (the
    model's initial weights, dropout and RReLU draw from them)."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2 ** 32)
    random.seed(seed)


def build_setup(cfg: RunConfig, ds: D.Dataset, device: Optional[torch.device] = None) -> Setup:
    """Build the loaders, seed, then build model, optimizer, schedule and loss.

    The order is part of the numbers: loaders first, then the seed, then the model, so a
    config trains the same weights it always did.  Call it inside :func:`run_scope` to
    keep the seeding from leaking into the caller.
    """
    device = device if device is not None else resolve_device(cfg.device)
    # Channels-last by default wherever bf16 runs: oneDNN's and cuDNN's fast convolutions want it.
    bf16 = resolve_precision(device, cfg.precision) == "bf16"
    channels_last = bf16 if cfg.channels_last is None else cfg.channels_last
    (xtr, ytr), (xva, yva), (xte, yte) = split_data(cfg, ds)
    mean, std = normalization(cfg, ds)

    def loader(x, y, batch_size, augment=(), shuffle=False, seed=0):
        return DeviceLoader(x, y, batch_size, mean=mean, std=std, augment=augment, shuffle=shuffle,
                            seed=seed, device=device, channels_last=channels_last)

    train_loader = loader(xtr, ytr, cfg.batch_size, cfg.augment, True, cfg.seed)
    val_loader = loader(xva, yva, cfg.eval_batch_size) if len(yva) else None
    test_loader = loader(xte, yte, cfg.eval_batch_size)

    seed_everything(cfg.seed)
    model = MODELS.build(cfg.model, num_classes=ds.num_classes, in_channels=ds.image_shape[0],
                         **cfg.model_args).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt_kw = {"lr": cfg.lr, "weight_decay": cfg.weight_decay}
    if cfg.optimizer == "sgd":
        opt_kw.update(momentum=cfg.momentum, nesterov=cfg.nesterov)
    opt = OPTIMIZERS.build(cfg.optimizer, model.parameters(), **opt_kw)
    sched = SCHEDULES.build(cfg.schedule, opt, cfg.lr, cfg.epochs, len(train_loader), **cfg.schedule_args)
    return Setup(cfg=cfg, key=cfg.key(), device=device, dataset=ds, model=model,
                 step_model=CompiledOrEager(model) if cfg.compile else model, optimizer=opt,
                 schedule=sched, loss_fn=LOSSES.build(cfg.loss, **cfg.loss_args),
                 autocast=autocast_for(device, cfg.precision), channels_last=channels_last,
                 train_loader=train_loader, val_loader=val_loader, test_loader=test_loader,
                 num_params=count_params(model))


@contextlib.contextmanager
def cudnn_scope(device: torch.device) -> Iterator[None]:
    """cuDNN autotuning on for a CUDA run (fixed input shapes: it pays off), and the
    caller's ``cudnn.benchmark`` flag put back afterwards."""
    benchmark = torch.backends.cudnn.benchmark
    try:
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        yield
    finally:
        torch.backends.cudnn.benchmark = benchmark


@contextlib.contextmanager
def rng_scope(device: torch.device) -> Iterator[None]:
    """The caller's torch (CPU, and ``device`` if CUDA), NumPy and Python RNG states are
    put back on leaving, whatever the run seeded or drew inside."""
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            yield
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)


@contextlib.contextmanager
def run_scope(device: torch.device) -> Iterator[None]:
    """Keep a run's process-wide state inside the run (:func:`cudnn_scope` and
    :func:`rng_scope`), so calling ``fit`` changes neither the caller's random draws nor
    its cuDNN settings, and a run's numbers do not depend on what ran before it."""
    with cudnn_scope(device), rng_scope(device):
        yield
