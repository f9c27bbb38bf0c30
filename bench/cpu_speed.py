"""Training-step throughput on this CPU, fp32 against bf16, per model of the plan.

One row per model of the full-profile plan, at the batch size most of its runs use, on
the dataset they train on.  Every contender trains the same model class on one batch
resident in memory (so the loader is not timed), with interleaved rounds after a
warm-up; images/s and TFLOP/s (3x the forward FLOPs of ``cnnreport.compute.costs``) of each:

* ``plain_fp32``: the textbook step (fp32, contiguous, ``nn.CrossEntropyLoss``, SGD);
* ``plain_bf16``: the same step under bf16 autocast with channels-last;
* ``ours_fp32`` / ``ours_bf16``: our trainer's step as :func:`cnnreport.training.build_setup`
  builds it (its model, optimizer, loss and autocast) with ``precision`` fp32 / bf16.

The first row is the reference of the matrix units: a 3x3 convolution forward,
256x128x32x32 channels-last, in fp32 and bf16.  The run ends by printing the
``MEASURED_CPU`` entry of :mod:`cnnreport.compute.costs` for this CPU's rate class
(:func:`cnnreport.core.hardware.rate_class`): the ``ours_bf16`` column where bf16 is native,
else ``ours_fp32``.  On a CPU without native bf16 the bf16 columns are emulated (8x slower than
fp32 for the reference convolution, 14x for an AlexNet step, on a 2-core AVX2 EPYC) and are not
timed unless ``--emulated-bf16`` asks.

    OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. .venv/bin/python bench/cpu_speed.py \\
        --out bench/results/cpu/cpu_speed.json
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from baseline import plain_step  # noqa: E402
from cnnreport.compute import costs  # noqa: E402
from cnnreport.core.config import RunConfig  # noqa: E402
from cnnreport.core.data import Dataset  # noqa: E402
from cnnreport.models import MODELS  # noqa: E402
from cnnreport.core.hardware import cpu_capability, cpu_flags, rate_class  # noqa: E402
from cnnreport.training.setup import build_setup  # noqa: E402

SHAPES = {"cifar10": (3, 32, 32), "mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28)}


def plan_rows(profile: str = "full") -> List[Dict[str, Any]]:
    """(model, dataset, batch, runs) per model of the plan, at its most common batch and dataset."""
    from cnnreport.compute import plan as P
    seen: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for e in P.build(profile).entries:
        c = e.config
        seen[c["model"]][(c.get("dataset", "cifar10"), int(c.get("batch_size", 128)),
                          json.dumps(c.get("model_args") or {}, sort_keys=True))] += 1
    rows = []
    for model, counts in sorted(seen.items()):
        (ds, bs, margs), n = counts.most_common(1)[0]
        rows.append({"model": model, "dataset": ds, "batch": bs, "model_args": json.loads(margs),
                     "runs": sum(counts.values())})
    return rows


def _fake_dataset(name: str, n: int) -> Dataset:
    shape = SHAPES[name]
    g = torch.Generator().manual_seed(0)
    hwc = (n, shape[1], shape[2]) + ((shape[0],) if shape[0] == 3 else ())
    x = torch.randint(0, 256, hwc, generator=g, dtype=torch.uint8).numpy()
    y = torch.randint(0, 10, (n,), generator=g).numpy()
    return Dataset(name=name, x_train=x, y_train=y, x_test=x[:64], y_test=y[:64],
                   classes=[str(i) for i in range(10)])


def plain_contender(row, bf16: bool) -> Callable[[], int]:
    C, H, W = SHAPES[row["dataset"]]
    net = MODELS.build(row["model"], num_classes=10, in_channels=C, **row["model_args"])
    x, y = torch.randn(row["batch"], C, H, W), torch.randint(0, 10, (row["batch"],))
    if bf16:
        net, x = net.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    opt, lossf = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9), nn.CrossEntropyLoss()
    ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext

    def step() -> int:
        plain_step(net, opt, lossf, x, y, ctx)
        return len(y)
    return step


def _our_setup(row, precision: str):
    """Our trainer's setup of ``row`` (model, optimizer, loss, autocast) and one batch of it."""
    cfg = RunConfig(model=row["model"], dataset=row["dataset"], model_args=row["model_args"],
                    batch_size=row["batch"], epochs=1, val_fraction=0, device="cpu", precision=precision,
                    lr=1e-3, momentum=0.9, augment=[])
    s = build_setup(cfg, _fake_dataset(row["dataset"], row["batch"]))
    return s, next(iter(s.train_loader))


def ours_contender(row, precision: str, compile_mode: str = "") -> Callable[[], int]:
    """Our trainer's step (training/loop.py) without its bookkeeping; with ``compile_mode``
    ("default" or a ``torch.compile`` mode) the model runs under Inductor, which fuses the
    element-wise work (BatchNorm, activation, adds) and compiles at the warm-up step."""
    s, (x, y) = _our_setup(row, precision)
    net = s.step_model
    if compile_mode:
        net = torch.compile(s.model, mode=None if compile_mode == "default" else compile_mode)

    def step() -> int:
        plain_step(net, s.optimizer, s.loss_fn, x, y, s.autocast)
        return len(y)
    return step


def _one_job(args) -> float:
    """One process of :func:`jobs_side_by_side`: our step on 1 thread, images/s over ``steps``."""
    row, precision, steps, start, compile_mode = args
    torch.set_num_threads(1)
    f = ours_contender(row, precision, compile_mode)
    f(), f()  # warm-up (the first step compiles, when compiled)
    while time.time() < start:  # both processes time the same seconds of the machine
        time.sleep(0.01)
    t0, n = time.perf_counter(), sum(f() for _ in range(steps))
    return n / (time.perf_counter() - t0)


def jobs_side_by_side(row, precision: str, jobs: int, steps: int, settle: float = 20.0,
                      compile_mode: str = "") -> float:
    """images/s of the whole machine when ``jobs`` one-thread processes train side by side
    (the queue's ``--jobs``): the sum of their rates over the same seconds."""
    import multiprocessing as mp
    ctx = mp.get_context("spawn")
    with ctx.Pool(jobs) as pool:
        # time for the workers to import torch, build, compile and warm up
        start = time.time() + settle + (60.0 if compile_mode else 0.0)
        return sum(pool.map(_one_job, [(row, precision, steps, start, compile_mode)] * jobs, chunksize=1))


def best_layouts(row, precision: str, steps: int, rounds: int, threads: int) -> Dict[str, float]:
    """The ways this machine can train ``row`` faster than one eager 2-thread process, as images/s
    of the whole machine: Inductor-compiled steps, one-thread jobs side by side, and both."""
    out = interleaved({"compile": ours_contender(row, precision, "default"),
                       "compile max-autotune": ours_contender(row, precision, "max-autotune-no-cudagraphs")},
                      steps, rounds)
    out[f"{threads} jobs x 1 thread"] = max(jobs_side_by_side(row, precision, threads, steps) for _ in range(rounds))
    out[f"compile, {threads} jobs x 1 thread"] = max(jobs_side_by_side(row, precision, threads, steps,
                                                                       compile_mode="default") for _ in range(rounds))
    return out


def conv_reference(dtype) -> Callable[[], int]:
    conv = nn.Conv2d(128, 128, 3, padding=1, bias=False).to(memory_format=torch.channels_last)
    x = torch.randn(256, 128, 32, 32).contiguous(memory_format=torch.channels_last)
    ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if dtype == "bf16" else contextlib.nullcontext

    @torch.no_grad()
    def step() -> int:
        with ctx():
            conv(x)
        return 256
    return step


def interleaved(contenders: Dict[str, Callable[[], int]], steps: int, rounds: int) -> Dict[str, float]:
    """images/s of each contender: best of ``rounds`` rounds of ``steps`` steps, after one warm-up step."""
    for f in contenders.values():
        f()
    best = {k: 0.0 for k in contenders}
    for _ in range(rounds):
        for k, f in contenders.items():
            t0, n = time.perf_counter(), sum(f() for _ in range(steps))
            best[k] = max(best[k], n / (time.perf_counter() - t0))
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", help="only these models of the plan")
    p.add_argument("--steps", type=int, default=3, help="steps per round")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--out", help="write the table as JSON here")
    p.add_argument("--best", action="store_true",
                   help="also time the best layouts (compiled steps, one-thread jobs side by side) per model")
    p.add_argument("--emulated-bf16", action="store_true",
                   help="time the bf16 columns on a CPU without native bf16 too (slow)")
    a = p.parse_args(argv)
    bf16 = cpu_capability() != "none" or a.emulated_bf16
    auto = "ours_bf16" if cpu_capability() != "none" else "ours_fp32"  # what precision "auto" trains
    conv_flops = 2 * 256 * 128 * 128 * 9 * 32 * 32 / 256  # per image
    ref = interleaved({d: conv_reference(d) for d in ("fp32", "bf16")[:1 + bf16]}, 3, a.rounds)
    ref_tflops = {k: v * conv_flops / 1e12 for k, v in ref.items()}
    peak = ref_tflops["bf16" if auto == "ours_bf16" else "fp32"]
    print("3x3 conv forward 256x128x32x32: " + ", ".join(f"{k} {v:.2f} TFLOP/s" for k, v in ref_tflops.items()))
    columns = ("plain_fp32", "plain_bf16", "ours_fp32", "ours_bf16") if bf16 else ("plain_fp32", "ours_fp32")
    rows = [r for r in plan_rows() if not a.models or r["model"] in a.models]
    out = []
    print(f"{'model':16} {'batch':>5} " + " ".join(f"{c:>18}" for c in columns + ("best",) * a.best)
          + "  auto/fp32  of conv peak")
    for r in rows:
        fwd = costs.forward_flops(r["model"], r["dataset"], r["model_args"])
        make = {"plain_fp32": lambda: plain_contender(r, False), "plain_bf16": lambda: plain_contender(r, True),
                "ours_fp32": lambda: ours_contender(r, "fp32"), "ours_bf16": lambda: ours_contender(r, "bf16")}
        ips = interleaved({c: make[c]() for c in columns}, a.steps, a.rounds)
        if a.best:
            layouts = best_layouts(r, "bf16" if auto == "ours_bf16" else "fp32", a.steps, a.rounds,
                                   torch.get_num_threads())
            layouts["eager, 1 process"] = ips[auto]
            name = max(layouts, key=layouts.get)
            r = {**r, "layouts": layouts, "best_layout": name}
            ips["best"] = layouts[name]
        tf = {k: v * 3 * fwd / 1e12 for k, v in ips.items()}
        out.append({**r, "images_per_s": ips, "tflops": tf})
        print(f"{r['model']:16} {r['batch']:5d} " + " ".join(f"{ips[k]:9.0f} ({tf[k]:.2f})" for k in ips)
              + f"  {ips[auto] / ips['plain_fp32']:8.2f}x  {tf[auto] / peak:6.0%}"
              + (f"  best {ips['best']:.0f} ({r['best_layout']})" if a.best else ""),
              flush=True)
    payload = {"cpu_capability": cpu_capability(), "rate_class": rate_class(), "cpu_flags": cpu_flags(),
               "threads": torch.get_num_threads(),
               "torch": torch.__version__, "conv_reference_tflops": ref_tflops, "rows": out,
               "time": time.strftime("%Y-%m-%d %H:%M:%S %z")}
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(payload, indent=1) + "\n")
    print("MEASURED_CPU[%r] = {%s}" % (rate_class(), ", ".join(
        f"{r['model']!r}: {r['images_per_s'][auto]:.0f}" for r in out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
