"""Softmax cross-entropy and the accuracy metric."""
from __future__ import annotations

from typing import Optional

import numpy as np


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax.  Subtracting the row maximum first means exp() only ever
    sees values <= 0, so it cannot overflow, whatever the scale of the logits."""
    z = logits - logits.max(axis=1, keepdims=True)  # (N, K)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _check_labels(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if logits.ndim != 2 or labels.shape != (logits.shape[0],):
        raise ValueError(f"expected logits (N, K) and labels (N,), got {logits.shape} "
                         f"and {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integer class indices, got {labels.dtype}")
    return labels


class SoftmaxCrossEntropy:
    """Mean over the batch of -log softmax(logits)[label].

    Fusing softmax with the loss gives the simple, stable gradient
    (softmax(z) - onehot(y)) / N instead of chaining a softmax Jacobian.
    """

    def __init__(self):
        self._probs: Optional[np.ndarray] = None
        self._labels: Optional[np.ndarray] = None

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        labels = _check_labels(logits, labels)
        logp = log_softmax(logits)  # (N, K)
        n = logits.shape[0]
        self._probs, self._labels = np.exp(logp), labels
        return float(-logp[np.arange(n), labels].mean())

    __call__ = forward

    def backward(self) -> np.ndarray:
        """Gradient of the mean loss with respect to the logits, (N, K)."""
        if self._probs is None:
            raise RuntimeError("call forward before backward")
        n = self._probs.shape[0]
        grad = self._probs.copy()
        grad[np.arange(n), self._labels] -= 1
        grad /= n
        return grad


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean softmax cross-entropy without keeping anything for a backward pass."""
    labels = _check_labels(logits, labels)
    return float(-log_softmax(logits)[np.arange(logits.shape[0]), labels].mean())


def accuracy(logits_or_pred: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of correct predictions; accepts logits (N, K) or class indices (N,)."""
    pred = np.asarray(logits_or_pred)
    if pred.ndim == 2:
        pred = pred.argmax(axis=1)
    labels = np.asarray(labels)
    if pred.shape != labels.shape:
        raise ValueError(f"prediction shape {pred.shape} != label shape {labels.shape}")
    return float((pred == labels).mean()) if labels.size else float("nan")
