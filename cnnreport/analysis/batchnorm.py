"""Measures of report 000's VGG-A figures: the gap between training and test loss, when a
test-accuracy curve first passes a level, and where the loss band is widest.

Each function takes the per-epoch ``history`` of a :class:`~cnnreport.store.Result` or a
:func:`~cnnreport.landscape.loss_band` and returns NaN (or None) where the series does not
reach, so a short run gives an undefined number rather than a wrong one.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence, Tuple

import numpy as np

# Our reading of report 000's "clear gap" between training and test loss: the test loss
# exceeds the training loss by more than this (cross-entropy, nats).
CLEAR_GAP = 0.1


def _series(history: Mapping[str, Any], key: str) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in (history.get(key) or [])], dtype=float)


def common_epochs(*histories: Mapping[str, Any]) -> int:
    """Epochs that every history covers with both a training and a test loss."""
    if not histories:
        return 0
    return min(min(len(h.get("train_loss") or []), len(h.get("test_loss_curve") or []))
               for h in histories)


def loss_gap(history: Mapping[str, Any], epoch: Optional[int] = None) -> float:
    """Test loss minus training loss at ``epoch`` (1-based; None: the last epoch that has
    both).  The training loss is the mean over the epoch's batches in training mode, as
    report 000's code records it.  NaN where the epoch is not covered."""
    n = common_epochs(history)
    e = n if epoch is None else int(epoch)
    if e < 1 or e > n:
        return float("nan")
    return float(_series(history, "test_loss_curve")[e - 1] - _series(history, "train_loss")[e - 1])


def first_epoch_reaching(curve: Sequence[float], level: float) -> Optional[int]:
    """The first epoch (1-based) at which ``curve`` is at least ``level``, or None."""
    for i, v in enumerate(curve):
        if v is not None and math.isfinite(v) and v >= level:
            return i + 1
    return None


def best_within(curve: Sequence[float], epochs: int) -> float:
    """The largest finite value of ``curve`` over its first ``epochs`` epochs (NaN if none)."""
    v = np.array([np.nan if x is None else x for x in list(curve)[:max(0, int(epochs))]], dtype=float)
    return float(np.nanmax(v)) if np.isfinite(v).any() else float("nan")


def window_widths(band: Mapping[str, Any], split: int, n: Optional[int] = None) -> Tuple[float, float]:
    """Mean band width (max - min) over steps ``[0, split)`` and over ``[split, n)`` (n: the
    band's length when None), skipping undefined steps; NaN for a window with no step."""
    width = (np.asarray(band["max"], dtype=float) - np.asarray(band["min"], dtype=float))[:n]

    def mean(w: np.ndarray) -> float:
        w = w[np.isfinite(w)]
        return float(w.mean()) if w.size else float("nan")

    split = max(0, int(split))
    return mean(width[:split]), mean(width[split:])


def logit_spread(model, x) -> float:
    """How much a model's logits depend on its input: the standard deviation across the
    inputs ``x`` of each logit, averaged over the logits.  The forward runs in training
    mode, so BatchNorm normalises with the batch's statistics as a training step does;
    buffers (BN running statistics) and the train/eval flags are restored.  Near 0 the
    net answers every input alike, which is where a deep plain stack with a weak
    initialisation starts (and where plain SGD's gradients are tiny)."""
    import torch
    flags = [(m, m.training) for m in model.modules()]
    saved = [(b, b.detach().clone()) for b in model.buffers()]
    model.train()
    try:
        with torch.no_grad():
            out = model(x).double()
    finally:
        with torch.no_grad():
            for b, v in saved:
                b.copy_(v)
        for m, f in flags:
            m.training = f
    return float(out.std(dim=0).mean())
