"""Training throughput of the queue's workers: images/s per model family at --jobs 1, 2, 4, 8,
eager and with torch.compile, on the machine it runs on (meant for the H200).

Each cell (model, jobs J, compile on/off) starts J worker processes at once, as
``python -m cnnreport queue --jobs J`` would.  Each worker trains the model with the
project's trainer (:func:`cnnreport.training.fit`: bf16 autocast, channels-last and the
on-device loader on CUDA) for ``--epochs`` short epochs on synthetic uint8 images of the
model's dataset shape (no data files needed), the first epoch being the warm-up (cuDNN
autotuning, compilation).  The workers wait for a common start time after building
everything, so their measured epochs overlap.  A cell's throughput is the sum over its
workers of the median training images/s of their epochs after the first.  Cells run in
interleaved rounds (every cell once per round, ``--trials`` rounds) so drift hits all of
them alike; ratios (J jobs against one, compiled against eager) are taken per round,
then averaged.

Output under ``--out`` (a folder): ``queue_speed.json`` (every trial, the environment)
and ``queue_speed.md`` (tables with the ratios side by side).  It also prints the
``MEASURED`` entries for ``cnnreport/compute/costs.py``: each model's images/s at one job, eager,
batch 128 (costs.py scales them to other widths and batch sizes).

On the GPU machine, from a plain checkout::

    PYTHONPATH=. python3 bench/queue_speed.py --out /tmp/qs --trials 2
    # about 6-8 minutes with the defaults; --models / --jobs / --epochs make it shorter

A CPU smoke check (numbers mean nothing for the GPU)::

    PYTHONPATH=. .venv/bin/python bench/queue_speed.py --device cpu --models basic_cnn mlp \\
        --jobs 1 2 --no-compile --images 512 --epochs 2 --trials 1 --out bench/results/cpu/queue_speed
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parents[1]
# model -> the dataset shape it trains on in the book
DEFAULT_MODELS = {"resnet18": "cifar10", "simp_res9": "cifar10", "resnet9": "cifar10", "basic_cnn": "cifar10",
                  "improved_cnn": "cifar10", "vgg_fmnist": "fashion_mnist", "lenet": "mnist", "mlp": "mnist"}
SHAPES = {"cifar10": (32, 32, 3), "mnist": (28, 28), "fashion_mnist": (28, 28)}


def worker(spec: Dict[str, Any]) -> Dict[str, Any]:
    """One worker of one cell: build, wait for the start time, train, report images/s."""
    import numpy as np
    import torch

    from cnnreport.core import data as D
    from cnnreport.training import fit
    if spec.get("threads"):
        torch.set_num_threads(int(spec["threads"]))
    shape = SHAPES[spec["dataset"]]
    rng = np.random.default_rng(spec["rank"])
    n = int(spec["images"])
    x = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    y = (np.arange(n) % 10).astype(np.int64)
    ds = D.Dataset(spec["dataset"], x, y, x[:256], y[:256], [str(i) for i in range(10)])
    cfg = dict(dataset=spec["dataset"], model=spec["model"], epochs=int(spec["epochs"]),
               batch_size=int(spec["batch_size"]), optimizer="sgd", lr=0.01, momentum=0.9,
               val_fraction=0.0, test_subset=256, device=spec["device"], compile=bool(spec["compile"]),
               checkpoint_every=0, divergence_patience=0)
    while time.time() < spec["start"]:
        time.sleep(0.01)
    t0 = time.time()
    r = fit(cfg, progress=False, data=ds)
    rates = r.history["images_per_sec"][1:] or r.history["images_per_sec"]
    return {"rank": spec["rank"], "images_per_s": statistics.median(rates), "epoch_rates": r.history["images_per_sec"],
            "seconds": time.time() - t0, "device": r.environment.get("device")}


def run_cell(model: str, dataset: str, jobs: int, compile_: bool, a) -> Dict[str, Any]:
    start = time.time() + a.start_delay
    cpus = os.cpu_count() or 1
    procs = []
    for rank in range(jobs):
        spec = dict(model=model, dataset=dataset, rank=rank, images=a.images, epochs=a.epochs,
                    batch_size=a.batch_size, device=a.device, compile=compile_, start=start,
                    threads=max(1, cpus // jobs))
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
        procs.append(subprocess.Popen([sys.executable, __file__, "--worker", json.dumps(spec)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    workers, errors = [], []
    for p in procs:
        out, err = p.communicate(timeout=a.timeout)
        if p.returncode == 0 and out.strip():
            workers.append(json.loads(out.strip().splitlines()[-1]))
        else:
            errors.append(err[-800:])
    total = sum(w["images_per_s"] for w in workers) if len(workers) == jobs else None
    return {"model": model, "dataset": dataset, "jobs": jobs, "compile": compile_, "images_per_s": total,
            "workers": workers, "errors": errors}


def _ms(v: List[float]) -> Dict[str, float]:
    v = [x for x in v if x is not None]
    if not v:
        return {"mean": float("nan"), "std": float("nan"), "n": 0}
    return {"mean": statistics.mean(v), "std": statistics.stdev(v) if len(v) > 1 else 0.0, "n": len(v)}


def summarize(trials: List[List[Dict[str, Any]]], a) -> Dict[str, Any]:
    rows = []
    for model in a.models:
        for c in a.compile_modes:
            base = [next(x["images_per_s"] for x in rnd if x["model"] == model and x["jobs"] == 1 and x["compile"] == c)
                    for rnd in trials] if 1 in a.jobs else None
            for j in a.jobs:
                rates = [next(x["images_per_s"] for x in rnd if x["model"] == model and x["jobs"] == j
                              and x["compile"] == c) for rnd in trials]
                row = {"model": model, "jobs": j, "compile": c, "images_per_s": _ms(rates)}
                if base:
                    row["vs_1_job"] = _ms([r / b for r, b in zip(rates, base) if r and b])
                if c and False in a.compile_modes:
                    eager = [next(x["images_per_s"] for x in rnd if x["model"] == model and x["jobs"] == j
                                  and not x["compile"]) for rnd in trials]
                    row["compiled_vs_eager"] = _ms([r / e for r, e in zip(rates, eager) if r and e])
                rows.append(row)
    measured = {}
    for r in rows:
        if r["jobs"] == 1 and not r["compile"] and r["images_per_s"]["n"]:
            measured[r["model"]] = round(r["images_per_s"]["mean"], 1)
    return {"rows": rows, "measured": measured}


def to_markdown(payload: Dict[str, Any]) -> str:
    env = payload["environment"]
    lines = [f"# Queue worker throughput ({env.get('device_name') or env.get('device_type')})", "",
             f"batch {payload['settings']['batch_size']}, {payload['settings']['images']} synthetic images per "
             f"worker and epoch, {payload['settings']['epochs']} epochs (first one warm-up), "
             f"{payload['settings']['trials']} interleaved round(s); images/s summed over a cell's workers.", "",
             "| model | jobs | compile | images/s | x vs 1 job | x compiled vs eager |", "|---|---|---|---|---|---|"]
    f = lambda s, d=1: "n/a" if not s or not s.get("n") else (f"{s['mean']:.{d}f} ± {s['std']:.{d}f}"
                                                                 + (f" (n={s['n']})" if s["n"] > 1 else ""))
    for r in payload["summary"]["rows"]:
        lines.append(f"| {r['model']} | {r['jobs']} | {'yes' if r['compile'] else 'no'} | {f(r['images_per_s'])} | "
                     f"{f(r.get('vs_1_job'), 2)} | {f(r.get('compiled_vs_eager'), 2)} |")
    lines += ["", "For cnnreport/compute/costs.py (images/s at one job, eager):", "", "```python",
              f"MEASURED = {json.dumps(payload['summary']['measured'], indent=4, sort_keys=True)}", "```"]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--worker"]:
        print(json.dumps(worker(json.loads(argv[1]))))
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), choices=sorted(DEFAULT_MODELS))
    p.add_argument("--jobs", nargs="+", type=int, default=[1, 2, 4, 8])
    p.add_argument("--no-compile", action="store_true", help="eager only")
    p.add_argument("--images", type=int, default=128 * 40, help="training images per worker and epoch")
    p.add_argument("--epochs", type=int, default=3, help="epochs per worker; the first is the warm-up")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--trials", type=int, default=2, help="interleaved rounds")
    p.add_argument("--device", default="auto", help="auto | cuda | cpu")
    p.add_argument("--start-delay", type=float, default=20.0,
                   help="seconds for the workers to start before the common start time")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--out", help="output folder for queue_speed.json and queue_speed.md")
    a = p.parse_args(argv)
    a.compile_modes = [False] if a.no_compile else [False, True]
    sys.path.insert(0, str(ROOT / "bench"))
    import torch
    from common import environment
    dev = torch.device("cuda" if a.device == "auto" and torch.cuda.is_available() else
                       ("cpu" if a.device == "auto" else a.device))
    env = environment(dev)
    env["device_name"] = torch.cuda.get_device_name(dev) if dev.type == "cuda" else env.get("cpu")
    cells = [(m, DEFAULT_MODELS[m], j, c) for m in a.models for c in a.compile_modes for j in a.jobs]
    trials = []
    for t in range(a.trials):
        order = cells if t % 2 == 0 else cells[::-1]  # alternate the order between rounds
        rnd = []
        for m, ds, j, c in order:
            cell = run_cell(m, ds, j, c, a)
            rnd.append(cell)
            print(f"round {t + 1}: {m} jobs={j} compile={c}: "
                  f"{cell['images_per_s'] and round(cell['images_per_s'])} images/s"
                  + (f" ERRORS {cell['errors']}" if cell["errors"] else ""), flush=True)
        trials.append(rnd)
    payload = {"benchmark": "queue_speed", "environment": env, "settings": {
        "models": a.models, "jobs": a.jobs, "compile": a.compile_modes, "images": a.images, "epochs": a.epochs,
        "batch_size": a.batch_size, "trials": a.trials, "device": str(dev)},
        "trials": trials, "summary": summarize(trials, a)}
    md = to_markdown(payload)
    print(md)
    if a.out:
        out = Path(a.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "queue_speed.json").write_text(json.dumps(payload, indent=1, default=str))
        (out / "queue_speed.md").write_text(md + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
