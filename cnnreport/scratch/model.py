"""Sequential model, the two report-004 architectures, and pickle-free save/load.

File format (``.npz``, read with ``allow_pickle=False``):

* ``spec``: a 1-element unicode array holding JSON
  ``{"format": "cnnreport.scratch.model/1", "dtype": "float32",
  "layers": [{"type": "Linear", "in_features": 784, ...}, ...]}``;
* ``layer{i}.{name}``: one array per parameter, e.g. ``layer0.W``.

Storing the architecture as JSON text rather than a pickled object keeps the file
loadable without executing code, and readable by any NumPy version.
"""
from __future__ import annotations

import json
import os
import zipfile
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .conv import Conv2D, MaxPool2D
from .layers import (Flatten, LeakyReLU, Linear, ReLU, Sigmoid, Tanh, Layer, as_dtype,
                     make_activation)
from .losses import accuracy, cross_entropy

FORMAT = "cnnreport.scratch.model/1"
LAYER_TYPES = {cls.__name__: cls for cls in
               (Linear, Conv2D, MaxPool2D, Flatten, ReLU, LeakyReLU, Sigmoid, Tanh)}


class Sequential:
    """A list of layers applied in order.  Inputs are cast to the model dtype once."""

    def __init__(self, layers: Sequence[Layer], dtype=None):
        if not layers:
            raise ValueError("a model needs at least one layer")
        self.layers: List[Layer] = list(layers)
        self.dtype = as_dtype(dtype if dtype is not None else self.layers[0].dtype)
        # Layers before (and including) the first parameterized one never need an input
        # gradient; skipping it saves the largest matmul of the MLP's backward pass.
        self._first_param = next((i for i, l in enumerate(self.layers) if l.has_params),
                                 len(self.layers))

    # ------------------------------------------------------------------ passes
    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        x = np.asarray(x).astype(self.dtype, copy=False)
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x  # (N, num_classes) logits

    __call__ = forward

    def backward(self, grad: np.ndarray, input_grad: bool = False) -> Optional[np.ndarray]:
        """Backpropagate dLoss/dlogits; fills every layer's ``grads``.  Returns the input
        gradient only when ``input_grad`` is true (tests, saliency)."""
        stop = 0 if input_grad else self._first_param
        for i in range(len(self.layers) - 1, stop - 1, -1):
            grad = self.layers[i].backward(grad, need_input_grad=input_grad or i > stop)
        return grad if input_grad else None

    # ------------------------------------------------------------------ evaluation
    def predict_logits(self, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Logits in inference mode, in batches so big sets do not blow up im2col."""
        outs = [self.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        return np.concatenate(outs) if outs else np.zeros((0, 0), self.dtype)

    def predict(self, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        return self.predict_logits(x, batch_size).argmax(axis=1)

    def evaluate(self, x, y, batch_size: int = 1000) -> Tuple[float, float]:
        """(mean cross-entropy, accuracy) on a whole set."""
        logits = self.predict_logits(x, batch_size)
        return cross_entropy(logits, y), accuracy(logits, y)

    # ------------------------------------------------------------------ parameters
    def named_params(self) -> Iterable[Tuple[str, np.ndarray]]:
        for i, layer in enumerate(self.layers):
            for name, p in layer.params.items():
                yield f"layer{i}.{name}", p

    def num_params(self) -> int:
        return int(sum(p.size for _, p in self.named_params()))

    def get_weights(self) -> Dict[str, np.ndarray]:
        return {k: p.copy() for k, p in self.named_params()}

    def set_weights(self, weights: Dict[str, np.ndarray]) -> None:
        """Copy values in place, so optimizers holding the arrays stay attached."""
        for k, p in self.named_params():
            p[...] = weights[k]

    def spec(self) -> dict:
        return {"format": FORMAT, "dtype": self.dtype.name,
                "layers": [{"type": type(l).__name__, **l.config()} for l in self.layers]}

    def __repr__(self) -> str:
        body = "\n".join(f"  ({i}) {l!r}" for i, l in enumerate(self.layers))
        return f"Sequential(dtype={self.dtype.name}, params={self.num_params():,}\n{body}\n)"

    # ------------------------------------------------------------------ persistence
    def save(self, path: Union[str, os.PathLike]) -> str:
        """Write spec + weights to ``path`` (np.savez appends .npz if missing)."""
        path = os.fspath(path)
        if not path.endswith(".npz"):
            path += ".npz"
        arrays = {"spec": np.array([json.dumps(self.spec())])}
        arrays.update(self.get_weights())
        np.savez(path, **arrays)
        return path

    @classmethod
    def from_spec(cls, spec: dict) -> "Sequential":
        dtype = as_dtype(spec.get("dtype", "float32"))
        layers = []
        for i, cfg in enumerate(spec["layers"]):
            cfg = dict(cfg)
            kind = cfg.pop("type", None)
            if kind not in LAYER_TYPES:
                raise ValueError(f"layer {i}: unknown layer type {kind!r}")
            layers.append(LAYER_TYPES[kind](dtype=dtype, **cfg))
        return cls(layers, dtype=dtype)

    @classmethod
    def load(cls, path: Union[str, os.PathLike]) -> "Sequential":
        """Rebuild a saved model.  Any problem with the file is a ValueError that names
        the file and says what is wrong (unreadable, bad spec, missing/extra/misshapen
        arrays)."""
        path = os.fspath(path)

        def fail(problem: str):
            return ValueError(f"cannot load model from {path!r}: {problem}")

        try:
            f = np.load(path, allow_pickle=False)
            if not hasattr(f, "files"):  # a bare .npy array, not an archive
                raise ValueError("a single array, not an .npz archive")
            with f:
                arrays = {k: f[k] for k in f.files}
        except FileNotFoundError:
            raise
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
            raise fail(f"not a readable .npz file ({type(e).__name__}: {e})") from e
        if "spec" not in arrays:
            raise fail("no 'spec' entry (not a cnnreport.scratch model file)")
        try:
            spec = json.loads(str(arrays.pop("spec").reshape(-1)[0]))
            if spec.get("format") != FORMAT:
                raise ValueError(f"format {spec.get('format')!r}, expected {FORMAT!r}")
            model = cls.from_spec(spec)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
            raise fail(f"invalid architecture spec ({e})") from e
        expected = dict(model.named_params())
        missing = sorted(set(expected) - set(arrays))
        extra = sorted(set(arrays) - set(expected))
        if missing:
            raise fail(f"missing weight arrays {missing}")
        if extra:
            raise fail(f"unexpected arrays {extra} for the stored architecture")
        for k, p in expected.items():
            if arrays[k].shape != p.shape:
                raise fail(f"shape mismatch for {k}: file has {arrays[k].shape}, "
                           f"architecture needs {p.shape}")
            if not np.issubdtype(arrays[k].dtype, np.floating):
                raise fail(f"{k} has non-float dtype {arrays[k].dtype}")
        model.set_weights(arrays)
        return model


def load_model(path) -> Sequential:
    return Sequential.load(path)


def mlp(hidden: Sequence[int] = (1000,), activation: str = "leaky_relu",
        weight_decay: float = 0.0, in_features: int = 784, num_classes: int = 10,
        dtype=None, seed: Optional[int] = 0, init_std: Optional[float] = None,
        decay_mode: str = "coupled") -> Sequential:
    """Flatten, then in-h1-...-out Linear layers with the activation between them.
    ``weight_decay`` is one float for every layer or a list with one per Linear;
    ``decay_mode`` how it acts and ``init_std`` the weights' start (He-normal when None),
    see :mod:`cnnreport.scratch.layers`."""
    sizes = [in_features, *[int(h) for h in np.atleast_1d(hidden)], num_classes]
    wds = _per_layer(weight_decay, len(sizes) - 1)
    rng = np.random.default_rng(seed)
    layers: List[Layer] = [Flatten(dtype=dtype)]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(a, b, weight_decay=wds[i], dtype=dtype, rng=rng, init_std=init_std,
                             decay_mode=decay_mode))
        if i < len(sizes) - 2:
            layers.append(make_activation(activation, dtype=dtype))
    return Sequential(layers, dtype=dtype)


def lenet(activation: str = "leaky_relu", weight_decay: float = 0.0,
          channels: Sequence[int] = (1, 6, 16), kernel_size: int = 5,
          fc: Sequence[int] = (256, 128, 64, 10), dtype=None,
          seed: Optional[int] = 0, init_std: Optional[float] = None,
          decay_mode: str = "coupled", conv_decay_mode: Optional[str] = None) -> Sequential:
    """Report 004's LeNet-like CNN: [conv 5x5 -> act -> maxpool 2] x 2, then
    fc 256-128-64-10 with the activation between the linear layers.
    ``weight_decay``: one float, or one per conv+linear layer (5 for the default);
    ``decay_mode`` how it acts, ``conv_decay_mode`` on the conv layers if they differ
    (report 004's code: "both" there, "decoupled" on the linear layers)."""
    n_conv, n_fc = len(channels) - 1, len(fc) - 1
    wds = _per_layer(weight_decay, n_conv + n_fc)
    rng = np.random.default_rng(seed)
    layers: List[Layer] = []
    for i in range(n_conv):
        layers += [Conv2D(channels[i], channels[i + 1], kernel_size, weight_decay=wds[i],
                          dtype=dtype, rng=rng, init_std=init_std,
                          decay_mode=conv_decay_mode or decay_mode),
                   make_activation(activation, dtype=dtype), MaxPool2D(2, dtype=dtype)]
    layers.append(Flatten(dtype=dtype))
    for i in range(n_fc):
        layers.append(Linear(fc[i], fc[i + 1], weight_decay=wds[n_conv + i], dtype=dtype,
                             rng=rng, init_std=init_std, decay_mode=decay_mode))
        if i < n_fc - 1:
            layers.append(make_activation(activation, dtype=dtype))
    return Sequential(layers, dtype=dtype)


def _per_layer(value, n: int) -> List[float]:
    if np.ndim(value) == 0:
        return [float(value)] * n
    values = [float(v) for v in value]
    if len(values) != n:
        raise ValueError(f"expected {n} weight-decay values, got {len(values)}")
    return values
