import numpy as np
import pytest

from cnnreport.core import data as D
from conftest import DATA, have, needs_data


def test_missing_file_message_names_file_env_and_fix(tmp_path, monkeypatch):
    monkeypatch.delenv(D.ENV_VAR, raising=False)
    with pytest.raises(D.DataError) as e:
        D.load_dataset("cifar10", root=tmp_path)
    msg = str(e.value)
    assert str(tmp_path / "cifar10.npz") in msg
    assert "CNNREPORT_DATA" in msg and "download" in msg and "materialize" in msg


def test_root_from_env(tmp_path, monkeypatch, tiny_root):
    monkeypatch.setenv(D.ENV_VAR, str(tiny_root))
    ds = D.load_dataset("tiny")
    assert ds.image_shape == (3, 32, 32) and ds.num_classes == 4 and len(ds.y_train) == 120


def _write(path, **over):
    rng = np.random.default_rng(0)
    arr = dict(x_train=rng.integers(0, 255, (60, 28, 28), dtype=np.uint8), y_train=np.arange(60) % 10,
               x_test=rng.integers(0, 255, (20, 28, 28), dtype=np.uint8), y_test=np.arange(20) % 10,
               classes=np.array([str(i) for i in range(10)]))
    arr.update(over)
    np.savez(path, **arr)


@pytest.mark.parametrize("over, words", [
    (dict(y_train=np.arange(60) % 11), "outside"),
    (dict(y_test=np.arange(19) % 10), "labels for"),
    (dict(x_train=np.zeros((60, 28, 28), np.float32)), "uint8"),
    (dict(x_test=np.zeros((20, 30, 30), np.uint8)), "differ in shape"),
])
def test_bad_arrays_are_clear_errors(tmp_path, over, words):
    _write(tmp_path / "mine.npz", **over)
    with pytest.raises(D.DataError, match=words):
        D.load_dataset("mine", root=tmp_path)


def test_known_dataset_sizes_checked(tmp_path):
    _write(tmp_path / "mnist.npz")  # right layout, far too few images
    with pytest.raises(D.DataError, match="truncated"):
        D.load_dataset("mnist", root=tmp_path)


def test_swapped_train_test_detected(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((10000, 28, 28), np.uint8), y_train=np.zeros(10000, int),
             x_test=np.zeros((60000, 28, 28), np.uint8), y_test=np.zeros(60000, int),
             classes=np.array([str(i) for i in range(10)]))
    with pytest.raises(D.DataError, match="swapped"):
        D.load_dataset("mnist", root=tmp_path)


def test_truncated_file(tmp_path):
    _write(tmp_path / "mine.npz")
    raw = (tmp_path / "mine.npz").read_bytes()
    (tmp_path / "mine.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(D.DataError, match="corrupt or truncated"):
        D.load_dataset("mine", root=tmp_path)


def test_save_dataset_roundtrip(tmp_path, tiny_root):
    ds = D.load_dataset("tiny", root=tiny_root)
    D.save_dataset(tmp_path / "copy.npz", ds.x_train, ds.y_train, ds.x_test, ds.y_test, ds.classes)
    back = D.load_dataset("copy", root=tmp_path)
    assert np.array_equal(back.x_train, ds.x_train) and back.classes == ds.classes
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


@pytest.mark.parametrize("frac", [0.2, 1 / 6])
def test_stratified_split(frac):
    y = np.repeat(np.arange(10), 600)
    tr, va = D.stratified_split(y, frac, seed=3)
    assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == len(y)
    counts = np.bincount(y[va], minlength=10)
    assert np.all(counts == round(600 * frac))
    tr2, va2 = D.stratified_split(y, frac, seed=3)
    assert np.array_equal(va, va2)
    assert not np.array_equal(va, D.stratified_split(y, frac, seed=4)[1])


def test_subsets():
    y = np.repeat(np.arange(5), 100)
    idx = D.subset_indices(y, 50, "per_class")
    assert np.all(np.bincount(y[idx]) == 10) and np.array_equal(idx[:10], np.arange(10))
    r = D.subset_indices(y, 50, "random", seed=1)
    assert len(np.unique(r)) == 50 and np.array_equal(r, D.subset_indices(y, 50, "random", seed=1))
    assert len(D.subset_indices(y, None)) == 500
    with pytest.raises(ValueError):
        D.subset_indices(y, 10, "nope")


@needs_data
def test_real_datasets():
    c = D.load_dataset("cifar10", root=DATA)
    assert c.x_train.shape == (50000, 32, 32, 3) and c.x_test.shape == (10000, 32, 32, 3)
    assert c.classes[3] == "cat" and np.all(np.bincount(c.y_train) == 5000)
    m = D.load_dataset("mnist", root=DATA)
    assert m.x_train.shape == (60000, 28, 28) and m.image_shape == (1, 28, 28)


def test_random_split_is_seeded_disjoint_and_ignores_the_classes():
    import numpy as np
    from cnnreport.core import data as D
    tr, va = D.random_split(1000, 0.2, seed=3)
    assert len(va) == 200 and len(tr) == 800 and not set(tr) & set(va) and set(tr) | set(va) == set(range(1000))
    assert (D.random_split(1000, 0.2, seed=3)[1] == va).all() and not (D.random_split(1000, 0.2, seed=4)[1] == va).all()
    y = np.repeat(np.arange(10), 100)
    shares = np.bincount(y[va], minlength=10)
    assert shares.sum() == 200 and shares.min() != shares.max()  # unlike the stratified split
