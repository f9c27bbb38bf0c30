"""Data helpers and the training runner.

Protocol (fixing the flaw the spec records for report 000): the training images are
split 5:1 into train/validation with a seeded permutation; the best epoch is chosen by
validation accuracy and early stopping watches validation accuracy only.  The test set
is evaluated only after training, twice: with the weights after the last epoch trained
(what report 004's code scores) and with the best-by-validation weights; nothing is
selected on it.
"""
from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np

from .augment import augment_dataset
from .losses import SoftmaxCrossEntropy
from .optim import SGD, LRSchedule, Optimizer


def prepare_images(x: np.ndarray, dtype=np.float32) -> np.ndarray:
    """uint8 (N, H, W) or (N, C, H, W) -> float (N, C, H, W) scaled to [0, 1].
    Float input is only reshaped/cast (assumed already scaled)."""
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[:, None]  # (N, 1, H, W)
    if np.issubdtype(x.dtype, np.integer):
        out = x.astype(dtype)
        out /= 255  # in place: no second full-size temporary
        return out
    return x.astype(dtype, copy=False)


def load_mnist(path: Optional[str] = None) -> Dict[str, np.ndarray]:
    """Read an MNIST .npz (x_train, y_train, x_test, y_test as uint8/int64).

    ``path`` is the file or the folder holding ``mnist.npz``; it defaults to the
    project's data folder, ``$CNNREPORT_DATA``, else ``~/.cache/cnnreport/data``."""
    if path is None:
        path = os.environ.get("CNNREPORT_DATA") or os.path.expanduser("~/.cache/cnnreport/data")
    if os.path.isdir(path):
        path = os.path.join(path, "mnist.npz")
    with np.load(path, allow_pickle=False) as f:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(f.files)
        if missing:
            raise ValueError(f"{path}: missing arrays {sorted(missing)}")
        return {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}


def split_train_val(x: np.ndarray, y: np.ndarray, val_fraction: float = 1 / 6,
                    seed: Optional[int] = 0):
    """Seeded random split; the default 1/6 gives report 004's 5:1 (50,000/10,000)."""
    if not 0 < val_fraction < 1:
        raise ValueError("val_fraction must be in (0, 1)")
    perm = np.random.default_rng(seed).permutation(len(x))
    n_val = int(round(len(x) * val_fraction))
    tr, va = perm[n_val:], perm[:n_val]
    return (x[tr], y[tr]), (x[va], y[va])


def train_step(model, loss_fn: SoftmaxCrossEntropy, optimizer: Optimizer,
               xb: np.ndarray, yb: np.ndarray) -> Tuple[float, int]:
    """One forward/backward/update on a mini-batch; returns (loss, number correct)."""
    logits = model.forward(xb, training=True)  # (B, K)
    loss = loss_fn.forward(logits, yb)
    model.backward(loss_fn.backward())
    optimizer.step()
    return loss, int((logits.argmax(axis=1) == yb).sum())


@dataclass
class History:
    """Per-epoch curves (index e = epoch e+1) plus the test results.
    ``best_epoch`` is 1-based; ``test_*`` use the best-by-validation weights,
    ``final_test_*`` the weights after the last epoch trained."""

    train_loss: List[float] = field(default_factory=list)
    train_acc: List[float] = field(default_factory=list)
    val_loss: List[float] = field(default_factory=list)
    val_acc: List[float] = field(default_factory=list)
    lr: List[float] = field(default_factory=list)
    epoch_time: List[float] = field(default_factory=list)
    best_epoch: int = 0
    best_val_acc: float = float("nan")
    test_loss: float = float("nan")
    test_acc: float = float("nan")
    final_test_loss: float = float("nan")
    final_test_acc: float = float("nan")
    stopped_early: bool = False
    train_size: int = 0
    val_size: int = 0

    @property
    def epochs_run(self) -> int:
        return len(self.train_loss)

    @property
    def train_time(self) -> float:
        return float(sum(self.epoch_time))

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(epochs_run=self.epochs_run, train_time=self.train_time)
        return d


def _progress(iterable, enabled: bool, **kwargs):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm  # imported lazily: the package works without tqdm
    return tqdm(iterable, **kwargs)


def train(model, data: Mapping[str, np.ndarray], epochs: int = 5, batch_size: int = 32,
          optimizer: Optional[Optimizer] = None, schedule: Optional[LRSchedule] = None,
          val_fraction: float = 1 / 6, patience: Optional[int] = None,
          augment: bool = False, progress: bool = True, seed: Optional[int] = 0,
          eval_batch_size: int = 1000) -> History:
    """Train ``model`` in place and return its :class:`History`.

    data: mapping with x_train, y_train, x_test, y_test (uint8 images are scaled to
      [0, 1]); optional x_val, y_val replace the seeded 5:1 split of the training set.
    optimizer: defaults to momentum SGD (lr 0.1, momentum 0.9), report 004's choice.
    schedule: stepped once per epoch.  patience: stop after this many epochs without a
      gain in validation accuracy (None: never stop early).
    augment: append one rotated/shifted copy of every *training-split* image.
    The model is left holding the best-by-validation weights (the test result of the
    last epoch's weights is in ``final_test_*``).
    """
    rng = np.random.default_rng(seed)
    if "x_val" in data:
        (xtr, ytr), (xva, yva) = (data["x_train"], data["y_train"]), (data["x_val"], data["y_val"])
    else:
        (xtr, ytr), (xva, yva) = split_train_val(data["x_train"], data["y_train"],
                                                 val_fraction, seed=rng.integers(2**31))
    if augment:
        xtr, ytr = augment_dataset(xtr, ytr, seed=rng.integers(2**31))
    xtr, xva = prepare_images(xtr, model.dtype), prepare_images(xva, model.dtype)
    ytr, yva = np.asarray(ytr, np.int64), np.asarray(yva, np.int64)
    optimizer = optimizer or SGD(model, lr=0.1, momentum=0.9)
    loss_fn = SoftmaxCrossEntropy()
    hist = History(train_size=len(xtr), val_size=len(xva))
    best_weights, since_best = model.get_weights(), 0
    n_batches = -(-len(xtr) // batch_size)

    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        perm = rng.permutation(len(xtr))
        lr_now = optimizer.lr
        loss_sum, correct = 0.0, 0
        bar = _progress(range(n_batches), progress, desc=f"epoch {epoch}/{epochs}",
                        leave=False, mininterval=0.5)
        for b in bar:
            idx = perm[b * batch_size:(b + 1) * batch_size]
            loss, right = train_step(model, loss_fn, optimizer, xtr[idx], ytr[idx])
            loss_sum += loss * len(idx)
            correct += right
        if schedule is not None:
            schedule.step()
        # Train metrics are running averages over the epoch (weights move meanwhile).
        hist.train_loss.append(loss_sum / len(xtr))
        hist.train_acc.append(correct / len(xtr))
        vl, va = model.evaluate(xva, yva, eval_batch_size)
        hist.val_loss.append(vl)
        hist.val_acc.append(va)
        hist.lr.append(lr_now)
        hist.epoch_time.append(time.perf_counter() - t0)
        if progress:
            print(f"epoch {epoch}: train loss {hist.train_loss[-1]:.4f} acc "
                  f"{hist.train_acc[-1]:.4f} | val loss {vl:.4f} acc {va:.4f} | "
                  f"{hist.epoch_time[-1]:.1f}s", flush=True)
        if hist.best_epoch == 0 or va > hist.best_val_acc:  # strict gain only
            hist.best_epoch, hist.best_val_acc, since_best = epoch, va, 0
            best_weights = model.get_weights()
        else:
            since_best += 1
            if patience is not None and since_best >= patience:
                hist.stopped_early = True
                break

    xte = prepare_images(data["x_test"], model.dtype) if "x_test" in data else None
    if xte is not None:  # the last epoch's weights, before the best ones replace them
        hist.final_test_loss, hist.final_test_acc = model.evaluate(
            xte, np.asarray(data["y_test"]), eval_batch_size)
    model.set_weights(best_weights)
    if xte is not None:
        hist.test_loss, hist.test_acc = model.evaluate(xte, np.asarray(data["y_test"]),
                                                       eval_batch_size)
    return hist
