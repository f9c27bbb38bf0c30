"""The GPU machine's one command, end to end on a CPU with a tiny budget: the datasets as
they travel (CIFAR-10 as WebP mosaics, decoded and checked), the queue, the packed archive
and the summary."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnnreport.compute import archive as A
from cnnreport.core.store import ResultStore

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "cifar10" / "labels.npz").is_file(), reason="needs ../shared/data")
def test_remote_decodes_trains_packs_and_summarises_within_its_budget(tmp_path):
    data = tmp_path / "travel"
    (data / "cifar10").mkdir(parents=True)
    for f in (SHARED / "cifar10").iterdir():      # the mosaics, as the GPU machine receives them
        (data / "cifar10" / f.name).symlink_to(f)
    (data / "materialize.py").symlink_to(SHARED / "materialize.py")
    (data / "mnist.npz").symlink_to(SHARED / "mnist.npz")   # Fashion-MNIST left out on purpose
    out, results = tmp_path / "out", tmp_path / "results"
    env = dict(os.environ, CNNREPORT_RESULTS=str(results), PYTHONPATH=str(ROOT))
    budget = 150
    p = subprocess.run([sys.executable, "-m", "cnnreport.compute.remote", "--data", str(data), "--out", str(out),
                        "--budget", str(budget), "--profile", "smoke", "--chapters", "schedules", "--tier", "1"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=budget + 120)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert "decoded" in summary["data"]["cifar10"] and "fashion_mnist" not in summary["data"]
    assert summary["seconds"] <= budget and summary["done"]
    assert {"cifar10", "mnist"} <= {ResultStore(results).get(d["key"]).config["dataset"] for d in summary["done"]}
    log = (out / "queue.log").read_text()
    assert "data: fashion_mnist: absent" in log
    dest = tmp_path / "merged"
    assert A.unpack_all(sorted(out.glob("results*.tar.gz")), dest, log=lambda m: None) == 0
    merged = ResultStore(dest)
    assert all(merged.get(d["key"]).status in ("ok", "diverged") for d in summary["done"])
