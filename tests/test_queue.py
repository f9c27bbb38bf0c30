"""The GPU queue on a CPU: budget, resume, workers, Dask, pack/unpack, import closure."""
import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pytest
import torch

from cnnreport.compute import archive as A
from cnnreport import experiments as E
from cnnreport.compute import plan as P
from cnnreport.compute import queue as Q
from cnnreport.core.store import ResultStore
from cnnreport.training import OutOfTime, fit

ROOT = Path(__file__).resolve().parents[1]

# basic_cnn on the 120 images of tiny.npz: about 0.1-0.3 s an epoch on a 2-core CPU (the
# budget test sets its number of epochs from a measured epoch)
LONG = dict(dataset="tiny", model="basic_cnn", model_args={}, epochs=16, batch_size=16, optimizer="adam",
            lr=3e-3, val_fraction=0.25, device="cpu", seed=1)
SHORT = dict(dataset="tiny", model="mlp", model_args={"hidden": [16], "input_shape": [3, 32, 32]}, epochs=2,
             batch_size=16, optimizer="sgd", lr=0.05, val_fraction=0.25, device="cpu")
SAME = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss_curve", "test_acc_curve", "lr")



def _qtest_with(long_cfg):
    return lambda p: (E.seeded("qtest", "a", {"long": long_cfg}, [1], report="001")
                      + E.seeded("qtest", "b", {"short": SHORT}, [0, 1], report="001"))


def _plan(results, **kw):
    return P.build("smoke", ["qtest"], results=results, params={"qtest": {}}, **kw)


def test_queue_stops_inside_its_budget_and_the_next_call_finishes_identically(register, tiny_root, tmp_path,
                                                                              monkeypatch):
    monkeypatch.setenv("CNNREPORT_DATA", str(tiny_root))
    data = Q._dataset("tiny", str(tiny_root))
    # enough epochs that the run outlasts the ~3 s this budget leaves for training, on any CPU
    probe = fit(LONG | {"epochs": 2}, progress=False, data=data)
    epochs = int(min(300, max(16, 8.0 / (probe.total_time / 2))))
    long_cfg = LONG | {"epochs": epochs}
    register("qtest", _qtest_with(long_cfg))
    res = tmp_path / "results"
    budget = 6.0
    plan = _plan(res, runs=["qtest: long"])
    t0 = time.time()
    first = Q.run(plan, budget, data=str(tiny_root), log=lambda m: None)
    assert time.time() - t0 <= budget and first.seconds <= budget
    assert not first.done and len(first.in_progress) == 1
    o = first.in_progress[0]
    assert 1 <= o.epochs_done < o.epochs == epochs
    assert (res / "checkpoints" / o.key / "last.pt").is_file()
    # nothing fits in a budget smaller than the margins: nothing starts, nothing breaks
    none = Q.run(_plan(res), 2.5, data=str(tiny_root), log=lambda m: None)
    assert not none.outcomes and len(none.pending) == 3
    second = Q.run(_plan(res), 300, data=str(tiny_root), log=lambda m: None)
    assert len(second.done) == 3 and not second.pending and not second.in_progress
    resumed = ResultStore(res).get(o.key)
    whole = fit(long_cfg | {"name": "qtest: long"}, progress=False, data=data)
    assert resumed.stopped_epoch == whole.stopped_epoch
    for k in SAME:
        assert resumed.history[k] == whole.history[k], k
    assert resumed.test_acc == whole.test_acc and resumed.steps["loss"] == whole.steps["loss"]
    assert not (res / "checkpoints" / o.key / "last.pt").exists()


def test_cli_with_two_workers_and_the_import_closure(tiny_root, tmp_path):
    """The queue, run in a process where Jupyter, papermill and Dask cannot be imported
    (a sitecustomize that every worker process inherits), trains a tiny plan with
    --jobs 2 and packs it."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent("""
        import sys
        BLOCKED = {"papermill", "jupytext", "nbformat", "IPython", "ipywidgets", "dask", "distributed",
                   "myst_nb", "jupyter_book", "nbclient", "ipykernel", "jupyter_client"}
        class Blocker:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    with open(__import__("os").environ["BLOCKED_LOG"], "a") as f:
                        f.write(name + "\\n")
                    raise ImportError(f"{name} is not on the GPU machine")
                return None
        sys.meta_path.insert(0, Blocker())
    """))
    res, out = tmp_path / "results", tmp_path / "out"
    prelude = textwrap.dedent(f"""
        import json, sys
        try:
            import dask  # the hook must be active
            raise SystemExit("the import hook did not block dask")
        except ImportError:
            pass
        import cnnreport.compute.queue as Q, cnnreport.compute.plan as P
        from cnnreport import experiments as E
        SHORT = {SHORT!r}
        E.EXPERIMENTS.register("qtest", lambda p: E.seeded("qtest", "b", {{"short": SHORT}}, [0, 1, 2],
                                                           report="001"))
        plan = P.build("smoke", ["qtest"], results={str(res)!r}, params={{"qtest": {{}}}})
        real = P.build("smoke", results={str(tmp_path / 'unused')!r})  # imports every experiment module
        assert real.entries
        r = Q.run(plan, 240, jobs=2, data={str(tiny_root)!r})
        from cnnreport.compute.archive import pack
        written, left = pack(plan.results, r.produced(), {str(out / 'results.tar.gz')!r})
        print(json.dumps({{"done": len(r.done), "pending": len(r.pending), "failed": [o.error for o in r.failed],
                          "archives": [str(w) for w in written], "seconds": r.seconds}}))
        blocked = sorted(m for m in sys.modules if m.split(".")[0] in ("papermill", "dask", "IPython", "nbformat"))
        assert not blocked, blocked
    """)
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{ROOT}", "BLOCKED_LOG": str(tmp_path / "blocked.log"),
           "CNNREPORT_DATA": str(tiny_root)}
    p = subprocess.run([sys.executable, "-c", prelude], capture_output=True, text=True, cwd=ROOT, env=env,
                       timeout=400)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-4000:]
    d = json.loads(p.stdout.strip().splitlines()[-1])
    assert d["done"] == 3 and d["pending"] == 0 and not d["failed"], d
    assert len(list(res.glob("*.json"))) == 3
    with tarfile.open(d["archives"][0]) as tar:
        assert sorted(tar.getnames()) == sorted([A.MANIFEST] + [f.name for f in res.glob("*.json")])


def test_dask_scheduler_runs_a_run_on_a_local_cluster(register, tiny_root, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    register("qtest", lambda p: E.seeded("qtest", "b", {"short": SHORT}, [3], report="001"))
    monkeypatch.setenv("CNNREPORT_DATA", str(tiny_root))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        r = Q.run(_plan(tmp_path), 120, scheduler=c.scheduler_address, data=str(tiny_root), log=lambda m: None)
    assert len(r.done) == 1 and not r.pending and not r.failed
    assert ResultStore(tmp_path).get(r.done[0].key).status == "ok"


# -- pack and unpack --------------------------------------------------------------------------
@pytest.fixture
def stored(tiny_root, tmp_path):
    """A results folder with two finished runs and one interrupted run's checkpoint."""
    data = Q._dataset("tiny", str(tiny_root))
    src = ResultStore(tmp_path / "src")
    r1 = fit(SHORT | {"seed": 0}, store=src, progress=False, data=data)
    r2 = fit(SHORT | {"seed": 1}, store=src, progress=False, data=data)
    with pytest.raises(OutOfTime) as e:
        fit(SHORT | {"seed": 2, "epochs": 3}, store=src, progress=False, data=data, deadline=time.monotonic())
    return src, r1, r2, e.value.key


class Evil:
    """Unpickling this would call a function: what a forged checkpoint could do."""
    def __reduce__(self):
        return (print, ("this ran while loading",))


def _tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if isinstance(data, tuple):  # ("link", target)
                info.type, info.linkname = tarfile.SYMTYPE, data[1]
                tar.addfile(info)
                continue
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_pack_and_unpack_round_trip_with_parts(stored, tiny_root, tmp_path):
    src, r1, r2, k3 = stored
    members = [f"{r1.key}.json", f"{r2.key}.json", f"checkpoints/{k3}/last.pt"]
    written, left = A.pack(src.root, members, tmp_path / "out" / "results.tar.gz")
    assert len(written) == 1 and not left and written[0].stat().st_size < A.PART_LIMIT
    import zlib
    one = max(len(zlib.compress((src.root / m).read_bytes(), 6)) + 1024 for m in members[:2])
    limit = int(one * 1.02 + 4096 + 500)  # one result a part
    small = A.pack(src.root, members[:2], tmp_path / "split" / "r.tar.gz", limit=limit)
    assert [w.name for w in small[0]] == ["r.tar.gz", "r.part2.tar.gz"]
    assert all(w.stat().st_size <= limit for w in small[0])
    assert "more than a part may hold" in A.pack(src.root, members, tmp_path / "x.tar.gz", limit=limit)[1][0]
    dest = tmp_path / "dest"
    assert A.unpack_all(written, dest, log=lambda m: None) == 0
    assert (dest / f"{r1.key}.json").read_bytes() == (src.root / f"{r1.key}.json").read_bytes()
    assert (dest / "checkpoints" / k3 / "last.pt").is_file()
    assert A.unpack_all(written, dest, log=lambda m: None) == 0  # identical again: fine
    # the unpacked checkpoint resumes where it stopped, to the uninterrupted result
    cfg = SHORT | {"seed": 2, "epochs": 3}
    data = Q._dataset("tiny", str(tiny_root))
    resumed = fit(cfg, store=ResultStore(dest), progress=False, data=data)
    whole = fit(cfg, progress=False, data=data)
    assert resumed.history["train_loss"] == whole.history["train_loss"] and resumed.test_acc == whole.test_acc
    assert A.unpack_all(small[0], tmp_path / "dest2", log=lambda m: None) == 0
    assert len(list((tmp_path / "dest2").glob("*.json"))) == 2


def test_unpack_refuses_corrupt_forged_and_unsafe_files_and_keeps_the_good_ones(stored, tmp_path):
    src, r1, r2, k3 = stored
    good = (src.root / f"{r1.key}.json").read_bytes()
    second = json.loads((src.root / f"{r2.key}.json").read_bytes())
    forged_key = json.loads(good)
    forged_key["config"]["lr"] = 0.5  # claims the old key for a different config
    other = dict(second, test_acc=0.99)  # a different result under a key that is stored
    ckpt = (src.root / "checkpoints" / k3 / "last.pt").read_bytes()
    evil = io.BytesIO()
    torch.save({"key": k3, "x": Evil()}, evil)
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / f"{r2.key}.json").write_bytes((src.root / f"{r2.key}.json").read_bytes())
    bad = tmp_path / "bad.tar.gz"
    _tar(bad, [(f"{r1.key}.json", good),
               ("0123456789abcdef.json", good),                    # renamed: key != file name
               (f"{'f' * 16}.json", good[: len(good) // 2]),       # corrupt: truncated JSON
               (f"{r1.key[:-1]}{'0' if r1.key[-1] != '0' else '1'}.json", json.dumps(forged_key).encode()),
               (f"{r2.key}.json", json.dumps(other).encode()),     # overwrite of a different result
               ("../escape.json", good), ("/abs/path.json", good),
               ("notes.txt", b"hello"), ("link.json", ("link", "/etc/passwd")),
               (f"checkpoints/{k3}/other.pt", ckpt),
               (f"checkpoints/{'a' * 16}/last.pt", ckpt),         # a checkpoint of another run
               (f"checkpoints/{'b' * 16}/last.pt", evil.getvalue()),
               (f"checkpoints/{k3}/last.pt", ckpt)])
    lines = []
    assert A.unpack_all([bad], dest, log=lines.append) == 1
    text = "\n".join(lines)
    again = tmp_path / "again"
    again.mkdir()
    (again / f"{r2.key}.json").write_bytes((src.root / f"{r2.key}.json").read_bytes())
    r = A.unpack(bad, again)  # the same checks, as data
    refused = dict(r.refused)
    assert sorted(r.merged) == sorted([f"{r1.key}.json", f"checkpoints/{k3}/last.pt"])
    assert "forged" in refused["0123456789abcdef.json"]
    assert "not valid JSON" in refused[f"{'f' * 16}.json"]
    assert any("forged" in why for name, why in r.refused if name.startswith(r1.key[:-1]))
    assert "unsafe path" in refused["../escape.json"] and "unsafe path" in refused["/abs/path.json"]
    assert "not a results file" in refused["notes.txt"] and "link" in refused["link.json"]
    assert "not a results file" in refused[f"checkpoints/{k3}/other.pt"]
    assert "forged or misplaced" in refused[f"checkpoints/{'a' * 16}/last.pt"]
    assert "other than tensors" in refused[f"checkpoints/{'b' * 16}/last.pt"]
    assert f"REFUSED: {r2.key}.json: a different result is already stored" in text
    assert json.loads((dest / f"{r2.key}.json").read_bytes())["test_acc"] == second["test_acc"]
    assert (dest / f"{r1.key}.json").read_bytes() == good
    assert not (tmp_path / "escape.json").exists() and not (dest / "link.json").exists()
    # a member whose bytes changed after packing is caught by the manifest
    written, _ = A.pack(src.root, [f"{r1.key}.json"], tmp_path / "ok.tar.gz")
    with tarfile.open(written[0]) as t:
        items = [(m.name, t.extractfile(m).read()) for m in t.getmembers()]
    items = [(n, d.replace(b'"status":"ok"', b'"status":"ok" ') if n != A.MANIFEST else d) for n, d in items]
    _tar(tmp_path / "tampered.tar.gz", items)
    assert "SHA-256" in dict(A.unpack(tmp_path / "tampered.tar.gz", tmp_path / "t").refused)[f"{r1.key}.json"]
    # a truncated archive: what was read before the break merges, the break is named
    (tmp_path / "cut.tar.gz").write_bytes(written[0].read_bytes()[:-40])
    cut = A.unpack(tmp_path / "cut.tar.gz", tmp_path / "c")
    assert cut.refused


def test_a_run_another_process_trains_is_skipped_not_trained_twice(tiny_root, tmp_path):
    import socket
    from cnnreport.core import locks as L
    from cnnreport.core.config import RunConfig
    key = RunConfig.from_dict(SHORT).key()
    path = L.lock_path(tmp_path, key)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))
    task = {"key": key, "config": SHORT, "probe": None, "results": str(tmp_path), "end": time.time() + 60,
            "data": str(tiny_root), "threads": None, "epochs_before": 0}
    out = Q.execute(task)
    assert out["status"] == "locked" and "being trained by pid" in out["error"]
    assert not (tmp_path / f"{key}.json").exists()
    path.unlink()
    assert Q.execute(task)["status"] == "done" and (tmp_path / f"{key}.json").is_file()


def test_on_a_cpu_the_queue_starts_only_whole_runs_unless_told(monkeypatch, tmp_path):
    seen = {}

    def fake_run(plan, budget, **kw):
        seen["whole"] = kw["whole"]
        return Q.Report(plan.profile, budget, 0.0, [], [], str(plan.results))
    monkeypatch.setattr(Q, "run", fake_run)
    monkeypatch.setattr(Q, "device_kind", lambda: "cpu")
    argv = ["--profile", "smoke", "--chapters", "architectures", "--budget", "5", "--results", str(tmp_path)]
    assert Q.main(argv) == 0 and seen["whole"] is True
    assert Q.main(argv + ["--partial"]) == 0 and seen["whole"] is False
    monkeypatch.setattr(Q, "device_kind", lambda: "h200")
    assert Q.main(argv) == 0 and seen["whole"] is False


def test_an_fp32_twin_trains_into_the_controls_folder_beside_its_run(register, tiny_root, tmp_path, monkeypatch):
    register("qtest", lambda p: (E.seeded("qtest", "b", {"short": SHORT}, [0], report="001")
                                 + E.seeded("qtest", "twin", {"short, fp32": SHORT | {"precision": "fp32"}}, [0],
                                            report="001", extra=True, store="controls")))
    monkeypatch.setenv("CNNREPORT_DATA", str(tiny_root))
    res = tmp_path / "results"
    plan = _plan(res)
    twin = next(e for e in plan.entries if e.store)
    main = next(e for e in plan.entries if not e.store)
    assert twin.config_key == main.config_key and twin.key == f"controls/{main.key}"  # precision is not keyed
    assert twin.noise and twin.rank == 1.75 and plan.entries.index(twin) > plan.entries.index(main)
    r = Q.run(plan, 120, data=str(tiny_root), log=lambda m: None)
    assert len(r.done) == 2 and f"controls/{main.key}.json" in r.produced()
    bf, fp = ResultStore(res).get(main.key), ResultStore(res / "controls").get(main.key)
    assert fp.config["precision"] == "fp32" and bf is not None and fp is not None
    assert all(e.stored for e in P.refresh(_plan(res)).entries)
    written, _ = A.pack(res, r.produced(), tmp_path / "out.tar.gz")
    assert A.unpack_all(written, tmp_path / "dest", log=lambda m: None) == 0
    assert (tmp_path / "dest" / "controls" / f"{main.key}.json").is_file()
