import os
from pathlib import Path

import numpy as np
import pytest

DATA = Path(os.environ.get("CNNREPORT_DATA", Path(__file__).resolve().parents[1] / "data"))


def have(name: str) -> bool:
    return (DATA / f"{name}.npz").is_file()


needs_data = pytest.mark.skipif(not (have("mnist") and have("cifar10")),
                                reason="datasets not materialized (run `make data`)")


def make_tiny(n_per_class: int = 30, seed: int = 0):
    """A small learnable 32x32 RGB dataset: each of 4 classes lights up one quadrant."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(4), n_per_class)
    x = rng.integers(0, 128, size=(len(y), 32, 32, 3), dtype=np.uint8)
    for c in range(4):
        r, q = divmod(c, 2)
        x[y == c, r * 16:(r + 1) * 16, q * 16:(q + 1) * 16] = 255
    return x, y


@pytest.fixture
def tiny_root(tmp_path):
    """A data root holding tiny.npz in the prepared format."""
    xtr, ytr = make_tiny(30, seed=0)
    xte, yte = make_tiny(8, seed=1)
    np.savez(tmp_path / "tiny.npz", x_train=xtr, y_train=ytr, x_test=xte, y_test=yte,
             classes=np.array(["a", "b", "c", "d"]))
    return tmp_path
