"""Datasets: loading prepared ``.npz`` files, validating them, splitting and subsetting.

The prepared format is one file per dataset, ``<root>/<name>.npz``, holding

=========  ==========================================  =====================
key        content                                     dtype
=========  ==========================================  =====================
x_train    images, (N, H, W) gray or (N, H, W, 3) RGB   uint8
y_train    labels in ``[0, len(classes))``, (N,)        any integer
x_test     images, same layout as ``x_train``           uint8
y_test     labels, (M,)                                 any integer
classes    class names, (K,)                            str
=========  ==========================================  =====================

The data root is the ``root`` argument, else ``$CNNREPORT_DATA``, else
``~/.cache/cnnreport/data``.  When the machine is online, :func:`download` writes the
same files from torchvision's copies.
"""
from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .cache import atomic_write_bytes

from .paths import DATA_ENV as ENV_VAR  # noqa: E402 - the data root has one home, cnnreport.core.paths
from .paths import DEFAULT_DATA_ROOT as DEFAULT_ROOT, data_root  # noqa: E402,F401

# What each known dataset must look like: (train size, test size, image shape, classes).
KNOWN: Dict[str, Tuple[int, int, Tuple[int, ...], int]] = {
    "cifar10": (50_000, 10_000, (32, 32, 3), 10),
    "mnist": (60_000, 10_000, (28, 28), 10),
    "fashion_mnist": (60_000, 10_000, (28, 28), 10),
}

# Per-channel statistics used to normalise each dataset (on [0, 1] pixels).
NORMALIZATION: Dict[str, Tuple[Tuple[float, ...], Tuple[float, ...]]] = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "mnist": ((0.1307,), (0.3081,)),
    "fashion_mnist": ((0.2860,), (0.3530,)),
}


class DataError(RuntimeError):
    """A dataset file is missing, unreadable or does not have the expected layout."""


@dataclass
class Dataset:
    """Train and test arrays of one dataset, as stored (uint8 images, int64 labels)."""

    name: str
    x_train: np.ndarray  # (N, H, W) or (N, H, W, 3) uint8
    y_train: np.ndarray  # (N,) int64
    x_test: np.ndarray  # (M, H, W[, 3]) uint8
    y_test: np.ndarray  # (M,) int64
    classes: List[str]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def image_shape(self) -> Tuple[int, int, int]:
        """(C, H, W) as the models see it."""
        h, w = self.x_train.shape[1:3]
        c = 1 if self.x_train.ndim == 3 else self.x_train.shape[3]
        return (c, h, w)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, train={len(self.y_train)}, test={len(self.y_test)}, "
                f"image={self.image_shape}, classes={self.num_classes})")


def sizes(name: str, root: Union[str, os.PathLike, None] = None) -> Optional[Tuple[int, int]]:
    """(train, test) images of a dataset without loading its images: the table for a known
    one, else the label arrays of its file under the data root; None when there is no file."""
    if name in KNOWN:
        return KNOWN[name][0], KNOWN[name][1]
    path = data_root(root) / f"{name}.npz"
    try:
        with np.load(path, allow_pickle=False) as f:  # an .npz member is read only when asked
            return len(f["y_train"]), len(f["y_test"])
    except (OSError, KeyError, ValueError):
        return None



def _missing_message(name: str, path: Path) -> str:
    return (
        f"dataset {name!r} not found: expected the file {path}.\n"
        f"Point the project at a folder holding {name}.npz with the environment variable "
        f"{ENV_VAR}=<folder> or the root= argument. To obtain the file:\n"
        f"  - online: python -m cnnreport data download {name} --root <folder>\n"
        f"  - from this project's shared copies: python ../shared/data/materialize.py <folder>\n"
        f"  - or write your own arrays in the documented format (README, 'Data format')."
    )


def validate_arrays(name: str, arrays: Dict[str, np.ndarray], source: str = "<arrays>") -> None:
    """Raise :class:`DataError` naming ``source`` and the problem if the arrays do not
    follow the prepared format (and, for a known dataset, its exact sizes)."""
    required = ("x_train", "y_train", "x_test", "y_test", "classes")
    missing = [k for k in required if k not in arrays]
    if missing:
        raise DataError(f"{source}: missing keys {missing}; a dataset file needs {list(required)}")
    xtr, ytr, xte, yte = (arrays[k] for k in required[:4])
    classes = arrays["classes"]
    for key, x in (("x_train", xtr), ("x_test", xte)):
        if x.dtype != np.uint8:
            raise DataError(f"{source}: {key} must be uint8 images, got dtype {x.dtype}")
        if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[3] != 3):
            raise DataError(f"{source}: {key} must have shape (N,H,W) or (N,H,W,3), got {x.shape}")
    if xtr.shape[1:] != xte.shape[1:]:
        raise DataError(f"{source}: train images {xtr.shape[1:]} and test images "
                        f"{xte.shape[1:]} differ in shape")
    for key, y, x in (("y_train", ytr, xtr), ("y_test", yte, xte)):
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"{source}: {key} must be a 1-D integer array, got {y.dtype} {y.shape}")
        if len(y) != len(x):
            raise DataError(f"{source}: {key} has {len(y)} labels for {len(x)} images "
                            f"(truncated or mismatched file)")
        if len(y) and (y.min() < 0 or y.max() >= len(classes)):
            raise DataError(f"{source}: {key} has labels outside [0, {len(classes) - 1}] "
                            f"(min {y.min()}, max {y.max()})")
    if name in KNOWN:
        n_train, n_test, shape, k = KNOWN[name]
        if (len(xte), len(xtr)) == (n_train, n_test) and n_train != n_test:
            raise DataError(f"{source}: train and test are swapped ({len(xtr)} train, "
                            f"{len(xte)} test; expected {n_train} and {n_test})")
        if len(xtr) != n_train or len(xte) != n_test:
            raise DataError(f"{source}: expected {n_train} train and {n_test} test images for "
                            f"{name}, found {len(xtr)} and {len(xte)} (truncated file?)")
        if xtr.shape[1:] != shape:
            raise DataError(f"{source}: expected {name} images of shape {shape}, got {xtr.shape[1:]}")
        if len(classes) != k:
            raise DataError(f"{source}: expected {k} class names, got {len(classes)}")


def load_dataset(name: str, root: Union[str, os.PathLike, None] = None) -> Dataset:
    """Load ``<root>/<name>.npz`` (see the module docstring for the format).

    Raises :class:`DataError` with the expected path, the environment variable and how
    to get the data when the file is missing, and naming the problem when it is
    truncated or does not match the dataset.
    """
    if not isinstance(name, str):
        raise DataError(f"dataset name must be a string, got {name!r}; built-in: {', '.join(KNOWN)}")
    key = name.lower().replace("-", "_")
    path = data_root(root) / f"{key}.npz"
    if not path.is_file():
        if key not in KNOWN:
            raise DataError(f"unknown dataset {name!r} and no file {path}; built-in datasets: "
                            f"{', '.join(KNOWN)}; for your own data write {path} in the "
                            f"documented format")
        raise DataError(_missing_message(key, path))
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as e:  # zip errors, truncated members, pickled objects
        raise DataError(f"{path}: cannot read the dataset file ({type(e).__name__}: {e}); "
                        f"it is corrupt or truncated, write it again") from e
    validate_arrays(key, arrays, source=str(path))
    return Dataset(
        name=key,
        x_train=np.ascontiguousarray(arrays["x_train"]),
        y_train=arrays["y_train"].astype(np.int64),
        x_test=np.ascontiguousarray(arrays["x_test"]),
        y_test=arrays["y_test"].astype(np.int64),
        classes=[str(c) for c in arrays["classes"]],
    )


def save_dataset(path: Union[str, os.PathLike], x_train, y_train, x_test, y_test,
                 classes: Sequence[str]) -> Path:
    """Write arrays in the prepared format, atomically (temporary file, then rename)."""
    path = Path(path)
    arrays = dict(x_train=np.asarray(x_train, dtype=np.uint8), y_train=np.asarray(y_train, np.int64),
                  x_test=np.asarray(x_test, dtype=np.uint8), y_test=np.asarray(y_test, np.int64),
                  classes=np.asarray(list(classes), dtype=str))
    validate_arrays(path.stem, arrays, source=str(path))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())
    return path


def download(name: str, root: Union[str, os.PathLike, None] = None) -> Path:
    """Download ``name`` with torchvision (needs internet) and write ``<root>/<name>.npz``."""
    key = name.lower().replace("-", "_")
    if key not in KNOWN:
        raise DataError(f"cannot download {name!r}; downloadable: {', '.join(KNOWN)}")
    import torchvision.datasets as tvd  # imported here: only this path needs it

    cls = {"cifar10": tvd.CIFAR10, "mnist": tvd.MNIST, "fashion_mnist": tvd.FashionMNIST}[key]
    out = data_root(root)
    with tempfile.TemporaryDirectory(dir=out.parent if out.parent.exists() else None) as raw:
        tr, te = cls(raw, train=True, download=True), cls(raw, train=False, download=True)
        to_np = lambda d: np.asarray(d.data.numpy() if hasattr(d.data, "numpy") else d.data)
        return save_dataset(out / f"{key}.npz", to_np(tr), np.asarray(tr.targets), to_np(te),
                            np.asarray(te.targets), tr.classes)


# -- splits and subsets ----------------------------------------------------------------
def stratified_split(y: np.ndarray, val_fraction: float, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) of a seeded split that keeps each class's share.

    ``val_fraction`` 0.2 is the reports' 4:1 split, 1/6 their 5:1.  Only the training
    set is ever split; the test set is not an argument, so it cannot leak in.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    rng = np.random.default_rng(seed)
    train_idx, val_idx = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        n_val = int(round(len(idx) * val_fraction))
        val_idx.append(idx[:n_val])
        train_idx.append(idx[n_val:])
    tr, va = np.concatenate(train_idx), np.concatenate(val_idx)
    return np.sort(tr), np.sort(va)


def random_split(n: int, val_fraction: float, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) of a seeded split of ``n`` images that ignores the classes, as
    ``torch.utils.data.random_split`` splits (report 003's code): a seeded permutation, the
    first ``round(n * val_fraction)`` held out."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    perm = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * val_fraction))
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def subset_indices(y: np.ndarray, n: Optional[int], mode: str = "per_class", seed: int = 0) -> np.ndarray:
    """Indices of a subset of size ``n``.

    ``mode="per_class"`` keeps the first ``n // K`` images of each of the K classes (a
    fixed, balanced subset); ``mode="random"`` draws ``n`` indices with the seed.
    ``n=None`` (or ``n >= len(y)``) keeps everything.
    """
    if n is None or n >= len(y):
        return np.arange(len(y))
    if n <= 0:
        raise ValueError(f"subset size must be positive, got {n}")
    if mode == "random":
        return np.sort(np.random.default_rng(seed).choice(len(y), size=n, replace=False))
    if mode != "per_class":
        raise ValueError(f"unknown subset mode {mode!r}; allowed: per_class, random")
    classes = np.unique(y)
    per = max(1, n // len(classes))
    return np.sort(np.concatenate([np.flatnonzero(y == c)[:per] for c in classes]))


def main(argv: Optional[Sequence[str]] = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="cnnreport data", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("download", help="download with torchvision and write <root>/<name>.npz")
    d.add_argument("names", nargs="+", choices=sorted(KNOWN))
    d.add_argument("--root", default=None)
    c = sub.add_parser("check", help="load and validate prepared files")
    c.add_argument("names", nargs="*", default=sorted(KNOWN))
    c.add_argument("--root", default=None)
    args = p.parse_args(argv)
    for n in args.names:
        if args.cmd == "download":
            print(download(n, args.root))
        else:
            print(load_dataset(n, args.root))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
