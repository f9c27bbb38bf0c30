"""The one trainer: every experiment of the report is ``fit(config)``.

The step runs entirely on the device: metrics are accumulated in device tensors and
read once per epoch, so the GPU is never stalled waiting for the host.  On CUDA it uses
bf16 autocast (fp32 master weights), channels-last and cudnn autotuning; on the CPU the
same code runs in fp32.  Selection (best epoch, early stopping) looks only at the
validation split; the test set is evaluated once, on the selected weights, plus an
optional per-epoch test curve kept for plots and named so.
"""
from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import platform
import random
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import numpy as np
import torch

from . import data as D
from .components import OPTIMIZERS, build_loss, build_schedule
from .config import RunConfig
from .loader import DeviceLoader
from .models import count_params, get_model
from .store import HISTORY_KEYS, Result, ResultStore, atomic_write_bytes


class OutOfTime(RuntimeError):
    """Raised by :func:`fit` when the next epoch would end past its ``deadline``.

    The run's checkpoint holds every finished epoch, so calling ``fit`` again with the
    same config and store resumes where it stopped."""

    def __init__(self, key: str, epochs_done: int, epochs: int):
        super().__init__(f"run {key}: out of time after epoch {epochs_done} of {epochs}; "
                         f"checkpointed, the next call resumes")
        self.key, self.epochs_done, self.epochs = key, epochs_done, epochs


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} asked for, but CUDA is not available; use device='auto' or 'cpu'")
    return dev


def _autocast(device: torch.device, precision: str):
    bf16 = precision == "bf16" or (precision == "auto" and device.type == "cuda")
    if bf16:
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


def normalization(cfg: RunConfig, ds: D.Dataset):
    C = ds.image_shape[0]
    if cfg.normalization == "half":
        return (0.5,) * C, (0.5,) * C
    if ds.name in D.NORMALIZATION:
        return D.NORMALIZATION[ds.name]
    x = ds.x_train.reshape(len(ds.x_train), -1, C).astype(np.float64) / 255.0
    return tuple(x.mean((0, 1))), tuple(x.std((0, 1)))


def split_data(cfg: RunConfig, ds: D.Dataset):
    """(x, y) of train, validation and test after the seeded split and the subsets."""
    tr, va = D.stratified_split(ds.y_train, cfg.val_fraction, cfg.seed)
    tr = tr[D.subset_indices(ds.y_train[tr], cfg.train_subset, cfg.subset_mode, cfg.seed)]
    va = va[D.subset_indices(ds.y_train[va], cfg.val_subset, cfg.subset_mode, cfg.seed)]
    te = D.subset_indices(ds.y_test, cfg.test_subset, cfg.subset_mode, cfg.seed)
    return ((ds.x_train[tr], ds.y_train[tr]), (ds.x_train[va], ds.y_train[va]),
            (ds.x_test[te], ds.y_test[te]))


@torch.no_grad()
def evaluate(model, loader: DeviceLoader, loss_fn, num_classes: int, autocast, tta: bool = False):
    """Mean loss, accuracy and the confusion matrix (rows true, cols predicted)."""
    was_training = model.training
    model.eval()
    dev = loader.device
    loss_sum = torch.zeros((), device=dev)
    conf = torch.zeros(num_classes * num_classes, dtype=torch.long, device=dev)
    for x, y in loader:
        with autocast():
            z = model(x)
            if tta:
                z = 0.5 * (z + model(x.flip(3)))
        z = z.float()
        loss_sum += loss_fn(z, y) * len(y)
        conf += torch.bincount(y * num_classes + z.argmax(1), minlength=num_classes ** 2)
    model.train(was_training)
    conf = conf.view(num_classes, num_classes).cpu()
    n = int(conf.sum())
    return float(loss_sum) / max(1, n), float(conf.trace()) / max(1, n), conf


def _rng_state(device: torch.device) -> Dict[str, Any]:
    s = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if device.type == "cuda":
        s["cuda"] = torch.cuda.get_rng_state(device)
    return s


def _set_rng_state(s: Dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(s["torch"])
    np.random.set_state(s["numpy"])
    random.setstate(s["python"])
    if "cuda" in s and device.type == "cuda":
        torch.cuda.set_rng_state(s["cuda"], device)


def _write_csv(path: Path, history: Dict[str, list]) -> None:
    keys = [k for k in history if history[k]]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(keys)
    for row in zip(*(history[k] for k in keys)):
        w.writerow(row)
    atomic_write_bytes(path, buf.getvalue().encode())


def _tensorboard(logdir: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter  # needs the optional tensorboard package
    except Exception:
        return None
    return SummaryWriter(str(logdir))


def _pbar(total: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, disable=not enabled, leave=False, unit="step")


def fit(config, *, store: Optional[ResultStore] = None, progress: bool = True,
        save_weights: bool = False, data: Optional[D.Dataset] = None,
        step_callback: Optional[Callable[..., None]] = None,
        deadline: Optional[float] = None) -> Result:
    """Train one run as ``config`` says and return its :class:`Result`.

    With a ``store``, the result is saved there, checkpoints go to
    ``<store>/checkpoints/<key>/`` (and a run started again resumes from them), and the
    per-epoch CSV log to ``<store>/logs/<key>.csv``.

    ``step_callback(step, model, x, y, loss_fn, optimizer)``, if given, is called at every
    step before its forward pass, so it sees exactly the batch and weights that step
    uses; ``step`` is the 0-based index into ``result.steps["loss"]``.  Calling it before
    the forward also lets it change and restore weights in place without breaking the
    step's autograd graph.  A callback may alter training, so it cannot be combined with
    a ``store`` (the result would be saved under the plain config's key).

    ``deadline`` (a ``time.monotonic()`` value) bounds the call: before each epoch the
    trainer checks that one more epoch, at the pace of the epochs so far, ends in time;
    if not, it checkpoints (a store is then required) and raises :class:`OutOfTime`.
    """
    if deadline is not None and store is None:
        raise ValueError("fit: a deadline needs a store to checkpoint into")
    if step_callback is not None and store is not None:
        raise ValueError("fit: step_callback and store cannot be combined; store the callback's "
                         "results separately (see cnnreport.landscape)")
    cfg = RunConfig.from_dict(config)
    key = cfg.key()
    device = resolve_device(cfg.device)
    autocast = _autocast(device, cfg.precision)
    channels_last = device.type == "cuda" if cfg.channels_last is None else cfg.channels_last
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True

    ds = data if data is not None else D.load_dataset(cfg.dataset)
    (xtr, ytr), (xva, yva), (xte, yte) = split_data(cfg, ds)
    mean, std = normalization(cfg, ds)
    K = ds.num_classes
    mk = lambda x, y, bs, aug, shuf, seed: DeviceLoader(
        x, y, bs, mean=mean, std=std, augment=aug, shuffle=shuf, seed=seed, device=device,
        channels_last=channels_last)
    train_loader = mk(xtr, ytr, cfg.batch_size, cfg.augment, True, cfg.seed)
    val_loader = mk(xva, yva, cfg.eval_batch_size, (), False, 0) if len(yva) else None
    test_loader = mk(xte, yte, cfg.eval_batch_size, (), False, 0)

    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed % 2 ** 32)
    random.seed(cfg.seed)
    model = get_model(cfg.model, num_classes=K, in_channels=ds.image_shape[0], **cfg.model_args).to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    n_params = count_params(model)
    opt_kw = {"lr": cfg.lr, "weight_decay": cfg.weight_decay}
    if cfg.optimizer == "sgd":
        opt_kw.update(momentum=cfg.momentum, nesterov=cfg.nesterov)
    opt = OPTIMIZERS.build(cfg.optimizer, model.parameters(), **opt_kw)
    steps_per_epoch = len(train_loader)
    sched = build_schedule(cfg.schedule, opt, cfg.lr, cfg.epochs, steps_per_epoch, **cfg.schedule_args)
    loss_fn = build_loss(cfg.loss, **cfg.loss_args)
    step_model = torch.compile(model) if cfg.compile else model

    hist: Dict[str, list] = {k: [] for k in HISTORY_KEYS}
    steps: Dict[str, list] = {"loss": [], "lr": []}
    state = {"epoch": 0, "best_val": -1.0, "best_epoch": None, "bad": 0, "chance_epochs": 0,
             "best_state": None, "train_time": 0.0}
    ckpt_dir = store.checkpoint_dir(key) if store is not None else None
    ckpt = ckpt_dir / "last.pt" if ckpt_dir is not None else None
    if ckpt is not None and ckpt.is_file():
        saved = torch.load(ckpt, map_location=device, weights_only=False)
        if saved.get("key") == key:
            model.load_state_dict(saved["model"])
            opt.load_state_dict(saved["optimizer"])
            sched.load_state_dict(saved["schedule"])
            hist, steps, state = saved["history"], saved["steps"], saved["state"]
            _set_rng_state(saved["rng"], device)
    tb = _tensorboard(store.log_dir() / key) if store is not None else None

    def save_checkpoint() -> None:
        buf = io.BytesIO()
        torch.save({"key": key, "model": model.state_dict(), "optimizer": opt.state_dict(),
                    "schedule": sched.state_dict(), "history": hist, "steps": steps,
                    "state": state, "rng": _rng_state(device)}, buf)
        atomic_write_bytes(ckpt, buf.getvalue())

    status, reason, diverged_step, early = "ok", "", None, False
    epoch_walls: list = []  # seconds per epoch in this call, training and evaluation
    t_start = time.perf_counter()
    bar = _pbar(cfg.epochs * steps_per_epoch, f"{cfg.name or cfg.model}", progress)
    bar.update(state["epoch"] * steps_per_epoch)
    model.train()
    for epoch in range(state["epoch"], cfg.epochs):
        if deadline is not None and epoch_walls and \
                time.monotonic() + sum(epoch_walls) / len(epoch_walls) > deadline:
            bar.close()
            save_checkpoint()
            raise OutOfTime(key, epoch, cfg.epochs)
        t_wall = time.monotonic()
        train_loader.set_epoch(epoch)
        step_loss = torch.full((steps_per_epoch,), float("nan"), device=device)
        correct = torch.zeros((), dtype=torch.long, device=device)
        seen, lrs = 0, []
        t0 = time.perf_counter()
        for i, (x, y) in enumerate(train_loader):
            lrs.append(opt.param_groups[0]["lr"])
            if step_callback is not None:
                step_callback(epoch * steps_per_epoch + i, model, x, y, loss_fn, opt)
            with autocast():
                out = step_model(x)
            loss = loss_fn(out.float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            sched.step_batch()
            step_loss[i] = loss.detach()
            correct += (out.detach().argmax(1) == y).sum()
            seen += len(y)
            bar.update(1)
            # One host sync every 50 steps is enough to stop a run that has blown up.
            if (i + 1) % 50 == 0 and not bool(torch.isfinite(step_loss[i])):
                break
        sched.step_epoch()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        dt = time.perf_counter() - t0
        state["train_time"] += dt
        sl = step_loss[: len(lrs)].cpu()
        base = epoch * steps_per_epoch
        steps["loss"] += [round(float(v), 6) for v in sl]
        steps["lr"] += lrs
        bad_steps = torch.nonzero(~torch.isfinite(sl)).flatten()
        train_loss, train_acc = float(sl.mean()), int(correct) / max(1, seen)
        hist["epoch"].append(epoch + 1)
        hist["train_loss"].append(train_loss)
        hist["train_acc"].append(train_acc)
        hist["lr"].append(lrs[0])
        hist["epoch_time"].append(dt)
        hist["images_per_sec"].append(seen / dt)
        if len(bad_steps):
            status, diverged_step = "diverged", base + int(bad_steps[0]) + 1
            reason = f"non-finite training loss at step {diverged_step} (epoch {epoch + 1})"
            state["epoch"] = epoch + 1
            break
        do_eval = (epoch + 1) % cfg.eval_every == 0 or epoch + 1 == cfg.epochs
        if do_eval and val_loader is not None:
            vl, va, _ = evaluate(model, val_loader, loss_fn, K, autocast, cfg.tta)
        else:
            vl, va = float("nan"), float("nan")
        hist["val_loss"].append(vl)
        hist["val_acc"].append(va)
        tl_e, ta_e = (evaluate(model, test_loader, loss_fn, K, autocast, cfg.tta)[:2] if do_eval
                      else (float("nan"), float("nan")))
        hist["test_loss_curve"].append(tl_e)
        hist["test_acc_curve"].append(ta_e)
        if do_eval:
            score = va if val_loader is not None else float(epoch)  # no val split: keep the last
            if score > state["best_val"]:
                state.update(best_val=score, best_epoch=epoch + 1, bad=0,
                             best_state={k: v.detach().clone() for k, v in model.state_dict().items()})
            else:
                state["bad"] += 1
        # A run stuck at chance (loss ~ ln K, accuracy ~ 1/K) has diverged without NaNs,
        # as report 002's Adam at lr 0.01 did.
        at_chance = train_acc <= 1.5 / K and train_loss >= 0.98 * math.log(K)
        state["chance_epochs"] = state["chance_epochs"] + 1 if at_chance else 0
        state["epoch"] = epoch + 1
        bar.set_postfix(epoch=epoch + 1, loss=f"{train_loss:.3f}", acc=f"{train_acc:.3f}",
                        val=f"{va:.3f}")
        if tb is not None:
            for k in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
                tb.add_scalar(k, hist[k][-1], epoch + 1)
        if store is not None:
            _write_csv(store.log_dir() / f"{key}.csv", hist)
        if cfg.divergence_patience and state["chance_epochs"] >= cfg.divergence_patience:
            status = "diverged"
            reason = (f"stuck at chance for {state['chance_epochs']} epochs (train loss "
                      f"{train_loss:.3f} ~ ln {K} = {math.log(K):.3f}, accuracy {100 * train_acc:.1f}%)")
            break
        if cfg.early_stopping and state["bad"] >= cfg.early_stopping:
            early = True
            reason = f"early stop: no better validation accuracy for {cfg.early_stopping} epochs"
            break
        if ckpt is not None and cfg.checkpoint_every and (epoch + 1) % cfg.checkpoint_every == 0 \
                and epoch + 1 < cfg.epochs:
            save_checkpoint()
        epoch_walls.append(time.monotonic() - t_wall)
    bar.close()
    if tb is not None:
        tb.close()

    res = Result(key=key, config=cfg.to_dict(), status=status, reason=reason, history=hist,
                 steps=steps, stopped_epoch=state["epoch"], early_stopped=early,
                 diverged_step=diverged_step, classes=list(ds.classes), num_params=n_params,
                 n_train=len(ytr), n_val=len(yva), n_test=len(yte))
    finite = [i for i, v in enumerate(hist["test_acc_curve"]) if v == v]
    if status == "ok" and finite:
        res.final_test_loss = hist["test_loss_curve"][finite[-1]]
        res.final_test_acc = hist["test_acc_curve"][finite[-1]]
    if status == "ok" and state["best_state"] is not None:
        model.load_state_dict(state["best_state"])
        res.best_epoch = state["best_epoch"]
        tl, ta, conf = evaluate(model, test_loader, loss_fn, K, autocast, cfg.tta)
        res.test_loss, res.test_acc = tl, ta
        res.confusion = conf.tolist()
        rows = conf.sum(1).clamp(min=1)
        res.per_class_acc = (conf.diag().double() / rows).tolist()
    first = next((m for m in model.modules() if isinstance(m, torch.nn.Conv2d)), None)
    if first is not None and first.weight.numel() <= 20_000:  # small enough to keep in the JSON
        res.first_conv = torch.round(first.weight.detach().float().cpu(), decimals=5).tolist()
    res.train_time = state["train_time"]
    res.total_time = time.perf_counter() - t_start
    res.environment = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "device_type": device.type, "torch": torch.__version__, "cuda": torch.version.cuda,
        "precision": "bf16" if autocast is not contextlib.nullcontext else "fp32",
        "channels_last": channels_last, "compile": cfg.compile, "threads": torch.get_num_threads(),
    }
    if store is not None:
        if save_weights and state["best_state"] is not None:
            buf = io.BytesIO()
            torch.save(state["best_state"], buf)
            atomic_write_bytes(store.weights_path(key), buf.getvalue())
        store.put(res)
        if ckpt is not None and ckpt.exists():
            ckpt.unlink()
            with contextlib.suppress(OSError):
                ckpt_dir.rmdir()
    return res
