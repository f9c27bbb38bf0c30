"""Conv2D and MaxPool2D, vectorized with stride tricks.

Layout.  The public shape is NCHW, like PyTorch.  Internally both layers work on the
batch-last layout (C, H, W, N): ``x.transpose(1, 2, 3, 0)``.  In that layout every
window slice ``x[:, i:i+Ho, j:j+Wo, :]`` is made of contiguous runs of ``Wo*N`` values
(``N`` values when the stride is > 1), so the im2col copy, the col2im scatter-add and
the pooling comparisons stream through memory instead of iterating over rows of 8 or
24 numbers.  Outputs are returned as NCHW-shaped *views* of batch-last memory; the
next conv/pool layer gets the batch-last array back for free (``ascontiguousarray`` of
the transposed view is a no-op), and element-wise activations keep the memory order
(NumPy ufuncs allocate their output in the input's order).

Loops.  The only Python loops run over the k*k kernel offsets (25 for a 5x5 kernel, 4
for a 2x2 pool), never over pixels or samples; each iteration is one array operation
over the whole batch.  im2col itself is a single strided view plus one copy, and the
convolution is one BLAS matrix product.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .layers import Layer, check_decay_mode, decay_config, init_weights


def _batch_last(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> contiguous (C, H, W, N); free when x came from another conv/pool."""
    return np.ascontiguousarray(x.transpose(1, 2, 3, 0))


class Conv2D(Layer):
    """2-D cross-correlation with a square kernel, stride and zero padding.

    W: (out_channels, in_channels, k, k) as in PyTorch; b: (out_channels,).
    Output size: Ho = (H + 2*padding - k) // stride + 1 (PyTorch's floor rule).
    """

    has_params = True
    decay_names = ("W",)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, padding: int = 0, weight_decay: float = 0.0,
                 dtype=None, rng: Optional[np.random.Generator] = None,
                 init_std: Optional[float] = None, decay_mode: str = "coupled"):
        super().__init__(dtype)
        rng = np.random.default_rng() if rng is None else rng
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride, self.padding = int(kernel_size), int(stride), int(padding)
        if self.kernel_size < 1 or self.stride < 1 or self.padding < 0:
            raise ValueError("kernel_size and stride must be >= 1 and padding >= 0")
        self.weight_decay = float(weight_decay)
        self.decay_mode = check_decay_mode(decay_mode)
        k = self.kernel_size
        fan_in = self.in_channels * k * k
        self.params["W"] = init_weights(rng, (self.out_channels, self.in_channels, k, k),
                                        fan_in, self.dtype, init_std)
        self.params["b"] = np.zeros(self.out_channels, self.dtype)
        self.grads["W"] = np.zeros_like(self.params["W"])
        self.grads["b"] = np.zeros_like(self.params["b"])
        self._cols: Optional[np.ndarray] = None

    def _im2col(self, xt: np.ndarray):
        """(C, H, W, N) -> cols (C*k*k, Ho*Wo*N) plus the output size."""
        C, H, W, N = xt.shape
        k, s, p = self.kernel_size, self.stride, self.padding
        if p:
            # Writing into a zeroed buffer is cheaper than np.pad's generic machinery.
            xp = np.zeros((C, H + 2 * p, W + 2 * p, N), xt.dtype)
            xp[:, p:p + H, p:p + W, :] = xt
        else:
            xp = xt
        Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
        if Ho < 1 or Wo < 1:
            raise ValueError(f"input {H}x{W} is smaller than the {k}x{k} kernel")
        win = sliding_window_view(xp, (k, k), axis=(1, 2))[:, ::s, ::s]  # (C, Ho, Wo, N, k, k)
        # Row order (c, i, j) matches W.reshape(O, C*k*k); one copy makes it GEMM-ready.
        cols = np.ascontiguousarray(win.transpose(0, 4, 5, 1, 2, 3)).reshape(C * k * k, -1)
        return cols, Ho, Wo

    def forward(self, x, training=True):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2D expects (N, {self.in_channels}, H, W), got {x.shape}")
        xt = _batch_last(x)  # (C, H, W, N)
        cols, Ho, Wo = self._im2col(xt)  # (C*k*k, Ho*Wo*N)
        O = self.out_channels
        out = self.params["W"].reshape(O, -1) @ cols  # (O, Ho*Wo*N)
        out += self.params["b"][:, None]
        # The cols matrix is the largest cached object; inference does not keep it.
        self._cols = cols if training else None
        self._in_shape = xt.shape
        return out.reshape(O, Ho, Wo, -1).transpose(3, 0, 1, 2)  # (N, O, Ho, Wo)

    def backward(self, grad, need_input_grad=True):
        if self._cols is None:
            raise RuntimeError("Conv2D.backward needs a forward pass with training=True")
        O, (C, H, W, N) = self.out_channels, self._in_shape
        k, s, p = self.kernel_size, self.stride, self.padding
        _, _, Ho, Wo = grad.shape
        g = _batch_last(grad).reshape(O, -1)  # (O, Ho*Wo*N)
        np.matmul(g, self._cols.T, out=self.grads["W"].reshape(O, -1))  # (O, C*k*k)
        np.sum(g, axis=1, out=self.grads["b"])
        if not need_input_grad:
            return None
        dcols = (self.params["W"].reshape(O, -1).T @ g).reshape(C, k, k, Ho, Wo, N)
        # col2im: each kernel offset (i, j) adds its slab back where it was read from.
        dxp = np.zeros((C, H + 2 * p, W + 2 * p, N), grad.dtype)
        for i in range(k):
            for j in range(k):
                dxp[:, i:i + s * (Ho - 1) + 1:s, j:j + s * (Wo - 1) + 1:s, :] += dcols[:, i, j]
        return dxp[:, p:p + H, p:p + W, :].transpose(3, 0, 1, 2)  # (N, C, H, W)

    def config(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": self.kernel_size, "stride": self.stride,
                "padding": self.padding, "weight_decay": self.weight_decay,
                **decay_config(self)}


class MaxPool2D(Layer):
    """Max pooling over k x k windows; stride defaults to k; floor output size.

    Gradients go to the *first* maximum of each window in row-major order, exactly as
    PyTorch does.  This matters after a ReLU, where all-zero windows are common: an
    equality mask would send the gradient to every tied zero and overcount it.
    """

    def __init__(self, kernel_size: int = 2, stride: Optional[int] = None, dtype=None):
        super().__init__(dtype)
        self.kernel_size = int(kernel_size)
        self.stride = self.kernel_size if stride is None else int(stride)
        if self.kernel_size < 1 or self.stride < 1:
            raise ValueError("kernel_size and stride must be >= 1")

    def _slices(self, Ho: int, Wo: int):
        k, s = self.kernel_size, self.stride
        for i in range(k):
            for j in range(k):
                yield (slice(None), slice(i, i + s * (Ho - 1) + 1, s),
                       slice(j, j + s * (Wo - 1) + 1, s), slice(None))

    def forward(self, x, training=True):
        xt = _batch_last(x)  # (C, H, W, N)
        C, H, W, N = xt.shape
        k, s = self.kernel_size, self.stride
        Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
        if Ho < 1 or Wo < 1:
            raise ValueError(f"input {H}x{W} is smaller than the {k}x{k} pool")
        slices = list(self._slices(Ho, Wo))
        best = xt[slices[0]].copy()  # (C, Ho, Wo, N)
        arg = np.zeros(best.shape, np.int16) if training else None
        for t, sl in enumerate(slices[1:], start=1):
            cand = xt[sl]
            if training:
                # Strict '>' keeps the first maximum, PyTorch's tie rule.  The index is
                # updated arithmetically (arg += better * (t - arg)): a masked copy with
                # a data-dependent mask branches per element and is several times slower.
                better = cand > best
                arg += better * (np.int16(t) - arg)
            np.maximum(best, cand, out=best)
        self._arg, self._in_shape = arg, xt.shape
        return best.transpose(3, 0, 1, 2)  # (N, C, Ho, Wo)

    def backward(self, grad, need_input_grad=True):
        if not need_input_grad:
            return None
        if self._arg is None:
            raise RuntimeError("MaxPool2D.backward needs a forward pass with training=True")
        g = _batch_last(grad)  # (C, Ho, Wo, N)
        dx = np.zeros(self._in_shape, grad.dtype)  # (C, H, W, N)
        overlap = self.stride < self.kernel_size
        for t, sl in enumerate(self._slices(g.shape[1], g.shape[2])):
            if overlap:  # windows share pixels: contributions must add up
                dx[sl] += g * (self._arg == t)
            else:  # disjoint windows: write straight into the slice, no temporary
                np.multiply(g, self._arg == t, out=dx[sl])
        return dx.transpose(3, 0, 1, 2)  # (N, C, H, W)

    def config(self):
        return {"kernel_size": self.kernel_size, "stride": self.stride}
