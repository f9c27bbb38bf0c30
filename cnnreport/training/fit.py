"""The one trainer: every experiment of the report is ``fit(config)``.

:func:`fit` only orchestrates: :mod:`.setup` builds the run, :mod:`.loop` trains and
evaluates an epoch, :mod:`.policy` decides what to keep and when to stop, and
:mod:`.callbacks` do everything around (checkpoints, logs, progress, probes).  Selection
looks only at the validation split; the test set is evaluated once on the selected
weights, plus a per-epoch test curve kept for plots and named so.
"""
from __future__ import annotations

import contextlib
import io
import platform
import time
from typing import Callable, List, Optional, Sequence

import torch

from ..core import data as D
from ..core.config import RunConfig
from ..core.cache import atomic_write_bytes
from ..core.store import Result, ResultStore
from .callbacks import Callback, Checkpoint, CsvLog, ProgressBar, StepProbe, TensorBoardLog, overrides
from ..core.hardware import cpu_flags
from ..core.locks import run_lock
from .loop import EpochStats, TrainState, evaluate_split, train_epoch
from .policy import DIVERGED, EARLY_STOP, OK, Policy, first_nonfinite
from .setup import build_setup, resolve_device, run_scope


def fit(config, *, store: Optional[ResultStore] = None, progress: bool = True,
        save_weights: bool = False, data: Optional[D.Dataset] = None,
        step_callback: Optional[Callable[..., None]] = None, deadline: Optional[float] = None,
        callbacks: Sequence[Callback] = ()) -> Result:
    """Train one run as ``config`` (a :class:`RunConfig` or a dict) says; return its Result.

    With a ``store``, the result is saved there, checkpoints go to
    ``<store>/checkpoints/<key>/`` (a run started again resumes from them), the per-epoch
    CSV log to ``<store>/logs/<key>.csv``.  ``callbacks`` add hooks (see
    :class:`Callback`); ``step_callback(step, model, x, y, loss_fn, optimizer)`` is short
    for ``callbacks=[StepProbe(step_callback)]``.  A callback that may alter training
    cannot be combined with a store.  ``deadline`` (a ``time.monotonic()`` value): before
    each epoch, if one more would end past it, checkpoint and raise :class:`OutOfTime`.
    The caller's RNG states and ``cudnn.benchmark`` are the same after the call.
    """
    extra = list(callbacks) + ([StepProbe(step_callback)] if step_callback is not None else [])
    if deadline is not None and store is None:
        raise ValueError("fit: a deadline needs a store to checkpoint into")
    if store is not None and not all(cb.observes_only for cb in extra):
        raise ValueError("fit: a callback that may alter training (step_callback) cannot be combined with "
                         "a store; store the callback's results separately (see cnnreport.core.landscape)")
    cfg = config if isinstance(config, RunConfig) else RunConfig.from_dict(config)
    device = resolve_device(cfg.device)
    # One trainer per stored run: a second process gets RunLocked (see cnnreport.core.locks).
    lock = run_lock(store.root, cfg.key()) if store is not None else contextlib.nullcontext()
    with lock, run_scope(device):
        setup = build_setup(cfg, data if data is not None else D.load_dataset(cfg.dataset), device)
        ts = TrainState(setup)
        logs = [Checkpoint(store, deadline), CsvLog(store), TensorBoardLog(store)] if store is not None else []
        cbs = [*logs[:1], ProgressBar(progress), *logs[1:], *extra]  # resume before the bar counts
        try:
            for cb in cbs:
                cb.on_fit_start(ts)
            t_start = time.perf_counter()
            _train(ts, cbs)
            res = _result(ts, total_start=t_start)
            if store is not None:
                _store(store, res, ts, save_weights)
            for cb in cbs:
                cb.on_fit_end(ts, res)
        finally:
            for cb in cbs:
                cb.close()
    return res


def _train(ts: TrainState, cbs: List[Callback]) -> None:
    """The epochs still to run, until the last or until the policy stops the run."""
    s, cfg = ts.setup, ts.setup.cfg
    policy = Policy(s.num_classes, cfg.early_stopping, cfg.divergence_patience)
    step_hooks = [cb for cb in cbs if overrides(cb, "on_step")]
    for epoch in range(ts.epoch, cfg.epochs):
        for cb in cbs:
            cb.on_epoch_start(ts, epoch)
        stats = train_epoch(ts, epoch, step_hooks)
        _record_training(ts, epoch, stats)
        bad = first_nonfinite(stats.step_losses)
        if bad is not None:
            ts.status, ts.diverged_step = DIVERGED, epoch * s.steps_per_epoch + bad + 1
            ts.reason = f"non-finite training loss at step {ts.diverged_step} (epoch {epoch + 1})"
            ts.epoch = epoch + 1
            return
        evaluated = (epoch + 1) % cfg.eval_every == 0 or epoch + 1 == cfg.epochs
        nan = float("nan")
        vl, va = evaluate_split(s, s.val_loader)[:2] if evaluated and s.val_loader is not None else (nan, nan)
        tl, ta = evaluate_split(s, s.test_loader)[:2] if evaluated else (nan, nan)
        for k, v in (("val_loss", vl), ("val_acc", va), ("test_loss_curve", tl), ("test_acc_curve", ta)):
            ts.history[k].append(v)
        d = policy.end_of_epoch(ts.policy, epoch, stats.train_loss, stats.train_acc, evaluated,
                                va if s.val_loader is not None else None)
        if d.improved:
            ts.best_state = {k: v.detach().clone() for k, v in s.model.state_dict().items()}
        ts.epoch = epoch + 1
        for cb in cbs:
            cb.on_epoch_end(ts, epoch, d.stop != OK)
        if d.stop != OK:
            ts.status = DIVERGED if d.stop == DIVERGED else ts.status
            ts.early_stopped, ts.reason = d.stop == EARLY_STOP, d.reason
            return


def _record_training(ts: TrainState, epoch: int, st: EpochStats) -> None:
    ts.train_time += st.seconds
    ts.steps["loss"] += [round(v, 6) for v in st.step_losses]
    ts.steps["lr"] += st.lrs
    h = ts.history
    for k, v in (("epoch", epoch + 1), ("train_loss", st.train_loss), ("train_acc", st.train_acc),
                 ("lr", st.lrs[0]), ("epoch_time", st.seconds), ("images_per_sec", st.images / st.seconds)):
        h[k].append(v)


def _per_class(conf) -> list:
    """Per-class accuracy from a (K, K) confusion matrix (rows: true class)."""
    return (conf.diag().double() / conf.sum(1).clamp(min=1)).tolist()


def _result(ts: TrainState, total_start: float) -> Result:
    """The run's Result: the selected weights' test evaluation, filters, environment."""
    s, cfg, h = ts.setup, ts.setup.cfg, ts.history
    res = Result(key=s.key, config=cfg.to_dict(), status=ts.status, reason=ts.reason, history=h,
                 steps=ts.steps, stopped_epoch=ts.epoch, early_stopped=ts.early_stopped,
                 diverged_step=ts.diverged_step, classes=list(s.dataset.classes), num_params=s.num_params,
                 n_train=s.train_loader.num_samples, n_val=s.val_loader.num_samples if s.val_loader else 0,
                 n_test=s.test_loader.num_samples)
    finite = [i for i, v in enumerate(h["test_acc_curve"]) if v == v]
    if ts.status == OK and finite:
        res.final_test_loss, res.final_test_acc = h["test_loss_curve"][finite[-1]], h["test_acc_curve"][finite[-1]]
    if ts.status == OK and ts.best_state is not None:
        # The last epoch's weights first (a report that reads its final model, as report 000's
        # code does, reads these), then the selected ones; one evaluation when they are the same.
        final = None if ts.policy.best_epoch != ts.epoch else "same"
        if final is None:
            final = evaluate_split(s, s.test_loader)[2]
        s.model.load_state_dict(ts.best_state)
        res.best_epoch = ts.policy.best_epoch
        res.test_loss, res.test_acc, conf = evaluate_split(s, s.test_loader)  # conf (K, K)
        res.confusion = conf.tolist()
        res.per_class_acc = _per_class(conf)
        final = conf if isinstance(final, str) else final
        res.final_confusion, res.final_per_class_acc = final.tolist(), _per_class(final)
    first = next((m for m in s.model.modules() if isinstance(m, torch.nn.Conv2d)), None)
    if first is not None and first.weight.numel() <= 20_000:  # small enough to keep in the JSON
        res.first_conv = torch.round(first.weight.detach().float().cpu(), decimals=5).tolist()  # (O, C, k, k)
    res.train_time, res.total_time = ts.train_time, time.perf_counter() - total_start
    dev = s.device
    res.environment = {
        "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else platform.processor() or "cpu",
        "device_type": dev.type, "torch": torch.__version__, "cuda": torch.version.cuda,
        "precision": "bf16" if s.bf16 else "fp32", "channels_last": s.channels_last,
        "compile": cfg.compile, "threads": torch.get_num_threads(),
    }
    if dev.type == "cpu":
        res.environment["cpu_flags"] = cpu_flags()
    if s.compile_failed:
        res.environment["compile_failed"] = s.compile_failed
    return res


def _store(store: ResultStore, res: Result, ts: TrainState, save_weights: bool) -> None:
    if save_weights and ts.best_state is not None:
        buf = io.BytesIO()
        torch.save(ts.best_state, buf)
        atomic_write_bytes(store.weights_path(res.key), buf.getvalue())
    store.put(res)
