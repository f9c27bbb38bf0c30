"""The results store and the one cache helper (cnnreport.core.store, cnnreport.core.cache): every
committed result loads under the key of its config, keys are stable, writes are atomic,
and a damaged file is an error that names it and the fix."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from cnnreport.compute import archive as A
from cnnreport.core import cache
from cnnreport.core.config import RunConfig
from cnnreport.scratch import config as numpy_config
from cnnreport.scratch import store as numpy_store
from cnnreport.core.store import Result, ResultStore

FULL = Path(__file__).resolve().parents[1] / "results" / "full"
TORCH_FILES = sorted(FULL.glob("*.json"))
NUMPY_FILES = sorted((FULL / numpy_store.SUBFOLDER).glob("*.json"))


def test_there_are_committed_results():
    assert TORCH_FILES and len(NUMPY_FILES) >= 50


@pytest.mark.parametrize("path", TORCH_FILES, ids=lambda p: p.stem)
def test_committed_torch_result_is_keyed_by_its_config(path):
    r = ResultStore(FULL).get(path.stem)
    assert r.key == path.stem == RunConfig.from_dict(r.config).key()
    assert r.key == cache.key_of(RunConfig.from_dict(r.config).identity())  # the one hash
    assert r.extra == {} and r.status in ("ok", "diverged")
    # A PyTorch Result keeps the shape it was stored in: reading and writing it back
    # gives the same JSON (no new fields appear).
    assert cache.json_safe(r.to_dict()) == json.loads(path.read_text())
    A._check_result(path.read_bytes(), path.stem)  # an archive would accept it


@pytest.mark.parametrize("path", NUMPY_FILES, ids=lambda p: p.stem)
def test_committed_numpy_result_is_keyed_by_its_config(path):
    r = numpy_store.results_store(FULL).get(path.stem)
    assert r.key == path.stem == numpy_config.config_key(r.config)
    assert r.key == cache.key_of(numpy_config.normalize(r.config))  # the one hash
    assert r.config == numpy_config.normalize(r.config) and r.config["framework"] == "numpy"
    assert r.status in ("ok", "diverged") and 0 <= r.test_acc <= 1
    assert len(r.history["val_acc"]) == r.stopped_epoch and r.n_test == 10000
    assert np.array(r.confusion).sum() == r.n_test
    assert cache.json_safe(r.to_dict()) == json.loads(path.read_text())
    A._check_result(path.read_bytes(), path.stem, numpy=True)


def test_numpy_results_stay_out_of_the_torch_store():
    keys = {r.key for r in ResultStore(FULL)}
    assert keys == {p.stem for p in TORCH_FILES}


# -- the one hash -------------------------------------------------------------------------
def test_key_is_sha256_of_canonical_json_and_stable():
    obj = {"b": [1, 2.5, None], "a": {"y": "z", "x": True}}
    text = '{"a":{"x":true,"y":"z"},"b":[1,2.5,null]}'
    assert cache.canonical_json(obj) == text
    assert cache.key_of(obj) == hashlib.sha256(text.encode()).hexdigest()[:16] == "97321ace02cc7d26"
    assert cache.key_of({"a": {"x": True, "y": "z"}, "b": [1, 2.5, None]}) == cache.key_of(obj)
    assert cache.key_of(dict(obj, b=[1, 2.5])) != cache.key_of(obj)


def test_runconfig_key_is_the_one_hash():
    cfg = RunConfig.from_dict({"dataset": "mnist", "model": "lenet", "epochs": 2})
    assert cfg.key() == cache.key_of(cfg.identity())
    assert cfg.key() == hashlib.sha256(cfg.canonical_json().encode()).hexdigest()[:16]


# -- the one writer -----------------------------------------------------------------------
def test_write_json_is_standard_json(tmp_path):
    p = cache.write_json(tmp_path / "a" / "x.json", {"nan": float("nan"), "inf": np.float32("inf"),
                                                     "n": np.int64(3), "v": np.arange(2), "t": (1, 2)})
    assert json.loads(p.read_text()) == {"nan": None, "inf": None, "n": 3, "v": [0, 1], "t": [1, 2]}
    assert not list(p.parent.glob("*.tmp"))


def test_atomic_write_leaves_no_temp_file_and_the_old_file_on_error(tmp_path, monkeypatch):
    p = tmp_path / "x.json"
    cache.write_json(p, {"v": 1})

    def fail(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(cache.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        cache.write_json(p, {"v": 2})
    assert json.loads(p.read_text()) == {"v": 1}
    assert sorted(x.name for x in tmp_path.iterdir()) == ["x.json"]


def test_store_round_trips_a_result(tmp_path):
    store = ResultStore(tmp_path)
    r = Result(key="0123456789abcdef", config={"model": "m"}, test_acc=0.5,
               history={"val_acc": [0.1, float("nan")]})
    store.put(r)
    back = store.get(r.key)
    assert back.test_acc == 0.5 and back.history["val_acc"] == [0.1, None]
    assert "extra" not in json.loads(store.path(r.key).read_text())  # empty: not written
    r.extra = {"cpu_time": 1.0}
    store.put(r)
    assert store.get(r.key).extra == {"cpu_time": 1.0}


# -- the one reader -----------------------------------------------------------------------
def test_missing_file_reads_as_none(tmp_path):
    assert cache.read_json(tmp_path / "nope.json") is None
    assert ResultStore(tmp_path).get("0123456789abcdef") is None


@pytest.mark.parametrize("text", ['{"key": "0123456789abcdef", "conf', "", "\xff\xfe"])
def test_corrupt_file_error_names_the_file_and_the_fix(tmp_path, text):
    p = tmp_path / "0123456789abcdef.json"
    p.write_bytes(text.encode("latin-1"))
    with pytest.raises(cache.CorruptFileError) as e:
        ResultStore(tmp_path).get(p.stem)
    msg = str(e.value)
    assert str(p) in msg and "result file" in msg and "Delete it to recompute" in msg
    assert isinstance(e.value, ValueError)  # callers that catch ValueError still do
    assert list(ResultStore(tmp_path)) == []  # iteration skips it; get() names it


def test_a_json_file_that_is_not_a_result_is_named(tmp_path):
    (tmp_path / "0123456789abcdef.json").write_text('{"status": "ok"}')
    with pytest.raises(cache.CorruptFileError, match="not a result file"):
        ResultStore(tmp_path).get("0123456789abcdef")


def test_corrupt_numpy_result_is_named(tmp_path):
    cfg = {"hidden": [8], "epochs": 1}
    p = numpy_store.record_path(cfg, tmp_path)
    p.parent.mkdir(parents=True)
    p.write_text("{")
    with pytest.raises(cache.CorruptFileError, match=str(p)):
        numpy_store.load(cfg, tmp_path)


# -- concurrent store writes -----------------------------------------------------------
def _writer(root, i, n):
    st = ResultStore(root)
    for j in range(n):
        big = [float(i * 1000 + j)] * 20000  # large enough that a torn write would show
        st.put(Result(key=f"k{j % 5}", config={"writer": i}, steps={"loss": big}))
        st.put(Result(key=f"w{i}-{j}", config={"writer": i}))


def test_concurrent_writes_lose_nothing_and_never_tear(tmp_path):
    import multiprocessing as mp
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), i, 20)) for i in range(4)]
    for p in procs:
        p.start()
    st = ResultStore(tmp_path)
    reads = 0
    while any(p.is_alive() for p in procs):
        for k in range(5):
            r = st.get(f"k{k}")  # raises on a torn file
            if r is not None:
                reads += 1
                assert len(set(r.steps["loss"])) == 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert len(list(tmp_path.glob("w*.json"))) == 80
    assert not list(tmp_path.glob(".*tmp"))


def test_archive_moves_numpy_results_and_refuses_a_forged_one(tmp_path):
    src = NUMPY_FILES[0]
    (tmp_path / "a" / "scratch").mkdir(parents=True)
    good = tmp_path / "a" / "scratch" / src.name
    good.write_bytes(src.read_bytes())
    d = json.loads(src.read_text())
    d["config"]["lr"] = 0.5  # its key no longer matches its config
    forged = tmp_path / "a" / "scratch" / "0123456789abcdef.json"
    forged.write_text(json.dumps(d))
    (archive,), left_out = A.pack(tmp_path / "a", [f"scratch/{good.name}", f"scratch/{forged.name}"],
                                  tmp_path / "r.tar.gz")
    report = A.unpack(archive, tmp_path / "b")
    assert not left_out and report.merged == [f"scratch/{good.name}"]
    assert [rel for rel, _ in report.refused] == [f"scratch/{forged.name}"]
    assert numpy_store.results_store(tmp_path / "b").get(src.stem) == numpy_store.results_store(FULL).get(src.stem)


def test_seed_groups_gather_a_runs_seeds_from_nested_results():
    from cnnreport.core.store import seed_groups
    a = [Result(key=f"a{s}", config={"model": "m", "lr": 0.1, "seed": s}) for s in range(3)]
    b = [Result(key="b0", config={"model": "m", "lr": 0.2, "seed": 0}, status="pending")]
    groups = list(seed_groups({"run a": a, "run b": b}).values())
    assert [[r.key for r in g] for g in groups] == [["a0", "a1", "a2"], ["b0"]]
    assert seed_groups(None) == {}
    # two chapters' names for one run, and a default spelled out, still group its seeds
    base = RunConfig(dataset="tiny", model="lenet", epochs=1, name="losses: x", chapter="losses", label="x")
    other = base.replace(seed=1, name="hyperparams: run 9", chapter="hyperparams", label="run 9",
                         model_args={"width": 1.0} if "width" in base.identity()["model_args"] else {})
    seeds = [Result(key=c.key(), config=c.to_dict()) for c in (base, other, base.replace(seed=2, lr=0.5))]
    assert [len(g) for g in seed_groups(seeds).values()] == [2, 1]
