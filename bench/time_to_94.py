"""Time to 94% CIFAR-10 test accuracy (GPU only): our trainer, and airbench as a contender.

*Ours* is ``cnnreport.training.fit`` with ResNet-9 and a strong recipe built only from
the project's components: SGD with Nesterov momentum, one-cycle learning rate, label
smoothing 0.2, random crop + flip + an 8x8 erased square, flip test-time augmentation,
bf16 autocast and channels-last, on all 50,000 training images (``val_fraction=0``:
like airbench, there is no model selection, the last epoch is tested).  The recipe
follows the well-known ResNet-9 DAWNBench baseline (24 epochs at batch 512); it was
written without a GPU to tune it on, so ``--epochs`` and ``--lr`` are flags.

*airbench* is ``airbench.train94`` from ``pip install --no-deps airbench==0.1.8``.
It reads ``cifar10/train.pt`` and ``cifar10/test.pt`` from the working directory and
would download CIFAR-10 when they are missing; :func:`write_airbench_data` writes them
from our own copy of the data into a temporary folder, and the runs happen there.

Both are timed wall-clock around the whole run with CUDA synchronisation: for ours,
``fit`` from config to result (data upload, training, final TTA evaluation); for
airbench, building its loader (data upload), ``train94`` and its TTA evaluation.
"""
from __future__ import annotations

import contextlib
import math
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional

import torch

from common import timed

AIRBENCH_HINT = "pip install --no-deps airbench==0.1.8"
TARGET = 0.94


def gpu_problem() -> Optional[str]:
    """Why the time-to-94 runs cannot happen here, or None."""
    if not torch.cuda.is_available():
        return "time-to-94 and the airbench contender need a CUDA GPU; none is available here"
    return None


def airbench_problem() -> Optional[str]:
    """Why airbench cannot run here (not installed, no GPU), or None."""
    problem = gpu_problem()
    if problem:
        return problem
    try:
        import airbench  # noqa: F401  (only checking that it is installed)
    except ImportError as e:
        return f"airbench is not installed ({e}); install it with: {AIRBENCH_HINT}"
    return None


def tt94_config(epochs: int = 24, lr: float = 0.2, batch_size: int = 512, seed: int = 0,
                compile: bool = False) -> Dict[str, Any]:
    """Our ResNet-9 recipe for 94%, as a run config."""
    cutout = {"name": "erasing", "p": 1.0, "scale": [0.0625, 0.0625], "ratio": [1.0, 1.0]}  # 8x8 of 32x32
    return {
        "dataset": "cifar10", "val_fraction": 0.0, "model": "resnet9",
        "augment": ["crop", "flip", cutout],
        "epochs": epochs, "batch_size": batch_size,
        "optimizer": "sgd", "lr": lr, "momentum": 0.9, "nesterov": True, "weight_decay": 5e-4,
        "schedule": "onecycle", "schedule_args": {"pct_start": 0.25},
        "loss": "cross_entropy", "loss_args": {"label_smoothing": 0.2},
        "tta": True, "divergence_patience": 0,
        "device": "cuda", "precision": "bf16", "channels_last": True, "compile": compile,
        "checkpoint_every": 0, "seed": seed, "name": "resnet9-tt94",
    }


def run_ours(ds, device: torch.device, seed: int, epochs: int, lr: float, compile: bool) -> Dict[str, Any]:
    """One timed ``fit`` of the recipe; returns a trial dict (seconds = wall, images = trained)."""
    from cnnreport.training import fit

    cfg = tt94_config(epochs=epochs, lr=lr, seed=seed, compile=compile)
    seconds, res = timed(lambda: fit(cfg, data=ds, progress=False), device)
    return {"seconds": seconds, "images": res.n_train * epochs, "test_acc": res.test_acc,
            "train_time": res.train_time, "status": res.status, "seed": seed,
            "images_per_sec_per_epoch": res.history["images_per_sec"]}


def write_airbench_data(ds, workdir: Path) -> Path:
    """Write ``workdir/cifar10/{train,test}.pt`` in airbench's layout from our arrays:
    dicts of uint8 ``images`` (N, 32, 32, 3), int64 ``labels`` and ``classes``."""
    folder = Path(workdir) / "cifar10"
    folder.mkdir(parents=True, exist_ok=True)
    for split, x, y in (("train", ds.x_train, ds.y_train), ("test", ds.x_test, ds.y_test)):
        torch.save({"images": torch.from_numpy(x).contiguous(),  # (N, 32, 32, 3) uint8
                    "labels": torch.from_numpy(y).long(),  # (N,)
                    "classes": list(ds.classes)}, folder / f"{split}.pt")
    return folder


def run_airbench(workdir: Path, device: torch.device, seed: int) -> Dict[str, Any]:
    """One timed airbench94 run inside ``workdir``; returns a trial dict."""
    import airbench
    from airbench.lib_airbench94 import hyp

    torch.manual_seed(seed)
    with contextlib.chdir(workdir):  # airbench opens 'cifar10/...' relative to the cwd
        t_load, loader = timed(lambda: airbench.CifarLoader(
            "cifar10", train=True, batch_size=hyp["opt"]["batch_size"], aug=hyp["aug"],
            altflip=True), device)
        t_train, model = timed(lambda: airbench.train94(loader, verbose=False), device)
        test_loader = airbench.CifarLoader("cifar10", train=False, batch_size=2000)
        t_eval, acc = timed(lambda: airbench.evaluate(model, test_loader,
                                                      tta_level=hyp["net"]["tta_level"]), device)
    steps = math.ceil(len(loader) * hyp["opt"]["train_epochs"])
    return {"seconds": t_load + t_train + t_eval, "images": steps * loader.batch_size,
            "test_acc": acc, "train_time": t_train, "load_time": t_load, "eval_time": t_eval,
            "seed": seed}


def tt94_rows(trials: Dict[str, list]):
    """Result rows (accuracy in the notes) for :func:`common.write_results`."""
    from common import mean_std, summarize

    rows = []
    for name, ts in trials.items():
        acc = mean_std([100 * t["test_acc"] for t in ts])
        hit = sum(t["test_acc"] >= TARGET for t in ts)
        train = mean_std([t["train_time"] for t in ts])
        rows.append(summarize("cifar10 time-to-94", "end-to-end", name, ts,
                              notes=f"test acc {acc['mean']:.2f} ± {acc['std']:.2f}% "
                                    f"({hit}/{len(ts)} ≥ 94%); train loop "
                                    f"{train['mean']:.1f} ± {train['std']:.1f} s",
                              test_acc=acc, reached=hit))
    return rows


def airbench_workdir(ds):
    """A temporary working directory holding airbench's data files, removed on exit."""
    tmp = tempfile.TemporaryDirectory(prefix="airbench-")
    write_airbench_data(ds, Path(tmp.name))
    return tmp
