"""Training throughput of our trainer against a plain PyTorch loop, measured side by side.

For each workload (LeNet on MNIST and BasicCNN on CIFAR-10 everywhere; ResNet-9 on
CIFAR-10 when there is a GPU) both contenders train the same model class
(``cnnreport.models.MODELS.build``) on the same images, at the same batch size, with the
same SGD settings.  Three parts are timed, each in interleaved rounds (ours, plain,
ours, plain, ...) after a warm-up round:

* ``loader``: one epoch of batches on the device, no model -- our ``DeviceLoader``
  against the torchvision ``Dataset`` + PIL transforms + ``DataLoader`` of ``baseline.py``;
* ``model``: forward + backward + step repeated on one batch resident on the device --
  our trainer's settings (bf16 autocast and channels-last on CUDA, fused SGD) against
  the plain fp32 step; on the CPU both are fp32 and should match;
* ``end-to-end``: ours is ``cnnreport.training.fit(config)`` (a per-epoch test pass included,
  no validation split, a few epochs on a subset), the plain side is
  ``baseline.plain_torch_epoch`` for the same epochs and one test pass.  Two rows: the
  wall time of the whole run, and the training loop's rate in the last epoch (ours
  read from ``history['images_per_sec']``).

``--time-to-94`` (GPU) runs our ResNet-9 recipe of ``time_to_94.py`` and reports wall
time and test accuracy; ``--contender airbench`` (GPU, ``pip install --no-deps
airbench==0.1.8``) races it against airbench94, interleaved.

    PYTHONPATH=. CNNREPORT_DATA=data .venv/bin/python bench/trainer_speed.py \\
        --out bench/results/cpu/trainer_speed.json
"""
from __future__ import annotations

import argparse
import contextlib
import itertools
import shlex
import sys
from typing import Any, Dict, List

import torch
from torch import nn

import time_to_94 as tt94
from baseline import iterate_batches, make_dataloader, pil_transform, plain_step, plain_torch_accuracy, \
    plain_torch_epoch
from common import add_common_args, environment, interleave, paired_ratio, setup, summarize, timed, \
    timed_trial, write_results

# name -> run config entries, plus the subset sizes (train images) for CPU and GPU runs.
WORKLOADS: Dict[str, Dict[str, Any]] = {
    "lenet_mnist": dict(dataset="mnist", model="lenet", augment=[], batch_size=128, lr=0.01,
                        momentum=0.9, cpu_subset=6000, gpu_subset=None, gpu_only=False),
    "basic_cnn_cifar10": dict(dataset="cifar10", model="basic_cnn", augment=["crop", "flip"],
                              batch_size=128, lr=0.01, momentum=0.9, cpu_subset=1024,
                              gpu_subset=None, gpu_only=False),
    "resnet9_cifar10": dict(dataset="cifar10", model="resnet9", augment=["crop", "flip"],
                            batch_size=512, lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4,
                            cpu_subset=1024, gpu_subset=None, gpu_only=True),
}
RUN_KEYS = ("dataset", "model", "augment", "batch_size", "lr", "momentum", "nesterov", "weight_decay")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(p, trials=3)
    p.add_argument("--workloads", default="auto",
                   help=f"comma list from {', '.join(WORKLOADS)}; "
                        "auto = the CPU two, plus ResNet-9 on CUDA")
    p.add_argument("--parts", default="loader,model,e2e", help="comma list from loader, model, e2e")
    p.add_argument("--subset", type=int, default=None, help="training images per workload "
                   "(default: per workload, small on CPU, all on GPU)")
    p.add_argument("--test-subset", type=int, default=None,
                   help="test images (default 1000 on CPU, all on GPU)")
    p.add_argument("--epochs", type=int, default=2, help="epochs of each end-to-end run")
    p.add_argument("--model-steps", type=int, default=None,
                   help="steps per model-only trial (default 8 CPU, 50 GPU)")
    p.add_argument("--workers", type=int, default=2, help="DataLoader workers of the plain contender")
    p.add_argument("--plain-amp", action="store_true",
                   help="give the plain contender bf16 autocast + channels-last on CUDA too")
    p.add_argument("--contender", default="plain", choices=["plain", "airbench"],
                   help="airbench: race our time-to-94 recipe against airbench94 (GPU)")
    p.add_argument("--time-to-94", action="store_true", help="our ResNet-9 time-to-94 recipe alone (GPU)")
    p.add_argument("--tt94-epochs", type=int, default=24)
    p.add_argument("--tt94-lr", type=float, default=0.2)
    p.add_argument("--compile", action="store_true", help="torch.compile our model in the time-to-94 runs")
    return p.parse_args(argv)


def run_config(w: Dict[str, Any], device: torch.device, args) -> Dict[str, Any]:
    on_gpu = device.type == "cuda"
    cfg = {k: w[k] for k in RUN_KEYS if k in w}
    cfg.update(val_fraction=0.0, train_subset=args.subset or w["gpu_subset" if on_gpu else "cpu_subset"],
               test_subset=args.test_subset or (None if on_gpu else 1000), epochs=args.epochs,
               optimizer="sgd", checkpoint_every=0, divergence_patience=0,
               device=str(device), seed=args.seed)
    return cfg


def plain_pieces(cfg, ds, device, args, channels_last: bool):
    """Model, optimizer and loss of the plain contender (fp32 unless --plain-amp)."""
    from cnnreport.models import MODELS

    model = MODELS.build(cfg.model, num_classes=ds.num_classes, in_channels=ds.image_shape[0]).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                          nesterov=cfg.nesterov, weight_decay=cfg.weight_decay)
    return model, opt, nn.CrossEntropyLoss()


def our_pieces(cfg, ds, device):
    """Model, optimizer, loss and autocast exactly as ``fit`` builds them
    (:func:`cnnreport.training.build_setup`), plus the train loader."""
    from cnnreport.training import build_setup

    s = build_setup(cfg, ds, device)
    return s.model, s.optimizer, s.loss_fn, s.autocast, s.train_loader


def train_steps(model, opt, loss_fn, x, y, steps: int, autocast) -> int:
    """``steps`` forward/backward/update passes on one resident batch (model-only rate)."""
    model.train()
    for _ in range(steps):
        plain_step(model, opt, loss_fn, x, y, autocast)
    return steps * len(y)


def bench_workload(name: str, w: Dict[str, Any], device: torch.device, args, parts: List[str]):
    from cnnreport.core.config import RunConfig
    from cnnreport.core.data import load_dataset
    from cnnreport.core.loader import DeviceLoader
    from cnnreport.training import fit, normalization, run_scope, split_data

    on_gpu = device.type == "cuda"
    cfg = RunConfig.from_dict(run_config(w, device, args))
    ds = load_dataset(cfg.dataset)
    (xtr, ytr), _, (xte, yte) = split_data(cfg, ds)
    mean, std = normalization(cfg, ds)
    unsupported = [a for a in cfg.augment if a not in ("crop", "flip")]
    if unsupported:
        raise ValueError(f"the plain contender knows crop and flip only, not {unsupported}")
    tf_train = pil_transform(mean, std, crop="crop" in cfg.augment, flip="flip" in cfg.augment,
                             size=ds.image_shape[1])
    tf_test = pil_transform(mean, std, crop=False, flip=False)
    plain_cl = on_gpu and args.plain_amp
    plain_ac = (lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if plain_cl else contextlib.nullcontext
    our_cl = on_gpu
    label = f"{cfg.model}/{cfg.dataset}"
    wl = f"{label} ({len(ytr)} img, bs {cfg.batch_size})"
    plain_name = f"plain(w{args.workers}{', bf16' if plain_cl else ''})"
    results, ratios = [], []
    print(f"\n== {wl}: device {device}, threads {torch.get_num_threads()}")

    def ours_trial(fn):
        with run_scope(device):  # the trainer's per-run settings (cudnn autotuning on CUDA)
            return timed_trial(fn, device)

    def record(part, trials, notes):
        names = {"ours": "ours", "plain": plain_name}
        results.extend(summarize(wl, part, names[n], t, notes=nt) for (n, t), nt in zip(trials.items(), notes))
        ratios.append(paired_ratio(wl, part, "ours", "plain", trials["ours"], trials["plain"]))

    if "loader" in parts:
        ours_loader = our_pieces(cfg, ds, device)[-1]
        plain_loader = make_dataloader(xtr, ytr, cfg.batch_size, tf_train, args.workers, device, seed=cfg.seed)
        tr = interleave({
            "ours": lambda: timed_trial(lambda: iterate_batches(ours_loader, device), device),
            "plain": lambda: timed_trial(lambda: iterate_batches(plain_loader, device, plain_cl), device),
        }, args.trials, args.warmup, label=f"{label} loader")
        record("loader", tr, ("DeviceLoader", "PIL Dataset + DataLoader"))

    if "model" in parts:
        steps = args.model_steps or (50 if on_gpu else 8)
        batch_loader = DeviceLoader(xtr, ytr, cfg.batch_size, mean=mean, std=std, device=device)
        x, y = next(iter(batch_loader))  # (B, C, H, W) float, (B,)
        m1, o1, l1, ac1, _ = our_pieces(cfg, ds, device)
        m2, o2, l2 = plain_pieces(cfg, ds, device, args, plain_cl)
        x1 = x.contiguous(memory_format=torch.channels_last) if our_cl else x
        x2 = x.contiguous(memory_format=torch.channels_last) if plain_cl else x
        tr = interleave({
            "ours": lambda: ours_trial(lambda: train_steps(m1, o1, l1, x1, y, steps, ac1)),
            "plain": lambda: timed_trial(lambda: train_steps(m2, o2, l2, x2, y, steps, plain_ac), device),
        }, args.trials, args.warmup, label=f"{label} model")
        our_prec = "bf16, channels-last, fused SGD" if on_gpu else "fp32"
        record("model", tr, (f"{steps} steps, {our_prec}", f"{steps} steps, {'bf16' if plain_cl else 'fp32'}"))
        del m1, o1, m2, o2

    if "e2e" in parts:
        def ours_e2e():
            seconds, res = timed(lambda: fit(cfg, data=ds, progress=False), device)
            return {"seconds": seconds, "images": len(ytr) * cfg.epochs, "test_acc": res.test_acc,
                    "epoch_time": res.history["epoch_time"], "images_per_sec": res.history["images_per_sec"]}

        def plain_e2e():
            def run():
                torch.manual_seed(cfg.seed)
                model, opt, loss_fn = plain_pieces(cfg, ds, device, args, plain_cl)
                train = make_dataloader(xtr, ytr, cfg.batch_size, tf_train, args.workers, device, seed=cfg.seed)
                test = make_dataloader(xte, yte, cfg.eval_batch_size, tf_test, args.workers, device, shuffle=False)
                times = [timed(lambda: plain_torch_epoch(model, train, opt, loss_fn, device, plain_ac, plain_cl),
                               device)[0] for _ in range(cfg.epochs)]
                return times, plain_torch_accuracy(model, test, device, plain_ac, plain_cl)

            seconds, (times, acc) = timed(run, device)
            return {"seconds": seconds, "images": len(ytr) * cfg.epochs, "test_acc": acc, "epoch_time": times,
                    "images_per_sec": [len(ytr) / t for t in times]}

        tr = interleave({"ours": ours_e2e, "plain": plain_e2e}, args.trials, args.warmup, label=f"{label} e2e")
        accs = {n: sum(t["test_acc"] for t in ts) / len(ts) for n, ts in tr.items()}
        record("end-to-end (wall)", tr, (f"fit(), {cfg.epochs} ep + test; acc {100 * accs['ours']:.1f}%",
                                         f"{cfg.epochs} ep + test; acc {100 * accs['plain']:.1f}%"))
        # The training loop alone, last epoch (the first one also pays first-call costs).
        last = {n: [{"seconds": t["epoch_time"][-1], "images": len(ytr)} for t in ts] for n, ts in tr.items()}
        record("end-to-end (train loop, last epoch)", last,
               ("history['images_per_sec'][-1]", "plain_torch_epoch"))
    return results, ratios


def run_tt94(device, args):
    """--time-to-94 / --contender airbench: our recipe (and airbench94), interleaved."""
    from cnnreport.core.data import load_dataset

    problem = tt94.airbench_problem() if args.contender == "airbench" else tt94.gpu_problem()
    if problem:
        sys.exit(f"trainer_speed: {problem}")
    ds = load_dataset("cifar10")
    seeds = {"ours": itertools.count(args.seed), "airbench94": itertools.count(args.seed)}
    name = f"ours resnet9 ({args.tt94_epochs} ep, fit)"
    contenders = {name: lambda: tt94.run_ours(ds, device, next(seeds["ours"]), args.tt94_epochs,
                                              args.tt94_lr, args.compile)}
    workdir = tt94.airbench_workdir(ds) if args.contender == "airbench" else contextlib.nullcontext()
    with workdir as wd:
        if args.contender == "airbench":
            from pathlib import Path
            contenders["airbench94"] = lambda: tt94.run_airbench(Path(wd), device, next(seeds["airbench94"]))
        tr = interleave(contenders, args.trials, args.warmup, label="tt94")
    results = tt94.tt94_rows(tr)
    # Seconds of airbench over ours, so that > 1 still means ours is faster (rates would
    # mislead: the two train for different numbers of epochs).
    ratios = [paired_ratio("cifar10 time-to-94", "end-to-end", "airbench94", "ours", tr["airbench94"],
                           tr[name], key="seconds")] if "airbench94" in tr else []
    return results, ratios, {"tt94_config": tt94.tt94_config(args.tt94_epochs, args.tt94_lr, compile=args.compile)}


def main(argv=None) -> None:
    args = parse_args(argv)
    device = setup(args)
    extra: Dict[str, Any] = {}
    if args.time_to_94 or args.contender == "airbench":
        results, ratios, extra = run_tt94(device, args)
    else:
        names = [n for n in WORKLOADS if device.type == "cuda" or not WORKLOADS[n]["gpu_only"]] \
            if args.workloads == "auto" else [n.strip() for n in args.workloads.split(",")]
        parts = [p.strip() for p in args.parts.split(",")]
        results, ratios = [], []
        for n in names:
            if n not in WORKLOADS:
                sys.exit(f"unknown workload {n!r}; known: {', '.join(WORKLOADS)}")
            r, q = bench_workload(n, WORKLOADS[n], device, args, parts)
            results += r
            ratios += q
    payload = {
        "benchmark": "trainer_speed",
        "description": "Images/s, ours (DeviceLoader + fit) vs plain PyTorch (PIL + DataLoader + "
                       "textbook loop); ratio > 1 means ours is faster.",
        "command": " ".join(shlex.quote(a) for a in [sys.executable.split("/")[-1]] + sys.argv),
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "environment": environment(device),
        "results": results, "ratios": ratios, **extra,
    }
    write_results(args.out, payload)


if __name__ == "__main__":
    main()
