"""Layers with hand-written forward and backward passes (NumPy only).

Conventions shared by every layer:

* ``forward(x)`` caches exactly what ``backward`` needs; ``backward(grad)`` returns the
  gradient with respect to the layer input and *overwrites* (never accumulates) the
  parameter gradients in ``self.grads``.  Overwriting means no ``zero_grad`` step is
  needed between mini-batches, which saves one pass over every parameter array.
* Parameters live in ``self.params`` (name -> array) and are only ever updated in
  place, so the optimizer can hold references to them across save/load.
* ``weight_decay`` is a per-layer coefficient.  It is applied by the optimizer to the
  arrays named in ``decay_names`` (the weights), never to biases: decaying a bias does
  not limit the capacity of the layer and only shifts its operating point.
  ``decay_mode`` says how (see :data:`DECAY_MODES`): ``"coupled"`` adds the L2 term
  ``wd * W`` to the gradient (inside momentum, as torch's ``weight_decay``),
  ``"decoupled"`` shrinks the weights by ``1 - lr * wd`` outside the momentum buffer (what
  report 004's optimizers do), ``"both"`` does both (report 004's Conv2D adds the L2 term
  in its backward pass, and its optimizer shrinks the same weights again).
* Weights start from He-normal values (std sqrt(2 / fan-in)), or from N(0, init_std^2)
  when ``init_std`` is given: report 004's layers draw ``np.random.normal(...) * 0.1``.
* ``config()`` returns the JSON-able constructor arguments used by model save/load.

Images are NCHW, like PyTorch, so the gradient tests can compare tensors directly.
Conv2D and MaxPool2D live in :mod:`cnnreport.scratch.conv`.
"""
from __future__ import annotations

from typing import Dict, Optional

import numpy as np

DEFAULT_DTYPE = np.float32


def as_dtype(dtype) -> np.dtype:
    """Accept None, a NumPy dtype or its name; only float32/float64 are meaningful."""
    dt = np.dtype(DEFAULT_DTYPE if dtype is None else dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


#: How a layer's weight decay acts (see the module docstring).
DECAY_MODES = ("coupled", "decoupled", "both")


def he_normal(rng: np.random.Generator, shape, fan_in: int, dtype) -> np.ndarray:
    """Kaiming-normal init, std sqrt(2/fan_in): keeps activation variance roughly
    constant through (leaky-)ReLU stacks, so the same lr works for MLP and LeNet."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def init_weights(rng: np.random.Generator, shape, fan_in: int, dtype,
                 init_std: Optional[float] = None) -> np.ndarray:
    """He-normal weights, or N(0, init_std^2) ones when ``init_std`` is given (one std for
    every layer whatever its fan-in, as report 004's code draws them)."""
    if init_std is None:
        return he_normal(rng, shape, fan_in, dtype)
    if not init_std > 0:
        raise ValueError(f"init_std must be > 0, got {init_std}")
    return (rng.standard_normal(shape) * float(init_std)).astype(dtype)


def check_decay_mode(mode: str) -> str:
    if mode not in DECAY_MODES:
        raise ValueError(f"decay_mode {mode!r}: choose one of {DECAY_MODES}")
    return mode


class Layer:
    """Base class: a layer without parameters is an identity-shaped transform."""

    has_params = False
    decay_names: tuple = ()

    def __init__(self, dtype=None):
        self.dtype = as_dtype(dtype)
        self.params: Dict[str, np.ndarray] = {}
        self.grads: Dict[str, np.ndarray] = {}
        self.weight_decay = 0.0
        self.decay_mode = "coupled"

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad: np.ndarray, need_input_grad: bool = True) -> Optional[np.ndarray]:
        raise NotImplementedError

    def __call__(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        return self.forward(x, training=training)

    def config(self) -> dict:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class Linear(Layer):
    """y = x @ W + b with W stored as (in_features, out_features).

    Storing W as (in, out) makes the forward a plain row-major GEMM and lets
    ``W[:, j].reshape(28, 28)`` show hidden unit j as an image (report 004's weight
    pictures).  PyTorch stores the transpose; the tests account for that.
    """

    has_params = True
    decay_names = ("W",)

    def __init__(self, in_features: int, out_features: int, weight_decay: float = 0.0,
                 dtype=None, rng: Optional[np.random.Generator] = None,
                 init_std: Optional[float] = None, decay_mode: str = "coupled"):
        super().__init__(dtype)
        rng = np.random.default_rng() if rng is None else rng
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight_decay = float(weight_decay)
        self.decay_mode = check_decay_mode(decay_mode)
        self.params["W"] = init_weights(rng, (self.in_features, self.out_features),
                                        self.in_features, self.dtype, init_std)  # (in, out)
        self.params["b"] = np.zeros(self.out_features, self.dtype)  # (out,)
        # Preallocated so the 784x1000 weight gradient is not reallocated every batch.
        self.grads["W"] = np.zeros_like(self.params["W"])
        self.grads["b"] = np.zeros_like(self.params["b"])
        self._x: Optional[np.ndarray] = None

    def forward(self, x, training=True):
        self._x = x  # (N, in)
        return x @ self.params["W"] + self.params["b"]  # (N, out)

    def backward(self, grad, need_input_grad=True):
        # grad: (N, out)
        np.matmul(self._x.T, grad, out=self.grads["W"])  # (in, out)
        np.sum(grad, axis=0, out=self.grads["b"])
        return grad @ self.params["W"].T if need_input_grad else None  # (N, in)

    def config(self):
        return {"in_features": self.in_features, "out_features": self.out_features,
                "weight_decay": self.weight_decay, **decay_config(self)}


def decay_config(layer: Layer) -> dict:
    """The ``decay_mode`` entry of a layer's config: only when it is not the default, so a
    saved coupled model's spec reads as it did before the setting existed."""
    return {} if layer.decay_mode == "coupled" else {"decay_mode": layer.decay_mode}


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W); any trailing shape is flattened."""

    def forward(self, x, training=True):
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad, need_input_grad=True):
        return grad.reshape(self._shape) if need_input_grad else None


class ReLU(Layer):
    # Element-wise selects are written as arithmetic (maximum, multiply by a 0/1 mask):
    # np.where with a data-dependent mask branches per element and was ~10x slower.
    def forward(self, x, training=True):
        self._mask = x > 0  # the only thing backward needs
        return np.maximum(x, x.dtype.type(0))

    def backward(self, grad, need_input_grad=True):
        # PyTorch's convention: the derivative at exactly 0 is 0.
        return grad * self._mask if need_input_grad else None


class LeakyReLU(Layer):
    """x if x > 0 else a*x, with slope a = 0.01 by default (PyTorch's default)."""

    def __init__(self, negative_slope: float = 0.01, dtype=None):
        super().__init__(dtype)
        self.negative_slope = float(negative_slope)
        if not 0.0 <= self.negative_slope <= 1.0:
            raise ValueError("negative_slope must be in [0, 1]")

    def forward(self, x, training=True):
        # The local derivative (1 or a) is also the forward multiplier.  max(mask, a)
        # builds it exactly (1.0 or a, no rounding) and branch-free, for 0 <= a <= 1.
        self._scale = np.maximum(x > 0, x.dtype.type(self.negative_slope))
        return x * self._scale

    def backward(self, grad, need_input_grad=True):
        return grad * self._scale if need_input_grad else None

    def config(self):
        return {"negative_slope": self.negative_slope}


class Sigmoid(Layer):
    def forward(self, x, training=True):
        # 1/(1+e^-x) for x >= 0 and e^x/(1+e^x) for x < 0 are the same function, but
        # each branch only exponentiates -|x| <= 0, so nothing overflows.
        e = np.exp(-np.abs(x))
        self._y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
        return self._y

    def backward(self, grad, need_input_grad=True):
        # d sigma / dx = sigma (1 - sigma), from the cached output.
        return grad * self._y * (1 - self._y) if need_input_grad else None


class Tanh(Layer):
    def forward(self, x, training=True):
        self._y = np.tanh(x)
        return self._y

    def backward(self, grad, need_input_grad=True):
        return grad * (1 - self._y * self._y) if need_input_grad else None


ACTIVATIONS = {"relu": ReLU, "leaky_relu": LeakyReLU, "sigmoid": Sigmoid, "tanh": Tanh}


def make_activation(name: str, dtype=None) -> Layer:
    """Activation by name (case- and dash-insensitive, e.g. "LeakyReLU", "leaky-relu")."""
    key = name.lower().replace("-", "_")
    key = {"leakyrelu": "leaky_relu"}.get(key, key)
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[key](dtype=dtype)
