"""Time to produce one augmented epoch of CIFAR-10: our DeviceLoader against a DataLoader.

Both sides start from the same uint8 training images and produce normalised float
batches of 512 (random crop with 4 pixels of zero padding, random horizontal flip,
per-channel normalisation), shuffled, on the benchmark device:

* ``DeviceLoader``: the images live on the device; each batch is gathered, converted,
  cropped, flipped and normalised there as whole-batch tensor ops;
* ``DataLoader(wN)``: a torchvision-style ``Dataset`` of PIL images with
  ``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip``, ``ToTensor``, ``Normalize``,
  through ``torch.utils.data.DataLoader`` with N worker processes (pinned memory and a
  non-blocking copy to the device when that is a GPU).  Workers are started anew
  each epoch (PyTorch's default) unless ``--persistent-workers``.

No model runs: this is the input pipeline alone.  Rounds are interleaved (DeviceLoader,
DataLoader w0, DataLoader w2, DeviceLoader, ...).  Defaults finish in a few minutes on
a 2-core CPU:

    PYTHONPATH=. CNNREPORT_DATA=data .venv/bin/python bench/loader_speed.py \\
        --out bench/results/cpu/loader_speed.json
"""
from __future__ import annotations

import argparse
import shlex
import sys

import torch

from baseline import iterate_batches, make_dataloader, pil_transform
from common import add_common_args, environment, interleave, paired_ratio, setup, summarize, \
    timed_trial, write_results


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(p, trials=3)
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--workers", default="0,2", help="comma list of DataLoader worker counts")
    p.add_argument("--subset", type=int, default=20000,
                   help="use the first N training images (default 20,000; 0 = all 50,000)")
    p.add_argument("--persistent-workers", action="store_true",
                   help="keep DataLoader workers alive between epochs (excludes their start-up)")
    p.add_argument("--channels-last", action="store_true",
                   help="produce channels-last batches on both sides (what the trainer does on GPU)")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    device = setup(args)
    from cnnreport.core.data import NORMALIZATION, load_dataset
    from cnnreport.core.loader import DeviceLoader

    ds = load_dataset("cifar10")
    x, y = ds.x_train, ds.y_train  # (N, 32, 32, 3) uint8, (N,) int64
    if args.subset:
        x, y = x[:args.subset], y[:args.subset]  # the first N: CIFAR-10's order is already mixed
    mean, std = NORMALIZATION["cifar10"]
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    print(f"loader_speed: {len(y)} images, batch {args.batch_size}, device {device}, "
          f"threads {torch.get_num_threads()}, workers {workers}")

    ours = DeviceLoader(x, y, args.batch_size, mean=mean, std=std, augment=["crop", "flip"],
                        shuffle=True, seed=args.seed, device=device, channels_last=args.channels_last)

    contenders = {"DeviceLoader": lambda: timed_trial(lambda: iterate_batches(ours, device), device)}
    for w in workers:
        dl = make_dataloader(x, y, args.batch_size, pil_transform(mean, std, crop=True, flip=True),
                             w, device, shuffle=True, seed=args.seed,
                             persistent_workers=args.persistent_workers)

        contenders[f"DataLoader(w{w})"] = lambda dl=dl: timed_trial(
            lambda: iterate_batches(dl, device, args.channels_last), device)

    trials = interleave(contenders, args.trials, args.warmup, label="cifar10")
    wl = f"cifar10 epoch ({len(y)} img, bs {args.batch_size})"
    results = [summarize(wl, "loader", name, t,
                         notes="on-device batch ops" if name == "DeviceLoader" else
                         ("pinned" if device.type == "cuda" else "") +
                         (" persistent workers" if args.persistent_workers else ""))
               for name, t in trials.items()]
    for r in results:  # the full-epoch time these rates imply, for the headline question
        r["notes"] = (f"{50000 / r['images_per_sec']['mean']:.1f} s per 50k epoch; " + r["notes"]).strip("; ")
    ratios = [paired_ratio(wl, "loader", "DeviceLoader", name, trials["DeviceLoader"], t)
              for name, t in trials.items() if name != "DeviceLoader"]
    payload = {
        "benchmark": "loader_speed",
        "description": "Images/s of one augmented CIFAR-10 epoch (crop 4 + flip + normalise), "
                       "no model; ratio > 1 means DeviceLoader is faster.",
        "command": " ".join(shlex.quote(a) for a in [sys.executable.split("/")[-1]] + sys.argv),
        "settings": {"batch_size": args.batch_size, "images": len(y), "workers": workers,
                     "trials": args.trials, "warmup": args.warmup, "device": str(device),
                     "persistent_workers": args.persistent_workers,
                     "channels_last": args.channels_last},
        "environment": environment(device),
        "results": results,
        "ratios": ratios,
    }
    write_results(args.out, payload)


if __name__ == "__main__":
    main()
